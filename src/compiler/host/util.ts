// Shared helpers of the host kernels: attr readers, input readers, TF-style names and shapes,
// byte-string helpers and the few tensor builders every kernel family needs.
import { Code, invalidArgument, ServingError } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import type { AttrValue } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { baseDType, DataType, fixedDType, tfTypeName } from "../../tensor/dtype.js";
import { type PartialShape, shapeFromProto } from "../../tensor/shape.js";
import { numElements, Tensor, type TensorData } from "../../tensor/tensor.js";
import { tensorFromProto } from "../../tensor/tensor-proto.js";
import type { HostResource, HostValue } from "./kernel.js";

// ---------------------------------------------------------------------------------------------
// Names and shapes as TF prints them in error messages.

export { tfTypeName };

/** TensorShape::DebugString: "[2,3]", "[]" for a scalar; "?" for an unknown dim, "<unknown>" rank. */
export function tfShape(shape: PartialShape | readonly number[]): string {
  if (shape === null) return "<unknown>";
  return `[${shape.map((d) => (d < 0 ? "?" : String(d))).join(",")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Attrs. The graph importer fills OpDef defaults; the `fallback` arguments only serve nodes built by hand.

function attrValue(node: GraphNode, name: string): AttrValue["value"] | undefined {
  const value = node.attrs[name]?.value;
  return value === undefined || value.case === undefined ? undefined : value;
}

function missingAttr(node: GraphNode, name: string): ServingError {
  return invalidArgument(`NodeDef missing attr '${name}' from Op ${node.op} (node ${node.name})`);
}

function wrongAttr(node: GraphNode, name: string, want: string): ServingError {
  return invalidArgument(`Attr '${name}' of node ${node.name} (${node.op}) is not of type ${want}`);
}

export function attrInt(node: GraphNode, name: string, fallback?: number): number {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "i") throw wrongAttr(node, name, "int");
  return Number(v.value);
}

export function attrBigInt(node: GraphNode, name: string, fallback?: bigint): bigint {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "i") throw wrongAttr(node, name, "int");
  return v.value;
}

export function attrFloat(node: GraphNode, name: string, fallback?: number): number {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "f") throw wrongAttr(node, name, "float");
  return v.value;
}

export function attrBool(node: GraphNode, name: string, fallback?: boolean): boolean {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "b") throw wrongAttr(node, name, "bool");
  return v.value;
}

export function attrBytes(node: GraphNode, name: string, fallback?: Uint8Array): Uint8Array {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "s") throw wrongAttr(node, name, "string");
  return v.value;
}

export function attrString(node: GraphNode, name: string, fallback?: string): string {
  return utf8Decode(attrBytes(node, name, fallback === undefined ? undefined : utf8Encode(fallback)));
}

export function attrType(node: GraphNode, name: string, fallback?: DataType): DataType {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "type") throw wrongAttr(node, name, "type");
  return v.value;
}

export function attrShape(node: GraphNode, name: string, fallback?: PartialShape): PartialShape {
  const v = attrValue(node, name);
  if (v === undefined) {
    if (fallback === undefined) throw missingAttr(node, name);
    return fallback;
  }
  if (v.case !== "shape") throw wrongAttr(node, name, "shape");
  return shapeFromProto(v.value);
}

export function attrTensor(node: GraphNode, name: string): Tensor {
  const v = attrValue(node, name);
  if (v === undefined) throw missingAttr(node, name);
  if (v.case !== "tensor") throw wrongAttr(node, name, "tensor");
  return tensorFromProto(v.value);
}

/** A list attr; an absent attr or an empty list (which protobuf may leave unset) reads as []. */
function attrList(node: GraphNode, name: string) {
  const v = attrValue(node, name);
  if (v === undefined) return undefined;
  if (v.case !== "list") throw wrongAttr(node, name, "list");
  return v.value;
}

export const attrInts = (node: GraphNode, name: string): number[] =>
  (attrList(node, name)?.i ?? []).map(Number);
export const attrBigInts = (node: GraphNode, name: string): bigint[] => [...(attrList(node, name)?.i ?? [])];
export const attrTypes = (node: GraphNode, name: string): DataType[] => [
  ...(attrList(node, name)?.type ?? []),
];
export const attrShapes = (node: GraphNode, name: string): PartialShape[] =>
  (attrList(node, name)?.shape ?? []).map((s) => shapeFromProto(s));
export const attrStrings = (node: GraphNode, name: string): string[] =>
  (attrList(node, name)?.s ?? []).map(utf8Decode);

/** The name a resource op's resource is kept under: `[container/]shared_name`, else the node's name. */
export function resourceName(node: GraphNode): string {
  const container = attrString(node, "container", "");
  const shared = attrString(node, "shared_name", "");
  const name = shared === "" ? node.name : shared;
  return container === "" ? name : `${container}/${name}`;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/** A resource flowing between host steps that is a mutable variable; see variables.ts. */
export interface VariableLike extends HostResource {
  readonly kind: "variable";
  readonly name: string;
  value: Tensor | undefined;
}

export function isTensor(v: HostValue | undefined): v is Tensor {
  return v instanceof Tensor;
}

/**
 * The Tensor a value stands for. A TF1 ref variable (VariableV2's output, represented by its
 * HostVariable) reads as its current value, as TF dereferences a ref edge into a non-ref input.
 */
export function readValue(v: HostValue): Tensor {
  if (v instanceof Tensor) return v;
  if (v.kind === "variable") {
    const variable = v as VariableLike;
    if (variable.value === undefined) {
      throw new ServingError(
        Code.FAILED_PRECONDITION,
        `Attempting to use uninitialized value ${variable.name}`,
      );
    }
    return variable.value;
  }
  throw invalidArgument("expected a tensor, got a lookup table handle");
}

/** Input `i` of the node as a Tensor (dereferencing ref variables). */
export function input(node: GraphNode, inputs: readonly HostValue[], i: number): Tensor {
  const v = inputs[i];
  if (v === undefined) {
    throw invalidArgument(
      `${node.op} node ${node.name} expects at least ${i + 1} inputs, got ${inputs.length}`,
    );
  }
  return readValue(v);
}

/** Input `i` as a string tensor. */
export function stringInput(node: GraphNode, inputs: readonly HostValue[], i: number, what: string): Tensor {
  const t = input(node, inputs, i);
  if (t.dtype !== DataType.DT_STRING) {
    throw invalidArgument(`${what} of ${node.op} must be a string tensor, got ${tfTypeName(t.dtype)}`);
  }
  return t;
}

/** The values of an integer tensor (int32/int64/…) as JS numbers. */
export function intValues(t: Tensor, what = "tensor"): number[] {
  const values = t.data;
  if (Array.isArray(values) || t.dtype === DataType.DT_FLOAT || t.dtype === DataType.DT_DOUBLE) {
    throw invalidArgument(`${what} must be an integer tensor, got ${tfTypeName(t.dtype)}`);
  }
  return Array.from(values as ArrayLike<number | bigint>, Number);
}

/** An integer scalar (or one-element) tensor's value. */
export function scalarInt(t: Tensor, what: string): number {
  if (t.size !== 1) throw invalidArgument(`${what} must be a scalar, got shape ${tfShape(t.shape)}`);
  return intValues(t, what)[0]!;
}

export function scalarString(t: Tensor, what: string): Uint8Array {
  if (t.dtype !== DataType.DT_STRING)
    throw invalidArgument(`${what} must be a string, got ${tfTypeName(t.dtype)}`);
  if (t.rank !== 0) throw invalidArgument(`${what} must be a scalar, got shape: ${tfShape(t.shape)}`);
  return t.strings[0]!;
}

// ---------------------------------------------------------------------------------------------
// Bytes.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export const utf8Encode = (s: string): Uint8Array => encoder.encode(s);
/** UTF-8 decode, invalid sequences becoming U+FFFD. */
export const utf8Decode = (b: Uint8Array): string => decoder.decode(b);
/** UTF-8 decode, or undefined when the bytes are not valid UTF-8. */
export function utf8DecodeStrict(b: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(b);
  } catch {
    return undefined;
  }
}
/** One JS char per byte (ISO-8859-1), for echoing arbitrary bytes into messages. */
export const latin1 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A Map key for a byte string that keeps every byte (latin1 is one char per byte). */
export const bytesKey = latin1;

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A byte string's view as Python prints it inside b'…' (printable ASCII as is, the rest \xNN). */
export function pyBytes(b: Uint8Array): string {
  let s = "";
  for (const c of b) {
    if (c === 0x5c) s += "\\\\";
    else if (c === 0x27) s += "\\'";
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Tensor builders.

export const int64Tensor = (shape: readonly number[], values: ArrayLike<bigint> | Iterable<bigint>): Tensor =>
  new Tensor(DataType.DT_INT64, shape, BigInt64Array.from(values as Iterable<bigint>));
export const int32Tensor = (shape: readonly number[], values: ArrayLike<number>): Tensor =>
  new Tensor(DataType.DT_INT32, shape, Int32Array.from(values));
export const boolTensor = (shape: readonly number[], values: ArrayLike<boolean | number>): Tensor =>
  new Tensor(
    DataType.DT_BOOL,
    shape,
    Uint8Array.from(values, (v) => (v ? 1 : 0)),
  );
export const stringTensor = (shape: readonly number[], values: Uint8Array[]): Tensor =>
  new Tensor(DataType.DT_STRING, shape, values);

/** A tensor of integer dtype `dtype` (int32 or int64) from JS numbers. */
export function intTensor(dtype: DataType, shape: readonly number[], values: readonly number[]): Tensor {
  if (dtype === DataType.DT_INT64)
    return int64Tensor(
      shape,
      values.map((v) => BigInt(v)),
    );
  if (dtype === DataType.DT_INT32) return int32Tensor(shape, values);
  throw invalidArgument(`expected an int32 or int64 output type, got ${tfTypeName(dtype)}`);
}

/**
 * A new tensor of `source`'s dtype and `shape` whose element k is source element `index(k)`:
 * the one copy loop behind Reshape-free rearrangements (Gather, Tile, Concat, Pack, Transpose…).
 */
export function gatherElements(
  source: Tensor,
  shape: readonly number[],
  index: (k: number) => number,
  dtype: DataType = source.dtype,
): Tensor {
  const n = numElements(shape);
  if (Array.isArray(source.data)) {
    const src = source.data;
    const out = new Array<Uint8Array>(n);
    for (let k = 0; k < n; k++) out[k] = src[index(k)]!;
    return new Tensor(dtype, shape, out);
  }
  const info = fixedDType(source.dtype)!;
  const src = source.data;
  const lanes = info.lanes;
  const out = new info.array(n * lanes);
  if (lanes === 1) {
    for (let k = 0; k < n; k++) (out as { [i: number]: number | bigint })[k] = src[index(k)]!;
  } else {
    for (let k = 0; k < n; k++) {
      const j = index(k);
      for (let l = 0; l < lanes; l++)
        (out as { [i: number]: number | bigint })[k * lanes + l] = src[j * lanes + l]!;
    }
  }
  return new Tensor(dtype, shape, out);
}

/**
 * A new tensor of `shape` (dtype of `sources[0]`) whose element k is element `pick(k)[1]` of
 * `sources[pick(k)[0]]`: gathering from several tensors of one dtype (Concat, SparseToDense).
 */
export function gatherFrom(
  sources: readonly Tensor[],
  shape: readonly number[],
  pick: (k: number) => readonly [number, number],
): Tensor {
  const first = sources[0]!;
  const dtype = baseDType(first.dtype);
  const n = numElements(shape);
  const out = Tensor.zeros(dtype, shape);
  if (Array.isArray(out.data)) {
    const dst = out.data;
    for (let k = 0; k < n; k++) {
      const [s, j] = pick(k);
      dst[k] = sources[s]!.strings[j]!;
    }
    return out;
  }
  const lanes = fixedDType(dtype)!.lanes;
  const dst = out.data as { [i: number]: number | bigint };
  for (let k = 0; k < n; k++) {
    const [s, j] = pick(k);
    const src = sources[s]!.data as { [i: number]: number | bigint };
    for (let l = 0; l < lanes; l++) dst[k * lanes + l] = src[j * lanes + l]!;
  }
  return out;
}

/** The same values under another shape (no copy). */
export const reshaped = (t: Tensor, shape: readonly number[]): Tensor => new Tensor(t.dtype, shape, t.data);

/** Element `i` of any tensor as a comparable JS value (number, bigint, or latin1 string of the bytes). */
export function elementKey(t: Tensor, i: number): string | number | bigint {
  const data: TensorData = t.data;
  if (Array.isArray(data)) return bytesKey(data[i]!);
  return data[i]!;
}

/** Row-major strides of a shape. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/** The base dtype of a (possibly _REF) dtype. */
export const plainDType = (dtype: DataType): DataType => baseDType(dtype);

// ---------------------------------------------------------------------------------------------
// Broadcasting (numpy rules, as TF's BCast).

/** The broadcast shape of `a` and `b`, or undefined when they are incompatible. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Maps a flat index of the broadcast shape `out` to the flat index of an operand of shape `shape`. */
export function broadcastIndex(out: readonly number[], shape: readonly number[]): (k: number) => number {
  if (sameShape(out, shape)) return (k) => k;
  if (numElements(shape) === 1) return () => 0;
  const outStrides = strides(out);
  const inStrides = strides(shape);
  const offset = out.length - shape.length;
  return (k) => {
    let index = 0;
    let rest = k;
    for (let d = 0; d < out.length; d++) {
      const coord = Math.floor(rest / outStrides[d]!);
      rest -= coord * outStrides[d]!;
      const id = d - offset;
      if (id >= 0 && shape[id] !== 1) index += coord * inStrides[id]!;
    }
    return index;
  };
}
