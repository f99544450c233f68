// The tensor layer: dtypes, the Tensor class, shapes, TensorProto and ONNX Runtime conversions, 16-bit floats.
export {
  baseDType,
  DataType,
  type DTypeInfo,
  dtypeName,
  dtypeShortName,
  fixedDType,
  type NumericArray,
  requireFixedDType,
  TENSOR_DTYPES,
} from "./dtype.js";
export { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "./half.js";
export {
  dtypeFromOrtType,
  fromOrtTensor,
  type OrtTensorType,
  onnxDataType,
  ortTensorType,
  tfDataTypeFromOnnx,
  toOrtTensor,
} from "./ort.js";
export {
  concreteShapeFromProto,
  formatShape,
  type PartialShape,
  shapeFromProto,
  shapeToProto,
} from "./shape.js";
export { numElements, Tensor, type TensorData, tensorFromBytes, tensorToBytes } from "./tensor.js";
export { type TensorProtoEncoding, tensorFromProto, tensorToProto } from "./tensor-proto.js";
