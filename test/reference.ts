// Plain-loop reference computations and assertions for the real-model tests: every expected value is
// computed here from checkpoint weights, independently of the engine under test.
import assert from "node:assert/strict";
import { loadServable, type Servable } from "../src/runtime/servable.js";
import { readBundle } from "../src/savedmodel/bundle/index.js";
import { DataType } from "../src/tensor/dtype.js";
import { Tensor } from "../src/tensor/tensor.js";

/** A dense float array with its row-major shape. */
export interface Arr {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export const arr = (shape: readonly number[], data: ArrayLike<number>): Arr => ({
  shape,
  data: Float64Array.from(data),
});

export const floats = (shape: readonly number[], values: ArrayLike<number>): Tensor =>
  new Tensor(DataType.DT_FLOAT, shape, Float32Array.from(values));

/** Deterministic pseudo-random values in [lo, hi), rounded to float32. */
export function pseudoRandom(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(Math.fround(lo + ((hi - lo) * s) / 2 ** 32));
  }
  return out;
}

/** The variables of a SavedModel directory, keyed by checkpoint key. */
export async function readVariables(dir: string): Promise<Map<string, Tensor>> {
  return readBundle(`${dir}/variables/variables`);
}

/** A float variable from a checkpoint as an Arr. */
export function variable(vars: ReadonlyMap<string, Tensor>, key: string): Arr {
  const t = vars.get(key);
  assert.ok(t, `checkpoint has ${key} (has ${[...vars.keys()].join(", ")})`);
  return arr(t.shape, t.values as Float32Array);
}

/** Loads a model version, hands it to `use`, closes it. */
export async function withServable(
  dir: string,
  use: (servable: Servable) => Promise<void>,
  options: { tags?: readonly string[] } = {},
): Promise<void> {
  const servable = await loadServable(dir, options);
  try {
    await use(servable);
  } finally {
    await servable.close();
  }
}

/** Runs one signature with inputs by alias. */
export async function runSignature(
  servable: Servable,
  key: string,
  inputs: Record<string, Tensor>,
): Promise<Map<string, Tensor>> {
  const runner = servable.signatures.get(key);
  assert.ok(
    runner,
    `${servable.dir}: signature ${key} present (has ${[...servable.signatures.keys()].join(", ")})`,
  );
  return runner.run(new Map(Object.entries(inputs)));
}

/** Asserts the servable serves exactly these signature keys. */
export function assertSignatureKeys(servable: Servable, expected: readonly string[], what: string): void {
  assert.deepEqual([...servable.signatures.keys()].sort(), [...expected].sort(), `${what}: signature keys`);
}

/** float32 comparison: |actual - expected| <= abs + rel * |expected| elementwise, NaN only where NaN is expected. */
export function assertClose(
  actual: Tensor | undefined,
  expected: Arr,
  what: string,
  tolerance: { rel: number; abs: number } = { rel: 1e-4, abs: 1e-5 },
): void {
  assert.ok(actual, `${what}: output present`);
  assert.equal(actual.dtype, DataType.DT_FLOAT, `${what}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const values = actual.values;
  assert.equal(values.length, expected.data.length, `${what}: element count`);
  for (let i = 0; i < values.length; i++) {
    const a = Number(values[i]);
    const e = expected.data[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}: element ${i} is ${a}, expected NaN`);
      continue;
    }
    const limit = tolerance.abs + tolerance.rel * Math.abs(e);
    if (!(Math.abs(a - e) <= limit)) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${limit})`);
    }
  }
}

/** Exact comparison of a numeric tensor's dtype, shape and values (bigint-aware). */
export function assertExact(
  actual: Tensor | undefined,
  dtype: DataType,
  shape: readonly number[],
  expected: ArrayLike<number | bigint>,
  what: string,
): void {
  assert.ok(actual, `${what}: output present`);
  assert.equal(actual.dtype, dtype, `${what}: dtype`);
  assert.deepEqual(actual.shape, shape, `${what}: shape`);
  assert.deepEqual(Array.from(actual.values as ArrayLike<number | bigint>), Array.from(expected), what);
}

/** Exact comparison of a DT_STRING tensor's shape and bytes. */
export function assertStrings(
  actual: Tensor | undefined,
  shape: readonly number[],
  expected: readonly Uint8Array[],
  what: string,
): void {
  assert.ok(actual, `${what}: output present`);
  assert.equal(actual.dtype, DataType.DT_STRING, `${what}: dtype`);
  assert.deepEqual(actual.shape, shape, `${what}: shape`);
  assert.equal(actual.strings.length, expected.length, `${what}: element count`);
  actual.strings.forEach((bytes, i) => {
    assert.deepEqual(
      Buffer.from(bytes).toString("hex"),
      Buffer.from(expected[i]!).toString("hex"),
      `${what}: element ${i}`,
    );
  });
}

// ---- layers ----

export const relu = (v: number): number => Math.max(v, 0);
export const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** x [N, K] · kernel [K, M] + bias [M], then the activation elementwise. */
export function dense(x: Arr, kernel: Arr, bias: Arr, activation: (v: number) => number = (v) => v): Arr {
  const [n, k] = x.shape as [number, number];
  const [kk, m] = kernel.shape as [number, number];
  assert.equal(k, kk, `dense: input width ${k} vs kernel rows ${kk}`);
  assert.deepEqual(bias.shape, [m], "dense: bias shape");
  const out = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < m; c++) {
      let sum = bias.data[c]!;
      for (let i = 0; i < k; i++) sum += x.data[r * k + i]! * kernel.data[i * m + c]!;
      out[r * m + c] = activation(sum);
    }
  }
  return { shape: [n, m], data: out };
}

/** Row-wise softmax over the last axis of [N, M]. */
export function softmax(x: Arr): Arr {
  const [n, m] = x.shape as [number, number];
  const out = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    let max = -Infinity;
    for (let c = 0; c < m; c++) max = Math.max(max, x.data[r * m + c]!);
    let sum = 0;
    for (let c = 0; c < m; c++) {
      const e = Math.exp(x.data[r * m + c]! - max);
      out[r * m + c] = e;
      sum += e;
    }
    for (let c = 0; c < m; c++) out[r * m + c]! /= sum;
  }
  return { shape: [n, m], data: out };
}

/** Concatenation of [N, *] arrays along axis 1. */
export function concatColumns(parts: readonly Arr[]): Arr {
  const n = parts[0]!.shape[0]!;
  const widths = parts.map((p) => p.data.length / n);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float64Array(n * total);
  for (let r = 0; r < n; r++) {
    let offset = 0;
    parts.forEach((p, j) => {
      const w = widths[j]!;
      for (let c = 0; c < w; c++) out[r * total + offset + c] = p.data[r * w + c]!;
      offset += w;
    });
  }
  return { shape: [n, total], data: out };
}

/** TF's output size and leading pad for one spatial dimension. */
export function convWindow(
  size: number,
  kernel: number,
  stride: number,
  padding: "SAME" | "VALID",
): { out: number; padBefore: number } {
  if (padding === "VALID") return { out: Math.ceil((size - kernel + 1) / stride), padBefore: 0 };
  const out = Math.ceil(size / stride);
  const padTotal = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, padBefore: Math.floor(padTotal / 2) };
}

/** Conv2D, NHWC input [N, H, W, C], HWIO kernel [KH, KW, C, F], zero padding, no dilation. */
export function conv2d(
  x: Arr,
  kernel: Arr,
  strides: readonly [number, number],
  padding: "SAME" | "VALID",
): Arr {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [kh, kw, kc, f] = kernel.shape as [number, number, number, number];
  assert.equal(c, kc, `conv2d: input channels ${c} vs kernel ${kc}`);
  const rows = convWindow(h, kh, strides[0], padding);
  const cols = convWindow(w, kw, strides[1], padding);
  const out = new Float64Array(n * rows.out * cols.out * f);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < rows.out; oy++) {
      for (let ox = 0; ox < cols.out; ox++) {
        const o = ((b * rows.out + oy) * cols.out + ox) * f;
        for (let dy = 0; dy < kh; dy++) {
          const iy = oy * strides[0] + dy - rows.padBefore;
          if (iy < 0 || iy >= h) continue;
          for (let dx = 0; dx < kw; dx++) {
            const ix = ox * strides[1] + dx - cols.padBefore;
            if (ix < 0 || ix >= w) continue;
            for (let ic = 0; ic < c; ic++) {
              const v = x.data[((b * h + iy) * w + ix) * c + ic]!;
              if (v === 0) continue;
              const k = ((dy * kw + dx) * c + ic) * f;
              for (let oc = 0; oc < f; oc++) out[o + oc]! += v * kernel.data[k + oc]!;
            }
          }
        }
      }
    }
  }
  return { shape: [n, rows.out, cols.out, f], data: out };
}

/** Adds a bias along the last axis, then applies the activation. */
export function biasAct(x: Arr, bias: Arr, activation: (v: number) => number = (v) => v): Arr {
  const m = bias.data.length;
  assert.equal(x.shape[x.shape.length - 1], m, "bias: last dimension");
  return { shape: x.shape, data: x.data.map((v, i) => activation(v + bias.data[i % m]!)) };
}

export const reshape = (x: Arr, shape: readonly number[]): Arr => {
  assert.equal(
    shape.reduce((a, b) => a * b, 1),
    x.data.length,
    `reshape [${x.shape}] → [${shape}]`,
  );
  return { shape, data: x.data };
};
