// TensorProto ⇄ Tensor, following TF's Tensor::FromProto / AsProtoField / AsProtoTensorContent
// (SAVEDMODEL_FORMAT.md §3.6).
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { invalidArgument, unimplemented } from "../errors.js";
import { type TensorProto, TensorProtoSchema } from "../proto/gen/tensorflow/core/framework/tensor_pb.js";
import {
  baseDType,
  DataType,
  type DTypeInfo,
  dtypeName,
  fixedDType,
  type NumericArray,
  TENSOR_DTYPES,
} from "./dtype.js";
import { concreteShapeFromProto, shapeToProto } from "./shape.js";
import { numElements, Tensor, tensorFromBytes, tensorToBytes } from "./tensor.js";

/** How tensorToProto writes values: raw bytes in tensor_content, or the dtype's repeated *_val field. */
export type TensorProtoEncoding = "content" | "typed";

/** dtypes TF has but a Tensor cannot hold yet (sub-byte packing). */
const UNSUPPORTED_DTYPES: ReadonlySet<DataType> = new Set([
  DataType.DT_INT4,
  DataType.DT_UINT4,
  DataType.DT_INT2,
  DataType.DT_UINT2,
]);

/** int_val, half_val and friends are proto int32 fields; TF narrows them to the dtype. */
const INT_RANGES = new Map<unknown, readonly [number, number]>([
  [Int8Array, [-128, 127]],
  [Uint8Array, [0, 255]],
  [Int16Array, [-32768, 32767]],
  [Uint16Array, [0, 65535]],
  [Int32Array, [-(2 ** 31), 2 ** 31 - 1]],
  [Uint32Array, [0, 2 ** 32 - 1]],
]);
const INT64_RANGES = new Map<unknown, readonly [bigint, bigint]>([
  [BigInt64Array, [-(2n ** 63n), 2n ** 63n - 1n]],
  [BigUint64Array, [0n, 2n ** 64n - 1n]],
]);
// half_val holds a 16-bit pattern; accept it sign-extended too, as some writers store an int16 view.
const HALF_VAL_RANGE = [-32768, 65535] as const;

/** A short *_val list is expanded to this many elements at most, so a tiny proto cannot claim gigabytes. */
const MAX_FILLED_ELEMENTS = 2 ** 31 - 1;

/**
 * Reads a TensorProto into a Tensor.
 *
 * Non-empty tensor_content wins and must hold exactly numElements × element size bytes (it is viewed
 * in place, not copied per element). Otherwise the dtype's *_val field is read: no values → zeros,
 * fewer values than elements → the last value repeats, more → INVALID_ARGUMENT. DT_INVALID,
 * DT_RESOURCE, DT_VARIANT and shapes with unknown dimensions are INVALID_ARGUMENT.
 *
 * @example
 * const proto = create(TensorProtoSchema, {
 *   dtype: DataType.DT_INT32,
 *   tensorShape: shapeToProto([4]),
 *   intVal: [1, 2],
 * });
 * tensorFromProto(proto).values; // Int32Array [1, 2, 2, 2]
 */
export function tensorFromProto(proto: TensorProto): Tensor {
  const dtype = proto.dtype;
  requireTensorDType(dtype);
  const shape = concreteShapeFromProto(proto.tensorShape);
  if (!Number.isSafeInteger(numElements(shape))) {
    throw invalidArgument(`${dtypeName(dtype)} tensor of shape [${shape}] has too many elements`);
  }
  if (proto.tensorContent.byteLength > 0) {
    return dtype === DataType.DT_STRING
      ? new Tensor(dtype, shape, decodeStringList(proto.tensorContent, numElements(shape)))
      : fromTensorContent(dtype, shape, proto.tensorContent);
  }
  return fromTypedField(dtype, shape, proto);
}

/**
 * Writes a Tensor as a TensorProto. "content" puts the raw little-endian bytes in tensor_content
 * (a view of the tensor's memory, not a copy); "typed" fills the dtype's *_val field with every value
 * (no trailing-repeat compression). DT_STRING always uses string_val, whatever the encoding.
 *
 * @example
 * const t = new Tensor(DataType.DT_FLOAT, [2], new Float32Array([1, 2]));
 * tensorToProto(t, "typed").floatVal; // [1, 2]
 * tensorToProto(t).tensorContent.byteLength; // 8
 */
export function tensorToProto(tensor: Tensor, encoding: TensorProtoEncoding = "content"): TensorProto {
  // A Tensor may carry a TF1 _REF dtype; the values themselves are of the base dtype.
  const dtype = baseDType(tensor.dtype);
  const tensorShape = shapeToProto(tensor.shape);
  // Literal init objects, not spreads: create() probes ~20 field names on the init, and on a spread
  // object those misses made one encode 2-3× slower (≈5 µs instead of ≈2 µs per output tensor).
  if (tensor.dtype === DataType.DT_STRING) {
    return create(TensorProtoSchema, { dtype, tensorShape, stringVal: [...tensor.strings] });
  }
  if (encoding === "content") {
    return create(TensorProtoSchema, { dtype, tensorShape, tensorContent: tensorToBytes(tensor) });
  }
  return Object.assign(create(TensorProtoSchema, { dtype, tensorShape }), typedFieldOf(tensor));
}

function requireTensorDType(dtype: DataType): void {
  if (TENSOR_DTYPES.includes(dtype)) return;
  if (UNSUPPORTED_DTYPES.has(dtype))
    throw unimplemented(`tensors of dtype ${dtypeName(dtype)} are not supported`);
  throw invalidArgument(`a TensorProto of dtype ${dtypeName(dtype)} cannot be converted to a tensor`);
}

function fromTensorContent(dtype: DataType, shape: readonly number[], content: Uint8Array): Tensor {
  const info = fixedDType(dtype)!;
  const expected = numElements(shape) * info.byteSize;
  if (content.byteLength !== expected) {
    throw invalidArgument(
      `tensor_content of a ${dtypeName(dtype)} tensor of shape [${shape}] must be ${expected} bytes ` +
        `(${numElements(shape)} elements × ${info.byteSize}), got ${content.byteLength}`,
    );
  }
  return tensorFromBytes(dtype, shape, content);
}

/**
 * TF's string tensor_content (port::EncodeStringList): a varint32 length per element, then all the bytes.
 * TF never writes it from Python, but C++ AsProtoTensorContent does.
 */
function decodeStringList(content: Uint8Array, count: number): Uint8Array[] {
  const fail = (why: string) => invalidArgument(`malformed DT_STRING tensor_content: ${why}`);
  const lengths: number[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28 || pos >= content.length) throw fail(`bad length varint for element ${i}`);
      const byte = content[pos++]!;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    lengths.push(length);
  }
  const total = lengths.reduce((a, b) => a + b, 0);
  if (content.length - pos !== total) {
    throw fail(`lengths sum to ${total} bytes but ${content.length - pos} bytes follow them`);
  }
  return lengths.map((length) => {
    const value = content.subarray(pos, pos + length);
    pos += length;
    return value;
  });
}

/** A typed array as the fill code sees it, whatever its element type V (number or bigint). */
interface WritableArray<V> {
  readonly length: number;
  set(values: ArrayLike<V>, offset?: number): void;
  fill(value: V, start?: number): unknown;
  [index: number]: V;
}

/** Copies the m given values (groups of `lanes`), then repeats the last group up to the end. */
function fillRepeatingLast<V>(out: WritableArray<V>, values: ArrayLike<V>, lanes: number): void {
  out.set(values);
  if (values.length === 0 || values.length === out.length) return;
  if (lanes === 1) {
    out.fill(values[values.length - 1]!, values.length);
    return;
  }
  for (let i = values.length; i < out.length; i++) out[i] = out[i - lanes]!;
}

/** The proto field name (for messages) and the values of the typed field TF reads for a dtype. */
interface TypedValues {
  readonly field: string;
  readonly values: ArrayLike<number> | ArrayLike<bigint> | readonly Uint8Array[];
}

function typedValuesOf(dtype: DataType, info: DTypeInfo | undefined, proto: TensorProto): TypedValues {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return { field: "float_val", values: proto.floatVal };
    case DataType.DT_DOUBLE:
      return { field: "double_val", values: proto.doubleVal };
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      checkIntRange("half_val", dtype, proto.halfVal, HALF_VAL_RANGE);
      return { field: "half_val", values: proto.halfVal };
    case DataType.DT_UINT32:
      checkIntRange("uint32_val", dtype, proto.uint32Val, INT_RANGES.get(Uint32Array)!);
      return { field: "uint32_val", values: proto.uint32Val };
    case DataType.DT_INT64:
      checkBigIntRange("int64_val", dtype, proto.int64Val, INT64_RANGES.get(BigInt64Array)!);
      return { field: "int64_val", values: proto.int64Val };
    case DataType.DT_UINT64:
      checkBigIntRange("uint64_val", dtype, proto.uint64Val, INT64_RANGES.get(BigUint64Array)!);
      return { field: "uint64_val", values: proto.uint64Val };
    case DataType.DT_BOOL:
      return { field: "bool_val", values: proto.boolVal.map((b) => (b ? 1 : 0)) };
    case DataType.DT_COMPLEX64:
      return { field: "scomplex_val", values: proto.scomplexVal };
    case DataType.DT_COMPLEX128:
      return { field: "dcomplex_val", values: proto.dcomplexVal };
    case DataType.DT_STRING:
      return { field: "string_val", values: proto.stringVal };
    case DataType.DT_FLOAT8_E5M2:
    case DataType.DT_FLOAT8_E4M3FN:
    case DataType.DT_FLOAT8_E4M3FNUZ:
    case DataType.DT_FLOAT8_E4M3B11FNUZ:
    case DataType.DT_FLOAT8_E5M2FNUZ:
      return { field: "float8_val", values: proto.float8Val };
    default:
      // INT32, INT16, INT8, UINT8, UINT16 and the quantized types all travel in int_val.
      checkIntRange("int_val", dtype, proto.intVal, INT_RANGES.get(info!.array)!);
      return { field: "int_val", values: proto.intVal };
  }
}

function checkIntRange(
  field: string,
  dtype: DataType,
  values: readonly number[],
  [min, max]: readonly [number, number],
): void {
  for (const v of values) {
    if (!Number.isInteger(v) || v < min || v > max) {
      throw invalidArgument(`${field} value ${v} is out of range for ${dtypeName(dtype)} (${min}..${max})`);
    }
  }
}

function checkBigIntRange(
  field: string,
  dtype: DataType,
  values: readonly bigint[],
  [min, max]: readonly [bigint, bigint],
): void {
  for (const v of values) {
    if (v < min || v > max) {
      throw invalidArgument(`${field} value ${v} is out of range for ${dtypeName(dtype)} (${min}..${max})`);
    }
  }
}

function fromTypedField(dtype: DataType, shape: readonly number[], proto: TensorProto): Tensor {
  const info = fixedDType(dtype);
  const lanes = info?.lanes ?? 1;
  const { field, values } = typedValuesOf(dtype, info, proto);
  const n = numElements(shape);
  if (values.length % lanes !== 0) {
    throw invalidArgument(`${field} of a ${dtypeName(dtype)} tensor must hold (real, imaginary) pairs`);
  }
  const m = values.length / lanes;
  if (m > n) {
    throw invalidArgument(
      `${field} has ${m} values but a ${dtypeName(dtype)} tensor of shape [${shape}] has ${n} elements`,
    );
  }
  if (m < n && n > MAX_FILLED_ELEMENTS) {
    throw invalidArgument(
      `${dtypeName(dtype)} tensor of shape [${shape}] is too large to fill from ${field}`,
    );
  }
  if (!info) {
    const strings = values as readonly Uint8Array[];
    const last = strings[m - 1] ?? new Uint8Array(0);
    return new Tensor(
      dtype,
      shape,
      Array.from({ length: n }, (_, i) => strings[i] ?? last),
    );
  }
  const out = new info.array(n * lanes);
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    fillRepeatingLast<bigint>(out, values as ArrayLike<bigint>, lanes);
  } else {
    fillRepeatingLast<number>(out, values as ArrayLike<number>, lanes);
  }
  return new Tensor(dtype, shape, out);
}

/** The *_val field (proto init) holding every value of a fixed-size tensor. */
function typedFieldOf(tensor: Tensor): MessageInitShape<typeof TensorProtoSchema> {
  const values = tensor.values;
  switch (baseDType(tensor.dtype)) {
    case DataType.DT_FLOAT:
      return { floatVal: numberList(values) };
    case DataType.DT_DOUBLE:
      return { doubleVal: numberList(values) };
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
      return { halfVal: numberList(values) };
    case DataType.DT_UINT32:
      return { uint32Val: numberList(values) };
    case DataType.DT_INT64:
      return { int64Val: bigintList(values) };
    case DataType.DT_UINT64:
      return { uint64Val: bigintList(values) };
    case DataType.DT_BOOL:
      return { boolVal: numberList(values).map((v) => v !== 0) };
    case DataType.DT_COMPLEX64:
      return { scomplexVal: numberList(values) };
    case DataType.DT_COMPLEX128:
      return { dcomplexVal: numberList(values) };
    case DataType.DT_FLOAT8_E5M2:
    case DataType.DT_FLOAT8_E4M3FN:
    case DataType.DT_FLOAT8_E4M3FNUZ:
    case DataType.DT_FLOAT8_E4M3B11FNUZ:
    case DataType.DT_FLOAT8_E5M2FNUZ:
      return { float8Val: tensorToBytes(tensor).slice() };
    default:
      return { intVal: numberList(values) };
  }
}

function numberList(values: NumericArray): number[] {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    throw invalidArgument("expected a numeric tensor with number values");
  }
  return copyToArray<number>(values);
}

function bigintList(values: NumericArray): bigint[] {
  if (!(values instanceof BigInt64Array || values instanceof BigUint64Array)) {
    throw invalidArgument("expected a 64-bit integer tensor");
  }
  return copyToArray<bigint>(values);
}

/**
 * A typed array's values as a JS array. A sized array and an index loop: Array.from goes through the
 * iterator and is 6-10× slower (≈30 ms instead of 4 ms for a 1 MB float32 output in *_val fields).
 */
function copyToArray<T extends number | bigint>(values: ArrayLike<T>): T[] {
  const out = new Array<T>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] as T;
  return out;
}
