// Plain JS values ⇄ Tensor for the client: users pass nested arrays or typed arrays and get Tensors
// back; the nesting is the shape, the dtype comes from the signature (or the values' own kind).
import { invalidArgument } from "../errors.js";
import { DataType, dtypeName, fixedDType, type NumericArray } from "../tensor/dtype.js";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../tensor/half.js";
import { numElements, Tensor } from "../tensor/tensor.js";
import type { NestedArray, TensorInput } from "./types.js";

type Leaf = number | bigint | boolean | string | Uint8Array;

const TYPED_DTYPES = new Map<unknown, DataType>([
  [Float32Array, DataType.DT_FLOAT],
  [Float64Array, DataType.DT_DOUBLE],
  [Int8Array, DataType.DT_INT8],
  [Int16Array, DataType.DT_INT16],
  [Int32Array, DataType.DT_INT32],
  [Uint16Array, DataType.DT_UINT16],
  [Uint32Array, DataType.DT_UINT32],
  [BigInt64Array, DataType.DT_INT64],
  [BigUint64Array, DataType.DT_UINT64],
]);

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Makes a Tensor from a predict input. A Tensor passes through; a typed array (not Uint8Array, which
 * is one byte string) is a 1-D tensor of its own dtype; nested JS arrays take their shape from the
 * nesting and the `dtype` given (default: DT_FLOAT for numbers, DT_INT64 for bigints, DT_BOOL for
 * booleans, DT_STRING for strings and Uint8Arrays). Ragged nesting or a value the dtype cannot hold
 * is an INVALID_ARGUMENT ServingError.
 *
 * @example
 * toTensor([[1, 2, 3]]); // DT_FLOAT [1, 3]
 * toTensor([5, 6], DataType.DT_INT64).values; // BigInt64Array [5n, 6n]
 * toTensor(["a", "b"]).shape; // [2] (DT_STRING)
 */
export function toTensor(value: TensorInput, dtype?: DataType): Tensor {
  if (value instanceof Tensor) return value;
  if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array)) {
    const own = TYPED_DTYPES.get(value.constructor);
    if (own === undefined) throw invalidArgument(`${value.constructor.name} cannot be a tensor`);
    return new Tensor(own, [(value as NumericArray).length], value as NumericArray);
  }
  const { shape, leaves } = flatten(value as NestedArray<Leaf>);
  const target = dtype ?? (leaves.length > 0 ? leafDType(leaves[0] as Leaf) : DataType.DT_FLOAT);
  if (target === DataType.DT_STRING) {
    return new Tensor(target, shape, leaves.map(toBytes));
  }
  const info = fixedDType(target);
  if (info?.lanes !== 1) {
    throw invalidArgument(`plain values cannot make a ${dtypeName(target)} tensor; pass a Tensor`);
  }
  const data = new info.array(leaves.length);
  const encode = encoderFor(target);
  for (let i = 0; i < leaves.length; i++) data[i] = encode(leaves[i] as Leaf) as never;
  return new Tensor(info.dtype, shape, data);
}

/**
 * A tensor's values as nested JS arrays following its shape: numbers (bigints for int64/uint64),
 * booleans for DT_BOOL, UTF-8 strings for DT_STRING; half and bfloat16 are widened to numbers.
 *
 * @example
 * tensorToArray(toTensor([[1, 2], [3, 4]])); // [[1, 2], [3, 4]]
 */
export function tensorToArray(tensor: Tensor): NestedArray<number | bigint | boolean | string> {
  const flat = flatValues(tensor);
  if (tensor.shape.length === 0) return flat[0] as number;
  let pos = 0;
  const build = (depth: number): NestedArray<number | bigint | boolean | string> => {
    const size = tensor.shape[depth] ?? 0;
    if (depth === tensor.shape.length - 1) {
      const row = flat.slice(pos, pos + size);
      pos += size;
      return row;
    }
    return Array.from({ length: size }, () => build(depth + 1));
  };
  return build(0);
}

function flatValues(tensor: Tensor): (number | bigint | boolean | string)[] {
  if (tensor.dtype === DataType.DT_STRING) return tensor.strings.map((s) => utf8Decoder.decode(s));
  const values = tensor.values;
  if (tensor.dtype === DataType.DT_BOOL) return Array.from(values as Uint8Array, (v) => v !== 0);
  if (tensor.dtype === DataType.DT_HALF) return Array.from(values as Uint16Array, halfToFloat);
  if (tensor.dtype === DataType.DT_BFLOAT16) return Array.from(values as Uint16Array, bfloat16ToFloat);
  return Array.from(values as ArrayLike<number | bigint>);
}

/** Shape from the nesting (the first element's at each depth; every sibling must agree) and the leaves. */
function flatten(value: NestedArray<Leaf>): { shape: number[]; leaves: Leaf[] } {
  const shape: number[] = [];
  for (let v: unknown = value; Array.isArray(v); v = v[0]) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const leaves: Leaf[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw invalidArgument(`ragged input: a list where a value was expected`);
      leaves.push(v as Leaf);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw invalidArgument(`ragged input: every list at depth ${depth} must have ${shape[depth]} items`);
    }
    for (const item of v) walk(item, depth + 1);
  };
  walk(value, 0);
  if (leaves.length !== numElements(shape)) throw invalidArgument("ragged input");
  return { shape, leaves };
}

function leafDType(leaf: Leaf): DataType {
  switch (typeof leaf) {
    case "number":
      return DataType.DT_FLOAT;
    case "bigint":
      return DataType.DT_INT64;
    case "boolean":
      return DataType.DT_BOOL;
    default:
      return DataType.DT_STRING;
  }
}

function toBytes(leaf: Leaf): Uint8Array {
  if (typeof leaf === "string") return utf8.encode(leaf);
  if (leaf instanceof Uint8Array) return leaf;
  throw invalidArgument(`a DT_STRING tensor holds strings or Uint8Arrays, got ${typeof leaf}`);
}

/** How one JS value becomes a stored element of `dtype`. */
function encoderFor(dtype: DataType): (leaf: Leaf) => number | bigint {
  const number = (leaf: Leaf): number => {
    if (typeof leaf === "number") return leaf;
    if (typeof leaf === "boolean") return leaf ? 1 : 0;
    if (typeof leaf === "bigint") return Number(leaf);
    throw invalidArgument(`${dtypeName(dtype)} input got a ${typeof leaf} value`);
  };
  const integer = (leaf: Leaf): number => {
    const n = number(leaf);
    if (!Number.isInteger(n)) throw invalidArgument(`${dtypeName(dtype)} input got ${n}, not an integer`);
    return n;
  };
  switch (dtype) {
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
      return (leaf) => (typeof leaf === "bigint" ? leaf : BigInt(integer(leaf)));
    case DataType.DT_HALF:
      return (leaf) => floatToHalf(number(leaf));
    case DataType.DT_BFLOAT16:
      return (leaf) => floatToBfloat16(number(leaf));
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
      return number;
    case DataType.DT_BOOL:
      return (leaf) => (number(leaf) !== 0 ? 1 : 0);
    default:
      return integer;
  }
}
