// Test support for the op-level suites. Tests describe a graph with node()/constNode(); the harness writes
// it the way a real model arrives — TF NodeDefs from the project's GraphBuilder (type attrs inferred from
// the inputs as TF's Python op builder does, other attrs left to their OpDef defaults), a GraphDef in a
// serialized MetaGraphDef — imports it with importGraph, checks every node against its OpDef as TF's
// ValidateNodeDef would, lowers the imported nodes with lowerSegment and runs the model in a real
// onnxruntime session. Used by *.test.ts only.
import assert from "node:assert/strict";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { InferenceSession } from "onnxruntime-node";
import { attr, GraphBuilder } from "../../export/graph-builder.js";
import { importGraph } from "../../graph/import.js";
import { type Graph, type GraphNode, parseRef, refKey, type TensorRef } from "../../graph/ir.js";
import { builtinOpDefs, fillDefaultAttrs, outputDTypes } from "../../graph/op-defs.js";
import { type AttrValue, AttrValueSchema } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import type { OpDef } from "../../proto/gen/tensorflow/core/framework/op_def_pb.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import {
  type MetaGraphDef,
  MetaGraphDefSchema,
} from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { baseDType, dtypeName } from "../../tensor/dtype.js";
import { fromOrtTensor, toOrtTensor } from "../../tensor/ort.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import { strides as rowMajorStrides } from "../host/util.js";
import type { StaticShape } from "./lowering.js";
import { lowerSegment, type SegmentInput } from "./segment.js";

export { attr, DataType, Tensor };

type AttrInit = MessageInitShape<typeof AttrValueSchema>;

/** What a test asked for beyond the node itself: the output dtypes it expects (checked after import). */
const EXPECTED = Symbol("expected output dtypes");
type DraftNode = GraphNode & { readonly [EXPECTED]?: readonly DataType[] };

/**
 * A node of a test graph, as the test writes it: op, name, inputs (`node` or `node:k`) and the attrs TF
 * cannot infer. It is a draft — importTestGraph (which compileSegment and runOnce call) writes it as a
 * NodeDef and replaces it with what importGraph makes of it. `outputDTypes`, when given, is an assertion:
 * the imported node's output dtypes (computed from TF's OpDef) must equal it.
 */
export function node(
  op: string,
  name: string,
  inputs: readonly string[],
  attrs: Record<string, AttrInit> = {},
  outputDTypes?: readonly DataType[],
): GraphNode {
  const attrMap = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, create(AttrValueSchema, v)]));
  const draft: DraftNode = {
    name,
    op,
    inputs: inputs.map(parseRef),
    controlInputs: [],
    attrs: attrMap,
    outputDTypes: outputDTypes ?? [],
    ...(outputDTypes ? { [EXPECTED]: outputDTypes } : {}),
  };
  return draft;
}

/** A Const node (written with GraphBuilder.constant: `dtype` and `value` attrs). */
export function constNode(name: string, value: Tensor): GraphNode {
  return { ...node("Const", name, [], {}, [value.dtype]), value };
}

/** A fed tensor of a test graph: a Placeholder of this dtype and shape (-1 = dynamic dim, null = unknown rank). */
export interface FedTensor {
  /** `x` (a Placeholder named x), or `node:k` to feed an output of a node the test builds. */
  readonly name: string;
  readonly dtype: DataType;
  readonly shape: StaticShape;
}

export interface ImportedTestGraph {
  /** The MetaGraphDef as it was serialized and parsed back. */
  readonly metaGraph: MetaGraphDef;
  /** importGraph's result: the test's nodes plus a Placeholder per fed tensor. */
  readonly graph: Graph;
  /** The imported counterpart of each draft, in the drafts' order. */
  readonly nodes: GraphNode[];
}

const refName = (ref: TensorRef): string => (ref.index === 0 ? ref.node : `${ref.node}:${ref.index}`);

/**
 * Writes the drafts (plus a Placeholder per fed tensor) as a GraphDef with GraphBuilder, wraps it in a
 * MetaGraphDef tagged "serve" without a stripped_op_list (so the built-in OpDef table applies), serializes
 * and parses it, imports it with importGraph, and validates each node against its OpDef.
 */
export function importTestGraph(
  drafts: readonly GraphNode[],
  fed: readonly FedTensor[] = [],
): ImportedTestGraph {
  const byName = new Map<string, GraphNode>();
  for (const draft of drafts) {
    assert.ok(!byName.has(draft.name), `harness: two test nodes named ${draft.name}`);
    byName.set(draft.name, draft);
  }
  const opDefs = builtinOpDefs();
  const builder = new GraphBuilder();
  const fedDTypes = new Map<string, DataType>();
  for (const input of fed) {
    const ref = parseRef(input.name);
    if (fedDTypes.has(refKey(ref))) continue;
    fedDTypes.set(refKey(ref), input.dtype);
    // Feeding an output of a test node overrides it; anything else is a Placeholder.
    if (byName.has(ref.node)) continue;
    assert.equal(
      ref.index,
      0,
      `harness: feed ${input.name} names output ${ref.index} of a node no test builds`,
    );
    builder.placeholder(ref.node, input.dtype, input.shape);
  }

  // Type attrs come from the inputs' dtypes, so producers are resolved before their consumers.
  const written = new Map<string, { attrs: Record<string, AttrValue>; dtypes: DataType[] }>();
  const resolving = new Set<string>();
  const dtypeOf = (ref: TensorRef): DataType | undefined =>
    fedDTypes.get(refKey(ref)) ?? resolve(ref.node)?.dtypes[ref.index];
  const resolve = (name: string) => {
    const done = written.get(name);
    if (done) return done;
    const draft = byName.get(name);
    if (!draft || resolving.has(name)) return undefined;
    resolving.add(name);
    let result: { attrs: Record<string, AttrValue>; dtypes: DataType[] };
    if (draft.value !== undefined) {
      result = { attrs: {}, dtypes: [draft.value.dtype] };
    } else {
      const opDef = opDefs.get(draft.op);
      const attrs = opDef ? inferAttrs(draft, opDef, dtypeOf) : { ...draft.attrs };
      result = { attrs, dtypes: opDef ? flatOutputDTypes(draft.name, attrs, opDef) : [] };
    }
    resolving.delete(name);
    written.set(name, result);
    return result;
  };
  for (const draft of drafts) {
    const { attrs } = resolve(draft.name)!;
    if (draft.value !== undefined) builder.constant(draft.name, draft.value);
    else builder.op(draft.op, draft.name, draft.inputs.map(refName), attrs);
  }

  const meta = create(MetaGraphDefSchema, { graphDef: builder.build(), metaInfoDef: { tags: ["serve"] } });
  const metaGraph = fromBinary(MetaGraphDefSchema, toBinary(MetaGraphDefSchema, meta));
  const graph = importGraph(metaGraph);
  const nodes = drafts.map((draft) => {
    const imported = graph.nodes.get(draft.name);
    assert.ok(imported, `harness: ${draft.name} is missing after import`);
    const opDef = graph.opDefs.get(imported.op);
    if (opDef) validateNode(imported, opDef);
    const expected = (draft as DraftNode)[EXPECTED];
    if (expected) {
      assert.deepEqual(
        imported.outputDTypes.map(dtypeName),
        expected.map(dtypeName),
        `${imported.op} ${imported.name}: output dtypes from TF's OpDef differ from the test's`,
      );
    }
    return imported;
  });
  return { metaGraph, graph, nodes };
}

/** Output dtypes for type inference; undefined where an attr is missing (the import then reports it). */
function flatOutputDTypes(name: string, attrs: Record<string, AttrValue>, opDef: OpDef): DataType[] {
  try {
    return outputDTypes({ name, attrs: fillDefaultAttrs(attrs, opDef) }, opDef).map(baseDType);
  } catch {
    return [];
  }
}

/**
 * The attrs TF's op builder writes: the test's, plus every type, list(type) and number attr an input arg
 * determines. A dtype that contradicts the OpDef (a fixed-type arg, or two args sharing a type attr) is
 * an error, as it is for TF.
 */
function inferAttrs(
  draft: GraphNode,
  opDef: OpDef,
  dtypeOf: (ref: TensorRef) => DataType | undefined,
): Record<string, AttrValue> {
  const where = `${draft.op} ${draft.name}`;
  const attrs: Record<string, AttrValue> = { ...draft.attrs };
  const set = (name: string, value: AttrInit) => {
    attrs[name] = create(AttrValueSchema, value);
  };
  // Lengths of the input args: 1, a number attr or a type-list attr; one unknown length is solved for.
  const given = (arg: (typeof opDef.inputArg)[number]): number | undefined => {
    if (arg.numberAttr) {
      const v = attrs[arg.numberAttr]?.value;
      return v?.case === "i" ? Number(v.value) : undefined;
    }
    if (arg.typeListAttr) {
      const v = attrs[arg.typeListAttr]?.value;
      return v?.case === "list" ? v.value.type.length : undefined;
    }
    return 1;
  };
  const unknown = new Set(
    opDef.inputArg.filter((a) => given(a) === undefined).map((a) => a.numberAttr || a.typeListAttr),
  );
  assert.ok(unknown.size <= 1, `harness: ${where}: cannot split the inputs among args ${[...unknown]}`);
  const known = opDef.inputArg.reduce((sum, a) => sum + (given(a) ?? 0), 0);
  const sharing = opDef.inputArg.filter((a) => given(a) === undefined).length;
  const solved = sharing > 0 ? (draft.inputs.length - known) / sharing : 0;
  assert.ok(
    Number.isInteger(solved) && solved >= 0,
    `harness: ${where}: ${draft.inputs.length} inputs do not fit the OpDef`,
  );
  const lengths = opDef.inputArg.map((a) => given(a) ?? solved);
  const total = lengths.reduce((a, b) => a + b, 0);
  assert.equal(draft.inputs.length, total, `${where}: TF's OpDef takes ${total} inputs`);

  let next = 0;
  opDef.inputArg.forEach((arg, k) => {
    const refs = draft.inputs.slice(next, next + lengths[k]!);
    next += lengths[k]!;
    const dtypes = refs.map(dtypeOf);
    if (arg.numberAttr && attrs[arg.numberAttr] === undefined) set(arg.numberAttr, attr.int(refs.length));
    if (arg.typeListAttr) {
      if (attrs[arg.typeListAttr] === undefined && dtypes.every((d) => d !== undefined))
        set(arg.typeListAttr, attr.types(dtypes));
      return;
    }
    for (const [i, dtype] of dtypes.entries()) {
      if (dtype === undefined) continue;
      const input = `${where}: input ${refName(refs[i]!)} (arg ${arg.name})`;
      if (arg.type !== DataType.DT_INVALID) {
        // Resources and variants arrive frozen or folded (e.g. ResourceGather of a frozen variable).
        if (arg.type === DataType.DT_RESOURCE || arg.type === DataType.DT_VARIANT) continue;
        assert.equal(dtypeName(dtype), dtypeName(arg.type), `${input} must be ${dtypeName(arg.type)} for TF`);
        continue;
      }
      const current = attrs[arg.typeAttr]?.value;
      if (current?.case === "type") {
        assert.equal(dtypeName(dtype), dtypeName(current.value), `${input} contradicts attr ${arg.typeAttr}`);
      } else {
        set(arg.typeAttr, attr.type(dtype));
      }
    }
  });
  return attrs;
}

const ATTR_CASES: Record<string, string> = {
  int: "i",
  float: "f",
  bool: "b",
  string: "s",
  type: "type",
  shape: "shape",
  tensor: "tensor",
  func: "func",
};

/** What TF's ValidateNodeDef checks of an attr map: known attrs of the right kind, required ones present, minimums. */
function validateNode(n: GraphNode, opDef: OpDef): void {
  const where = `${n.op} ${n.name}`;
  for (const name of Object.keys(n.attrs)) {
    if (name.startsWith("_")) continue;
    assert.ok(
      opDef.attr.some((a) => a.name === name),
      `${where}: attr ${name} is not in TF's OpDef (TF rejects the NodeDef)`,
    );
  }
  for (const def of opDef.attr) {
    const value = n.attrs[def.name]?.value;
    assert.ok(value, `${where}: attr ${def.name} has no default and is not set (TF rejects the NodeDef)`);
    const wanted = def.type.startsWith("list(") ? "list" : (ATTR_CASES[def.type] ?? def.type);
    assert.equal(value.case, wanted, `${where}: attr ${def.name} must be a ${def.type}`);
    if (!def.hasMinimum) continue;
    const size =
      value.case === "i"
        ? Number(value.value)
        : value.case === "list"
          ? Math.max(
              value.value.i.length,
              value.value.type.length,
              value.value.s.length,
              value.value.f.length,
            )
          : undefined;
    if (size !== undefined)
      assert.ok(size >= Number(def.minimum), `${where}: attr ${def.name} must be >= ${def.minimum}`);
  }
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
export const stridesOf = rowMajorStrides;

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
  /** Every node of the test graph (drafts from node()/constNode()). Consts stay out of the segment unless `lowerConsts`. */
  readonly nodes: readonly GraphNode[];
  /** Fed tensors: name (`x` or `x:k`), dtype and the declared shape (-1 = dynamic). Each is a Placeholder. */
  readonly inputs?: readonly FedTensor[];
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

/** Writes and imports the spec's graph, lowers its nodes into one ONNX model and opens an onnxruntime session on it. */
export async function compileSegment(spec: SegmentSpec): Promise<CompiledSegment> {
  const { graph, nodes } = importTestGraph(spec.nodes, spec.inputs ?? []);
  const segmentNodes = nodes.filter((n) => spec.lowerConsts || n.value === undefined);
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
