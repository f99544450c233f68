// Real Keras SavedModels (../shared/fixtures/savedmodels) run end to end, every output checked against
// a plain-loop reference computed here from the checkpoint weights.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import {
  type Arr,
  arr,
  assertClose,
  assertSignatureKeys,
  biasAct,
  concatColumns,
  conv2d,
  dense,
  floats,
  pseudoRandom,
  readVariables,
  relu,
  reshape,
  runSignature,
  sigmoid,
  softmax,
  variable,
  withServable,
} from "../../test/reference.js";
import { Code, ServingError } from "../errors.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import { DataType } from "../tensor/dtype.js";
import { readNpy } from "../tensor/npy.js";
import { Tensor } from "../tensor/tensor.js";

const VALUE = "/.ATTRIBUTES/VARIABLE_VALUE";

describe("real Keras SavedModels against reference computations", needsFixtures, () => {
  it("keras_two_input_mlp: both inputs through the shared Dense(3, relu), concat, Dense(1, sigmoid)", async () => {
    const model = "keras_two_input_mlp";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    // The shared sub-model's Dense is tracked as trainable_variables/0,1; the head is layer_with_weights-1.
    const kernel = variable(vars, `trainable_variables/0${VALUE}`);
    const bias = variable(vars, `trainable_variables/1${VALUE}`);
    const outKernel = variable(vars, `layer_with_weights-1/kernel${VALUE}`);
    const outBias = variable(vars, `layer_with_weights-1/bias${VALUE}`);
    assert.deepEqual(
      [kernel.shape, bias.shape, outKernel.shape],
      [[5, 3], [3], [6, 1]],
      `${model}: weight shapes`,
    );
    const reference = (a: Arr, b: Arr) =>
      dense(
        concatColumns([dense(a, kernel, bias, relu), dense(b, kernel, bias, relu)]),
        outKernel,
        outBias,
        sigmoid,
      );
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], model);
      for (const n of [1, 4]) {
        const a = pseudoRandom(n * 5, 11 + n, -2, 2);
        const b = pseudoRandom(n * 5, 23 + n, -2, 2);
        const out = await runSignature(servable, "serving_default", {
          test_in1: floats([n, 5], a),
          test_in2: floats([n, 5], b),
        });
        assertClose(
          out.get("test_out"),
          reference(arr([n, 5], a), arr([n, 5], b)),
          `${model} serving_default test_out batch ${n}`,
        );
      }
      // Swapping the inputs swaps the halves of the concat: a different result unless the head is symmetric.
      const a = arr([1, 5], [1, 2, 3, 4, 5]);
      const b = arr([1, 5], [-1, 0, 0.5, 0, 2]);
      const swapped = await runSignature(servable, "serving_default", {
        test_in1: floats([1, 5], b.data),
        test_in2: floats([1, 5], a.data),
      });
      assertClose(
        swapped.get("test_out"),
        reference(b, a),
        `${model} serving_default test_out, inputs swapped`,
      );
    });
  });

  describe("keras_conv1d_three_outputs: sum over time, min-max normalise (NaN → 0), concat [x,x] → [96,2], Conv1D(16, k3, stride 8, SAME) + relu", () => {
    const model = "keras_conv1d_three_outputs";
    const dir = savedModelFixture(model);
    const OUTPUTS = ["output_0", "output_1", "output_2"];
    // Batch 3 with 2 steps: small integers (exact sums); row 1 is constant, so max == min → 0/0 = NaN → 0.
    const CONSTANT_ROW = 1;
    const cases = [
      {
        n: 3,
        t: 2,
        input: Array.from({ length: 3 * 2 * 96 }, (_, i) =>
          Math.floor(i / 192) === CONSTANT_ROW ? 2 : ((i * 7) % 11) - 5,
        ),
      },
      // Batch 1: the axis-less Squeeze drops the batch dimension mid-graph.
      { n: 1, t: 3, input: pseudoRandom(3 * 96, 5, -1, 1) },
      { n: 2, t: 1, input: pseudoRandom(2 * 96, 9, 0, 10) },
    ];
    const weights = async () => {
      const vars = await readVariables(dir);
      return {
        kernel: variable(vars, `encoder/conv/kernel${VALUE}`),
        bias: variable(vars, `encoder/conv/bias${VALUE}`),
      };
    };
    const reference = (kernel: Arr, bias: Arr, input: number[], n: number, t: number): Arr => {
      const rows: number[] = [];
      for (let b = 0; b < n; b++) {
        // Sum over the time axis (-2), then (s - min) / (max - min) over the 96 features, NaN → 0.
        const s = Array.from({ length: 96 }, (_, k) => {
          let sum = 0;
          for (let i = 0; i < t; i++) sum += input[(b * t + i) * 96 + k]!;
          return sum;
        });
        const min = Math.min(...s);
        const max = Math.max(...s);
        const normalised = s.map((v) => {
          const q = (v - min) / (max - min);
          return Number.isNaN(q) ? 0 : q;
        });
        // concat([x, x], -1) is 192 values, read back as [96, 2] row-major.
        rows.push(...normalised, ...normalised);
      }
      // Conv1D is Conv2D on [N, 1, 96, 2] with kernel [1, 3, 2, 16], strides [1, 8], SAME: TF pads
      // max((12 - 1) * 8 + 3 - 96, 0) = 0, so output j reads positions 8j .. 8j+2.
      const conv = conv2d(arr([n, 1, 96, 2], rows), reshape(kernel, [1, 3, 2, 16]), [1, 8], "SAME");
      return reshape(biasAct(conv, bias, relu), [n, 192]);
    };

    it("serves only the inference signature; three identical [N, 192] outputs; a constant row gives relu(bias)", async () => {
      const { bias } = await weights();
      await withServable(dir, async (servable) => {
        assertSignatureKeys(servable, ["inference"], model);
        for (const { n, t, input } of cases) {
          const out = await runSignature(servable, "inference", { input: floats([n, t, 96], input) });
          const what = `${model} inference for input [${n}, ${t}, 96]`;
          const first = out.get("output_0");
          assert.ok(first, `${what}: output_0 present`);
          assert.deepEqual(first.shape, [n, 192], `${what}: output_0 shape`);
          for (const alias of OUTPUTS) {
            assertClose(
              out.get(alias),
              arr([n, 192], first.values as Float32Array),
              `${what}: ${alias} equals output_0`,
            );
          }
          if (n === 3) {
            // NaN → 0 leaves only the bias: every one of the 12 positions is relu(bias).
            const row = Array.from(first.values as Float32Array).slice(
              CONSTANT_ROW * 192,
              (CONSTANT_ROW + 1) * 192,
            );
            assertClose(
              floats([192], row),
              arr(
                [192],
                Array.from({ length: 192 }, (_, i) => relu(bias.data[i % 16]!)),
              ),
              `${what}: output_0 row ${CONSTANT_ROW} (constant input, NaN → 0)`,
            );
          }
        }
      });
    });

    it("matches the Conv1D reference (TF SAME padding clamps to 0 when stride 8 > kernel 3)", async () => {
      const { kernel, bias } = await weights();
      await withServable(dir, async (servable) => {
        for (const { n, t, input } of cases) {
          const out = await runSignature(servable, "inference", { input: floats([n, t, 96], input) });
          const expected = reference(kernel, bias, input, n, t);
          for (const alias of OUTPUTS) {
            assertClose(out.get(alias), expected, `${model} inference ${alias} for input [${n}, ${t}, 96]`);
          }
        }
      });
    });
  });

  it("keras_mnist_mlp: checkpoint equals the shipped .npy weights; Flatten, Dense(100, relu), Dense(10), Softmax", async () => {
    const model = "keras_mnist_mlp";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const k0 = variable(vars, `layer_with_weights-0/kernel${VALUE}`);
    const b0 = variable(vars, `layer_with_weights-0/bias${VALUE}`);
    const k1 = variable(vars, `layer_with_weights-1/kernel${VALUE}`);
    const b1 = variable(vars, `layer_with_weights-1/bias${VALUE}`);
    for (const [file, key] of [
      ["bias0.npy", `layer_with_weights-0/bias${VALUE}`],
      ["kernel1.npy", `layer_with_weights-1/kernel${VALUE}`],
    ] as const) {
      const npy = readNpy(await readFile(join(dir, file)));
      const checkpoint = vars.get(key)!;
      assert.equal(npy.dtype, DataType.DT_FLOAT, `${model} ${file}: dtype`);
      assert.deepEqual(npy.shape, checkpoint.shape, `${model} ${file}: shape equals ${key}`);
      const hex = (t: Tensor) =>
        Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).toString("hex");
      assert.equal(hex(npy), hex(checkpoint), `${model} ${file}: values bit-equal ${key}`);
    }
    const reference = (images: number[], n: number) =>
      softmax(dense(dense(arr([n, 784], images), k0, b0, relu), k1, b1));
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], model);
      for (const n of [1, 3]) {
        const images = pseudoRandom(n * 784, 100 + n, 0, 1);
        const out = await runSignature(servable, "serving_default", {
          input_1: floats([n, 28, 28, 1], images),
        });
        assertClose(out.get("softmax"), reference(images, n), `${model} serving_default softmax batch ${n}`);
      }
    });
  });

  it("keras_tf_example_penguin: serialized tf.Examples → ParseExampleV2 (4 dense floats) → 3 Dense layers → softmax", async () => {
    const model = "keras_tf_example_penguin";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const layer = (i: number) => ({
      kernel: variable(vars, `layer_with_weights-${i}/kernel${VALUE}`),
      bias: variable(vars, `layer_with_weights-${i}/bias${VALUE}`),
    });
    const [l0, l1, l2] = [layer(0), layer(1), layer(2)];
    // ParseExampleV2 dense_keys (sorted) are body_mass_g, culmen_depth_mm, culmen_length_mm,
    // flipper_length_mm, each float [1], required; the model concatenates them in the order below.
    const order = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"] as const;
    type Penguin = Record<(typeof order)[number], number>;
    const penguins: Penguin[] = [
      { culmen_length_mm: 0.25, culmen_depth_mm: 0.6, flipper_length_mm: 0.3, body_mass_g: 0.2 },
      { culmen_length_mm: 0.7, culmen_depth_mm: 0.1, flipper_length_mm: 0.9, body_mass_g: 0.8 },
      { culmen_length_mm: 0.5, culmen_depth_mm: 0.5, flipper_length_mm: 0.5, body_mass_g: 0.5 },
      { culmen_length_mm: -1.5, culmen_depth_mm: 2, flipper_length_mm: 0, body_mass_g: 3.25 },
    ];
    const serialize = (p: Penguin) =>
      toBinary(
        ExampleSchema,
        create(ExampleSchema, {
          features: {
            feature: Object.fromEntries(
              // Written in a different order than parsed or concatenated.
              [...order]
                .reverse()
                .map((key) => [key, { kind: { case: "floatList" as const, value: { value: [p[key]] } } }]),
            ),
          },
        }),
      );
    const reference = (ps: Penguin[]) => {
      const x = arr(
        [ps.length, 4],
        ps.flatMap((p) => order.map((key) => Math.fround(p[key]))),
      );
      return softmax(
        dense(dense(dense(x, l0.kernel, l0.bias, relu), l1.kernel, l1.bias, relu), l2.kernel, l2.bias),
      );
    };
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], model);
      for (const batch of [penguins.slice(0, 1), penguins]) {
        const out = await runSignature(servable, "serving_default", {
          examples: new Tensor(DataType.DT_STRING, [batch.length], batch.map(serialize)),
        });
        assertClose(
          out.get("output_0"),
          reference(batch),
          `${model} serving_default output_0 batch ${batch.length}`,
        );
      }
      // The dense features have no defaults: an Example without body_mass_g is rejected.
      const { body_mass_g: _, ...partial } = penguins[0]!;
      const missing = toBinary(
        ExampleSchema,
        create(ExampleSchema, {
          features: {
            feature: Object.fromEntries(
              Object.entries(partial).map(([key, v]) => [
                key,
                { kind: { case: "floatList" as const, value: { value: [v] } } },
              ]),
            ),
          },
        }),
      );
      await assert.rejects(
        runSignature(servable, "serving_default", {
          examples: new Tensor(DataType.DT_STRING, [2], [serialize(penguins[1]!), missing]),
        }),
        (e: unknown) =>
          e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && /body_mass_g/.test(e.message),
        `${model} serving_default: an Example missing required body_mass_g → INVALID_ARGUMENT naming it`,
      );
    });
  });
});
