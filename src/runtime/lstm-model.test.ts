// keras_lstm end to end: a Keras LSTM(32) over [batch, 5, 3] then Dense(1, sigmoid), saved by TF 2.12
// as a StatelessWhile over TensorLists. The output is checked against an LSTM computed here in plain
// loops from the checkpoint weights.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import { Code, ServingError } from "../errors.js";
import { readBundle } from "../savedmodel/bundle/index.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { loadServable } from "./servable.js";

const DIR = savedModelFixture("keras_lstm");
const UNITS = 32;
const STEPS = 5;
const FEATURES = 3;

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

interface Weights {
  /** [in, 4u], gates i, f, c, o. */
  readonly kernel: Float32Array;
  /** [u, 4u]. */
  readonly recurrent: Float32Array;
  /** [4u]. */
  readonly bias: Float32Array;
  /** Dense [u, 1] and [1]. */
  readonly denseKernel: Float32Array;
  readonly denseBias: Float32Array;
}

async function weights(): Promise<Weights> {
  const bundle = await readBundle(`${DIR}/variables/variables`);
  const get = (key: string, shape: number[]): Float32Array => {
    const t = bundle.get(key);
    assert.ok(t, `checkpoint has ${key}`);
    assert.deepEqual(t.shape, shape, key);
    return t.values as Float32Array;
  };
  // The model's own variables (the optimizer slots have the same shapes under optimizer/).
  return {
    kernel: get("variables/0/.ATTRIBUTES/VARIABLE_VALUE", [FEATURES, 4 * UNITS]),
    recurrent: get("variables/1/.ATTRIBUTES/VARIABLE_VALUE", [UNITS, 4 * UNITS]),
    bias: get("variables/2/.ATTRIBUTES/VARIABLE_VALUE", [4 * UNITS]),
    denseKernel: get("layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", [UNITS, 1]),
    denseBias: get("layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE", [1]),
  };
}

/** LSTM(return_sequences=False) then Dense(1, sigmoid), in float64 loops. x: [batch, steps, features]. */
function reference(w: Weights, x: Float32Array, batch: number, steps: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    let h = new Float64Array(UNITS);
    let c = new Float64Array(UNITS);
    for (let t = 0; t < steps; t++) {
      const z = new Float64Array(4 * UNITS);
      for (let j = 0; j < 4 * UNITS; j++) {
        let sum = w.bias[j]!;
        for (let k = 0; k < FEATURES; k++)
          sum += x[(b * steps + t) * FEATURES + k]! * w.kernel[k * 4 * UNITS + j]!;
        for (let k = 0; k < UNITS; k++) sum += h[k]! * w.recurrent[k * 4 * UNITS + j]!;
        z[j] = sum;
      }
      const nextH = new Float64Array(UNITS);
      const nextC = new Float64Array(UNITS);
      for (let u = 0; u < UNITS; u++) {
        const i = sigmoid(z[u]!);
        const f = sigmoid(z[UNITS + u]!);
        const g = Math.tanh(z[2 * UNITS + u]!);
        const o = sigmoid(z[3 * UNITS + u]!);
        nextC[u] = f * c[u]! + i * g;
        nextH[u] = o * Math.tanh(nextC[u]!);
      }
      h = nextH;
      c = nextC;
    }
    let y = w.denseBias[0]!;
    for (let u = 0; u < UNITS; u++) y += h[u]! * w.denseKernel[u]!;
    out.push(sigmoid(y));
  }
  return out;
}

const input = (batch: number, steps: number, seed: number): Tensor =>
  new Tensor(
    DataType.DT_FLOAT,
    [batch, steps, FEATURES],
    Float32Array.from({ length: batch * steps * FEATURES }, (_, i) => Math.sin(seed + i * 0.7) * 1.5),
  );

function assertClose(actual: Tensor | undefined, expected: number[], what: string): void {
  assert.ok(actual, `${what}: output present`);
  assert.equal(actual.dtype, DataType.DT_FLOAT, `${what}: dtype`);
  assert.deepEqual(actual.shape, [expected.length, 1], `${what}: shape`);
  const values = Array.from(actual.values as Float32Array);
  for (const [i, e] of expected.entries()) {
    assert.ok(Math.abs(values[i]! - e) <= 1e-4, `${what}[${i}]: ${values[i]} vs reference ${e}`);
  }
}

describe("keras_lstm (StatelessWhile over TensorLists)", needsFixtures, () => {
  it("serving_default matches a reference LSTM computed from the checkpoint", async () => {
    const w = await weights();
    const servable = await loadServable(DIR);
    try {
      const runner = servable.signatures.get("serving_default");
      assert.ok(runner);
      const x = input(2, STEPS, 0);
      const out = await runner.run(new Map([["input_1", x]]));
      assertClose(out.get("dense"), reference(w, x.values as Float32Array, 2, STEPS), "batch of 2");
      // The loop runs as many iterations as the input has steps, and the batch may change per request.
      const longer = input(3, 9, 1);
      const out9 = await runner.run(new Map([["input_1", longer]]));
      assertClose(
        out9.get("dense"),
        reference(w, longer.values as Float32Array, 3, 9),
        "3 sequences of 9 steps",
      );
      const one = input(1, 1, 2);
      const out1 = await runner.run(new Map([["input_1", one]]));
      assertClose(out1.get("dense"), reference(w, one.values as Float32Array, 1, 1), "one step");
    } finally {
      await servable.close();
    }
  });

  it("concurrent requests keep their loop state apart", async () => {
    const w = await weights();
    const servable = await loadServable(DIR);
    try {
      const runner = servable.signatures.get("serving_default");
      assert.ok(runner);
      const inputs = [input(2, STEPS, 3), input(4, STEPS, 4), input(1, 7, 5)];
      const outs = await Promise.all(inputs.map((x) => runner.run(new Map([["input_1", x]]))));
      outs.forEach((out, i) => {
        const x = inputs[i]!;
        assertClose(
          out.get("dense"),
          reference(w, x.values as Float32Array, x.shape[0]!, x.shape[1]!),
          `request ${i}`,
        );
      });
    } finally {
      await servable.close();
    }
  });

  it("a bad input shape is INVALID_ARGUMENT, not a crash", async () => {
    const servable = await loadServable(DIR);
    try {
      const runner = servable.signatures.get("serving_default");
      assert.ok(runner);
      const bad = new Tensor(DataType.DT_FLOAT, [2, 5, 4], new Float32Array(40));
      await assert.rejects(
        runner.run(new Map([["input_1", bad]])),
        (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT,
      );
    } finally {
      await servable.close();
    }
  });
});
