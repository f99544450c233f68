// Tensor ⇄ onnxruntime-node tensors, and TF DataType ⇄ ONNX TensorProto.DataType numbers.
import { Tensor as OrtTensor } from "onnxruntime-node";
import { invalidArgument, unimplemented } from "../errors.js";
import { TensorProto_DataType as OnnxDataType } from "../proto/gen/onnx/onnx_pb.js";
import { baseDType, DataType, dtypeName, fixedDType } from "./dtype.js";
import { Tensor } from "./tensor.js";

/** The element type names onnxruntime-node's Tensor takes ("float32", "int64", "string"...). */
export type OrtTensorType = OrtTensor.Type;

/**
 * TF dtype → ORT tensor type, for the dtypes onnxruntime-node can carry. ORT has no quantized types: a
 * quantized TF tensor goes in as its storage integer type, as tf2onnx and onnxDataType map it.
 * Missing: bfloat16, complex and float8 (the ORT JS API has no types for them).
 */
const TO_ORT = new Map<DataType, OrtTensorType>([
  [DataType.DT_FLOAT, "float32"],
  [DataType.DT_DOUBLE, "float64"],
  [DataType.DT_HALF, "float16"],
  [DataType.DT_INT8, "int8"],
  [DataType.DT_UINT8, "uint8"],
  [DataType.DT_INT16, "int16"],
  [DataType.DT_UINT16, "uint16"],
  [DataType.DT_INT32, "int32"],
  [DataType.DT_UINT32, "uint32"],
  [DataType.DT_INT64, "int64"],
  [DataType.DT_UINT64, "uint64"],
  [DataType.DT_BOOL, "bool"],
  [DataType.DT_STRING, "string"],
  [DataType.DT_QINT8, "int8"],
  [DataType.DT_QUINT8, "uint8"],
  [DataType.DT_QINT16, "int16"],
  [DataType.DT_QUINT16, "uint16"],
  [DataType.DT_QINT32, "int32"],
]);

/** ORT tensor type → TF dtype (plain integer types; quantized ones do not come back). */
const FROM_ORT = new Map<OrtTensorType, DataType>(
  [...TO_ORT].filter(([dtype]) => !dtypeName(dtype).startsWith("DT_Q")).map(([dtype, type]) => [type, dtype]),
);

/** TF dtype → ONNX TensorProto.DataType (SAVEDMODEL_FORMAT.md §3.8). */
const TO_ONNX = new Map<DataType, OnnxDataType>([
  [DataType.DT_FLOAT, OnnxDataType.FLOAT],
  [DataType.DT_UINT8, OnnxDataType.UINT8],
  [DataType.DT_INT8, OnnxDataType.INT8],
  [DataType.DT_UINT16, OnnxDataType.UINT16],
  [DataType.DT_INT16, OnnxDataType.INT16],
  [DataType.DT_INT32, OnnxDataType.INT32],
  [DataType.DT_INT64, OnnxDataType.INT64],
  [DataType.DT_STRING, OnnxDataType.STRING],
  [DataType.DT_BOOL, OnnxDataType.BOOL],
  [DataType.DT_HALF, OnnxDataType.FLOAT16],
  [DataType.DT_DOUBLE, OnnxDataType.DOUBLE],
  [DataType.DT_UINT32, OnnxDataType.UINT32],
  [DataType.DT_UINT64, OnnxDataType.UINT64],
  [DataType.DT_COMPLEX64, OnnxDataType.COMPLEX64],
  [DataType.DT_COMPLEX128, OnnxDataType.COMPLEX128],
  [DataType.DT_BFLOAT16, OnnxDataType.BFLOAT16],
  [DataType.DT_FLOAT8_E4M3FN, OnnxDataType.FLOAT8E4M3FN],
  [DataType.DT_FLOAT8_E4M3FNUZ, OnnxDataType.FLOAT8E4M3FNUZ],
  [DataType.DT_FLOAT8_E5M2, OnnxDataType.FLOAT8E5M2],
  [DataType.DT_FLOAT8_E5M2FNUZ, OnnxDataType.FLOAT8E5M2FNUZ],
  [DataType.DT_UINT4, OnnxDataType.UINT4],
  [DataType.DT_INT4, OnnxDataType.INT4],
]);

/** Quantized TF dtypes have no ONNX type; tf2onnx maps them to their storage integer type. */
const QUANTIZED_STORAGE = new Map<DataType, DataType>([
  [DataType.DT_QINT8, DataType.DT_INT8],
  [DataType.DT_QUINT8, DataType.DT_UINT8],
  [DataType.DT_QINT16, DataType.DT_INT16],
  [DataType.DT_QUINT16, DataType.DT_UINT16],
  [DataType.DT_QINT32, DataType.DT_INT32],
]);

const FROM_ONNX = new Map<number, DataType>([...TO_ONNX].map(([dtype, onnx]) => [onnx, dtype]));

/**
 * The ONNX TensorProto.DataType number of a TF dtype (a _REF dtype counts as its base; quantized types
 * as their storage integers). dtypes ONNX cannot express are UNIMPLEMENTED; DT_INVALID, DT_RESOURCE and
 * DT_VARIANT are INVALID_ARGUMENT.
 *
 * @example
 * onnxDataType(DataType.DT_FLOAT); // 1
 * onnxDataType(DataType.DT_INT64); // 7
 */
export function onnxDataType(dtype: DataType): number {
  const base = baseDType(dtype);
  const onnx = TO_ONNX.get(QUANTIZED_STORAGE.get(base) ?? base);
  if (onnx !== undefined) return onnx;
  if (base === DataType.DT_INVALID || base === DataType.DT_RESOURCE || base === DataType.DT_VARIANT) {
    throw invalidArgument(`${dtypeName(dtype)} has no ONNX tensor type`);
  }
  throw unimplemented(`${dtypeName(dtype)} has no ONNX tensor type`);
}

/**
 * The TF dtype of an ONNX TensorProto.DataType number. ONNX types TF lacks (FLOAT4E2M1...) are
 * UNIMPLEMENTED; 0 (UNDEFINED) and unknown numbers are INVALID_ARGUMENT.
 *
 * @example
 * tfDataTypeFromOnnx(1); // DataType.DT_FLOAT
 * tfDataTypeFromOnnx(10); // DataType.DT_HALF
 */
export function tfDataTypeFromOnnx(onnxType: number): DataType {
  const dtype = FROM_ONNX.get(onnxType);
  if (dtype !== undefined) return dtype;
  if (onnxType > 0 && OnnxDataType[onnxType] !== undefined) {
    throw unimplemented(`ONNX tensor type ${onnxType} has no TensorFlow dtype`);
  }
  throw invalidArgument(`invalid ONNX tensor type ${onnxType}`);
}

/** The ORT tensor type a TF dtype travels as; UNIMPLEMENTED for dtypes ORT's JS API cannot carry. */
export function ortTensorType(dtype: DataType): OrtTensorType {
  const type = TO_ORT.get(baseDType(dtype));
  if (!type) throw unimplemented(`ONNX Runtime tensors cannot hold ${dtypeName(dtype)}`);
  return type;
}

/** The TF dtype an ORT tensor type reads back as; UNIMPLEMENTED for int4/uint4. */
export function dtypeFromOrtType(type: string): DataType {
  const dtype = FROM_ORT.get(type as OrtTensorType);
  if (dtype === undefined) throw unimplemented(`ONNX Runtime tensor type ${type} is not supported`);
  return dtype;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Numeric ORT types, with the constructor overload that takes a matching typed array. */
type NumericOrtType = Exclude<OrtTensorType, "string">;
type NumericOrtTensorConstructor = new (
  type: NumericOrtType,
  data: OrtTensor.DataTypeMap[NumericOrtType],
  dims: readonly number[],
) => OrtTensor;

/**
 * An onnxruntime-node tensor sharing the Tensor's memory (numeric typed arrays are passed as they are;
 * bool as its 0/1 Uint8Array, half as its Uint16Array bit patterns). DT_STRING is decoded to JS strings,
 * so a string that is not valid UTF-8, or holds a NUL byte (the native binding truncates there), is an
 * INVALID_ARGUMENT: ORT's JS API cannot carry raw bytes.
 *
 * @example
 * const o = toOrtTensor(new Tensor(DataType.DT_INT64, [2], new BigInt64Array([1n, 2n])));
 * o.type; // "int64"
 * o.dims; // [2]
 */
export function toOrtTensor(tensor: Tensor): OrtTensor {
  const type = ortTensorType(tensor.dtype);
  if (type === "string") {
    const strings = tensor.strings.map((bytes, i) => {
      // onnxruntime-node passes strings as C strings: everything after a NUL byte would be lost.
      if (bytes.includes(0)) {
        throw invalidArgument(`DT_STRING element ${i} contains a NUL byte, which ONNX Runtime would cut off`);
      }
      try {
        return utf8.decode(bytes);
      } catch {
        throw invalidArgument(
          `DT_STRING element ${i} is not valid UTF-8; ONNX Runtime string tensors hold text only`,
        );
      }
    });
    return new OrtTensor("string", strings, tensor.shape);
  }
  const Numeric = OrtTensor as unknown as NumericOrtTensorConstructor;
  return new Numeric(type, tensor.values as OrtTensor.DataTypeMap[NumericOrtType], tensor.shape);
}

/**
 * A Tensor from an onnxruntime-node CPU tensor, viewing its data (strings are UTF-8 encoded).
 * Quantized TF dtypes do not come back: ORT "int8" reads as DT_INT8.
 *
 * @example
 * const t = fromOrtTensor(new ort.Tensor("float32", new Float32Array([1, 2]), [1, 2]));
 * t.dtype; // DataType.DT_FLOAT
 * t.shape; // [1, 2]
 */
export function fromOrtTensor(ortTensor: OrtTensor): Tensor {
  const dtype = dtypeFromOrtType(ortTensor.type);
  if (ortTensor.location !== "cpu" && ortTensor.location !== "cpu-pinned") {
    throw unimplemented(`ONNX Runtime tensor on ${ortTensor.location} must be read to the CPU first`);
  }
  // Copied into a plain JS array: the binding's own arrays would make shape-handling code polymorphic.
  const shape = [...ortTensor.dims];
  const data = ortTensor.data;
  if (dtype === DataType.DT_STRING) {
    return new Tensor(
      dtype,
      shape,
      (data as readonly string[]).map((s) => utf8Encoder.encode(s)),
    );
  }
  const { array } = fixedDType(dtype)!;
  if (data instanceof array) return new Tensor(dtype, shape, data);
  // float16 arrives as a Float16Array where the runtime has one; view its bits as the Uint16Array we store.
  if (ArrayBuffer.isView(data) && data.byteLength % array.BYTES_PER_ELEMENT === 0) {
    const view = new array(
      data.buffer as ArrayBuffer,
      data.byteOffset,
      data.byteLength / array.BYTES_PER_ELEMENT,
    );
    return new Tensor(dtype, shape, view);
  }
  throw invalidArgument(`ONNX Runtime ${ortTensor.type} tensor data is not a ${array.name}`);
}
