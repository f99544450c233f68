// Test support for the op-level suites: build GraphNodes by hand, lower them with lowerSegment, run the
// model in a real onnxruntime session and compare with reference values. Used by *.test.ts only.
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { InferenceSession } from "onnxruntime-node";
import { type GraphNode, parseRef, refKey, type TensorRef } from "../../graph/ir.js";
import { AttrValueSchema } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { dtypeName } from "../../tensor/dtype.js";
import { fromOrtTensor, toOrtTensor } from "../../tensor/ort.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import type { StaticShape } from "./lowering.js";
import { lowerSegment, type SegmentInput } from "./segment.js";

export { attr } from "../../export/graph-builder.js";
export { DataType, Tensor };

type AttrInit = MessageInitShape<typeof AttrValueSchema>;

/** A GraphNode as the importer would produce it. Inputs are `node` or `node:k`. */
export function node(
  op: string,
  name: string,
  inputs: readonly string[],
  attrs: Record<string, AttrInit> = {},
  outputDTypes: readonly DataType[] = [DataType.DT_FLOAT],
): GraphNode {
  const attrMap = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, create(AttrValueSchema, v)]));
  return { name, op, inputs: inputs.map(parseRef), controlInputs: [], attrs: attrMap, outputDTypes };
}

export function constNode(name: string, value: Tensor): GraphNode {
  return { ...node("Const", name, [], {}, [value.dtype]), value };
}

export const f32 = (shape: readonly number[], values: readonly number[]): Tensor =>
  new Tensor(DataType.DT_FLOAT, shape, Float32Array.from(values));
export const f64 = (shape: readonly number[], values: readonly number[]): Tensor =>
  new Tensor(DataType.DT_DOUBLE, shape, Float64Array.from(values));
export const i32 = (shape: readonly number[], values: readonly number[]): Tensor =>
  new Tensor(DataType.DT_INT32, shape, Int32Array.from(values));
export const i64 = (shape: readonly number[], values: readonly (number | bigint)[]): Tensor =>
  new Tensor(
    DataType.DT_INT64,
    shape,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
export const u8 = (shape: readonly number[], values: readonly number[]): Tensor =>
  new Tensor(DataType.DT_UINT8, shape, Uint8Array.from(values));
export const bool = (shape: readonly number[], values: readonly (boolean | number)[]): Tensor =>
  new Tensor(
    DataType.DT_BOOL,
    shape,
    Uint8Array.from(values, (v) => (v ? 1 : 0)),
  );

/** A tensor of `shape` whose element at each index is f(index) (for reference implementations). */
export function fromIndex(
  dtype: DataType,
  shape: readonly number[],
  f: (index: readonly number[]) => number,
): Tensor {
  const values: number[] = [];
  forEachIndex(shape, (index) => values.push(f(index)));
  return make(dtype, shape, values);
}

export function make(dtype: DataType, shape: readonly number[], values: readonly number[]): Tensor {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return f32(shape, values);
    case DataType.DT_DOUBLE:
      return f64(shape, values);
    case DataType.DT_INT32:
      return i32(shape, values);
    case DataType.DT_INT64:
      return i64(shape, values);
    case DataType.DT_BOOL:
      return bool(shape, values);
    case DataType.DT_UINT8:
      return u8(shape, values);
    default:
      throw new Error(`make: unsupported ${dtypeName(dtype)}`);
  }
}

/** Calls f with every index of shape, row-major. */
export function forEachIndex(shape: readonly number[], f: (index: readonly number[]) => void): void {
  const total = numElements(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < total; n++) {
    f(index);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      if (index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}

/** Element of `t` at a multi-index, as a number. */
export function at(t: Tensor, index: readonly number[]): number {
  const strides = stridesOf(t.shape);
  let offset = 0;
  index.forEach((i, d) => {
    offset += i * strides[d]!;
  });
  return Number(t.values[offset]!);
}

/** The values of a numeric tensor as plain numbers (int64 via Number). */
export function numbers(t: Tensor): number[] {
  return Array.from(t.values as ArrayLike<number | bigint>, Number);
}

/** Deterministic pseudo-random values in [lo, hi) (tests must not depend on Math.random). */
export function seeded(count: number, seed = 1, lo = -1, hi = 1): number[] {
  let state = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return lo + ((state >>> 8) / 2 ** 24) * (hi - lo);
  });
}

export function randomF32(shape: readonly number[], seed = 1, lo = -1, hi = 1): Tensor {
  return f32(shape, seeded(numElements(shape), seed, lo, hi));
}

export interface SegmentSpec {
  /** Every node of the test graph: op nodes and Const nodes. Consts stay out of the segment unless `lowerConsts`. */
  readonly nodes: readonly GraphNode[];
  /** Fed tensors: name (`x` or `x:k`), dtype and the declared shape (-1 = dynamic). */
  readonly inputs?: readonly {
    readonly name: string;
    readonly dtype: DataType;
    readonly shape: StaticShape;
  }[];
  readonly outputs: readonly string[];
  /** Static shapes handlers may use, by `node:k`. */
  readonly shapes?: Readonly<Record<string, StaticShape>>;
  /** Lower Const nodes inside the segment (tests the Const handler) instead of reading them as inputs. */
  readonly lowerConsts?: boolean;
}

export interface CompiledSegment {
  readonly session: InferenceSession;
  readonly model: Uint8Array;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs with tensors for `inputs`, in order; returns the outputs in order. */
  run(...feeds: Tensor[]): Promise<Tensor[]>;
}

/** Lowers the spec's nodes into one ONNX model and opens an onnxruntime session on it. */
export async function compileSegment(spec: SegmentSpec): Promise<CompiledSegment> {
  const graph = { nodes: new Map(spec.nodes.map((n) => [n.name, n])) };
  const segmentNodes = spec.nodes.filter((n) => spec.lowerConsts || n.value === undefined);
  const inputs: SegmentInput[] = (spec.inputs ?? []).map((input) => ({
    ref: parseRef(input.name),
    dtype: input.dtype,
    shape: input.shape,
  }));
  const shapes = new Map(Object.entries(spec.shapes ?? {}));
  for (const input of inputs)
    if (input.shape && !shapes.has(refKey(input.ref))) shapes.set(refKey(input.ref), input.shape);
  const outputs: TensorRef[] = spec.outputs.map(parseRef);
  const lowered = lowerSegment(segmentNodes, inputs, outputs, graph, shapes);
  const session = await InferenceSession.create(lowered.model);
  return {
    session,
    model: lowered.model,
    inputNames: lowered.inputNames,
    outputNames: lowered.outputNames,
    async run(...feeds: Tensor[]): Promise<Tensor[]> {
      assert.equal(feeds.length, lowered.inputNames.length, "one feed per segment input");
      const ortFeeds = Object.fromEntries(
        lowered.inputNames.map((name, i) => [name, toOrtTensor(feeds[i]!)]),
      );
      const results = await session.run(ortFeeds);
      return lowered.outputNames.map((name) => fromOrtTensor(results[name]!));
    },
  };
}

/**
 * Lowers and runs once: each feed is declared with its own shape (or with `dynamic` dims as -1).
 *
 * @example
 * const [y] = await runOnce([node("Relu", "y", ["x"])], { x: f32([2], [-1, 1]) }, ["y"]);
 */
export async function runOnce(
  nodes: readonly GraphNode[],
  feeds: Readonly<Record<string, Tensor>>,
  outputs: readonly string[],
  options: { shapes?: Record<string, StaticShape>; lowerConsts?: boolean; unknownShapes?: boolean } = {},
): Promise<Tensor[]> {
  const names = Object.keys(feeds);
  const compiled = await compileSegment({
    nodes,
    inputs: names.map((name) => ({
      name,
      dtype: feeds[name]!.dtype,
      shape: options.unknownShapes ? null : feeds[name]!.shape,
    })),
    outputs,
    ...(options.shapes ? { shapes: options.shapes } : {}),
    ...(options.lowerConsts ? { lowerConsts: true } : {}),
  });
  try {
    return await compiled.run(...names.map((n) => feeds[n]!));
  } finally {
    await compiled.session.release();
  }
}

/** Float comparison: within 1e-5 relative, or 1e-6 absolute near zero; NaN matches NaN. */
export function assertClose(actual: Tensor, expected: Tensor, tolerance = { rel: 1e-5, abs: 1e-6 }): void {
  assert.equal(dtypeName(actual.dtype), dtypeName(expected.dtype), "dtype");
  assert.deepEqual([...actual.shape], [...expected.shape], "shape");
  const a = actual.values;
  const e = expected.values;
  for (let i = 0; i < e.length; i++) {
    const [x, y] = [Number(a[i]), Number(e[i])];
    if (Number.isNaN(y)) {
      assert.ok(Number.isNaN(x), `element ${i}: expected NaN, got ${x}`);
      continue;
    }
    if (x === y) continue;
    const diff = Math.abs(x - y);
    assert.ok(
      diff <= tolerance.abs || diff <= tolerance.rel * Math.abs(y),
      `element ${i}: got ${x}, expected ${y} (diff ${diff})`,
    );
  }
}

/** Exact comparison of dtype, shape and values (ints, bools, exact floats). */
export function assertTensorEqual(actual: Tensor, expected: Tensor): void {
  assert.equal(dtypeName(actual.dtype), dtypeName(expected.dtype), "dtype");
  assert.deepEqual([...actual.shape], [...expected.shape], "shape");
  assert.deepEqual(
    Array.from(actual.values as ArrayLike<number | bigint>),
    Array.from(expected.values as ArrayLike<number | bigint>),
  );
}
