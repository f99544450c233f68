import { invalidArgument } from "../errors.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";

export { DataType };

/** The typed arrays a numeric tensor can be stored in. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

type ArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

export interface DTypeInfo {
  readonly dtype: DataType;
  /** TF's name, e.g. "DT_FLOAT". */
  readonly name: string;
  /** Bytes per element in tensor_content and TensorBundle shards. */
  readonly byteSize: number;
  /** Storage of the values; complex types hold (re, im) pairs, half/bfloat16/float8 hold bit patterns. */
  readonly array: ArrayConstructor;
  /** Typed array elements per tensor element (2 for complex). */
  readonly lanes: number;
}

const info = (dtype: DataType, byteSize: number, array: ArrayConstructor, lanes = 1): DTypeInfo => ({
  dtype,
  name: DataType[dtype] ?? `DT_${dtype}`,
  byteSize,
  array,
  lanes,
});

/** Every fixed-size dtype a served tensor can have. DT_STRING is variable-size and handled apart. */
const FIXED: ReadonlyMap<DataType, DTypeInfo> = new Map(
  [
    info(DataType.DT_FLOAT, 4, Float32Array),
    info(DataType.DT_DOUBLE, 8, Float64Array),
    info(DataType.DT_INT32, 4, Int32Array),
    info(DataType.DT_UINT8, 1, Uint8Array),
    info(DataType.DT_INT16, 2, Int16Array),
    info(DataType.DT_INT8, 1, Int8Array),
    info(DataType.DT_COMPLEX64, 8, Float32Array, 2),
    info(DataType.DT_INT64, 8, BigInt64Array),
    info(DataType.DT_BOOL, 1, Uint8Array),
    info(DataType.DT_QINT8, 1, Int8Array),
    info(DataType.DT_QUINT8, 1, Uint8Array),
    info(DataType.DT_QINT32, 4, Int32Array),
    info(DataType.DT_BFLOAT16, 2, Uint16Array),
    info(DataType.DT_QINT16, 2, Int16Array),
    info(DataType.DT_QUINT16, 2, Uint16Array),
    info(DataType.DT_UINT16, 2, Uint16Array),
    info(DataType.DT_COMPLEX128, 16, Float64Array, 2),
    info(DataType.DT_HALF, 2, Uint16Array),
    info(DataType.DT_UINT32, 4, Uint32Array),
    info(DataType.DT_UINT64, 8, BigUint64Array),
    info(DataType.DT_FLOAT8_E5M2, 1, Uint8Array),
    info(DataType.DT_FLOAT8_E4M3FN, 1, Uint8Array),
    info(DataType.DT_FLOAT8_E4M3FNUZ, 1, Uint8Array),
    info(DataType.DT_FLOAT8_E4M3B11FNUZ, 1, Uint8Array),
    info(DataType.DT_FLOAT8_E5M2FNUZ, 1, Uint8Array),
  ].map((i) => [i.dtype, i]),
);

/** Every dtype a Tensor can hold: the fixed-size ones and DT_STRING. */
export const TENSOR_DTYPES: readonly DataType[] = [...FIXED.keys(), DataType.DT_STRING];

/** Strips the _REF marker old TF1 graphs put on variable dtypes (DT_FLOAT_REF = 101 → DT_FLOAT). */
export function baseDType(dtype: DataType): DataType {
  return dtype > 100 ? ((dtype - 100) as DataType) : dtype;
}

export function dtypeName(dtype: DataType): string {
  return DataType[dtype] ?? `DT_UNKNOWN(${dtype})`;
}

/**
 * TF's DataTypeString(dtype), the lower-case name TF Serving's messages use: the enum name without
 * `DT_` ("float", "double", "half", "float_ref").
 *
 * @example
 * tfTypeName(DataType.DT_FLOAT); // "float"
 */
export function tfTypeName(dtype: DataType): string {
  const name = DataType[dtype];
  return name === undefined ? `unknown dtype enum (${dtype})` : name.replace(/^DT_/, "").toLowerCase();
}

/** Storage facts of a fixed-size dtype; undefined for DT_STRING and unsupported types. */
export function fixedDType(dtype: DataType): DTypeInfo | undefined {
  return FIXED.get(baseDType(dtype));
}

/** Like fixedDType, but a dtype without fixed-size storage is an INVALID_ARGUMENT. */
export function requireFixedDType(dtype: DataType): DTypeInfo {
  const found = fixedDType(dtype);
  if (!found) throw invalidArgument(`dtype ${dtypeName(dtype)} has no fixed-size element storage`);
  return found;
}

/** Human dtype names as saved_model_cli prints them ("float32", "int64", "string"...). */
const SHORT_NAMES: Partial<Record<DataType, string>> = {
  [DataType.DT_FLOAT]: "float32",
  [DataType.DT_DOUBLE]: "float64",
  [DataType.DT_INT32]: "int32",
  [DataType.DT_UINT8]: "uint8",
  [DataType.DT_INT16]: "int16",
  [DataType.DT_INT8]: "int8",
  [DataType.DT_STRING]: "string",
  [DataType.DT_COMPLEX64]: "complex64",
  [DataType.DT_INT64]: "int64",
  [DataType.DT_BOOL]: "bool",
  [DataType.DT_BFLOAT16]: "bfloat16",
  [DataType.DT_UINT16]: "uint16",
  [DataType.DT_COMPLEX128]: "complex128",
  [DataType.DT_HALF]: "float16",
  [DataType.DT_UINT32]: "uint32",
  [DataType.DT_UINT64]: "uint64",
  [DataType.DT_RESOURCE]: "resource",
  [DataType.DT_VARIANT]: "variant",
};

export function dtypeShortName(dtype: DataType): string {
  return SHORT_NAMES[baseDType(dtype)] ?? dtypeName(baseDType(dtype)).replace(/^DT_/, "").toLowerCase();
}
