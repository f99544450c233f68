import { create, toBinary } from "@bufbuild/protobuf";
import {
  type AttributeProto,
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  ModelProtoSchema,
  type TensorProto,
  TensorProtoSchema,
  type TypeProto,
  TypeProtoSchema,
} from "../../proto/gen/onnx/onnx_pb.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { onnxDataType } from "../../tensor/ort.js";
import { Tensor, tensorToBytes } from "../../tensor/tensor.js";
import type { OnnxAttribute, StaticShape } from "./lowering.js";

/** The default ONNX opset of lowered segments (ReduceMean/Max/Min/Prod take axes as inputs from 18). */
export const ONNX_OPSET = 18;
/** IR version 8 is the first that allows opset 18; onnxruntime-node 1.30 reads up to IR 11. */
export const ONNX_IR_VERSION = 8;

/** One ONNX node as handlers emit it. */
export interface OnnxNode {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, OnnxAttribute>>;
  readonly domain?: string;
}

/** A graph input or output: TF dtype and a static shape (-1 → a symbolic dim, null → no shape). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dtype: DataType;
  readonly shape?: StaticShape;
}

export interface OnnxModelSpec {
  readonly name: string;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: ReadonlyMap<string, Tensor>;
  readonly nodes: readonly OnnxNode[];
  /** Extra opset imports by domain (e.g. "ai.onnx.ml" → 3); ai.onnx is always ONNX_OPSET. */
  readonly opsets?: ReadonlyMap<string, number>;
}

/**
 * Serializes an ONNX model. Initializers are stored as raw_data (strings as string_data).
 *
 * @example
 * const bytes = buildOnnxModel({
 *   name: "neg", initializers: new Map(),
 *   inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 2] }],
 *   outputs: [{ name: "y", dtype: DataType.DT_FLOAT }],
 *   nodes: [{ opType: "Neg", name: "n", inputs: ["x"], outputs: ["y"], attrs: {} }],
 * });
 */
export function buildOnnxModel(spec: OnnxModelSpec): Uint8Array {
  let symbolic = 0;
  const valueInfo = (info: OnnxValueInfo) => ({
    name: info.name,
    type: tensorType(info.dtype, info.shape ?? null, () => `${info.name}_d${symbolic++}`),
  });
  const opsets = [{ domain: "", version: BigInt(ONNX_OPSET) }];
  for (const [domain, version] of spec.opsets ?? []) opsets.push({ domain, version: BigInt(version) });
  const model = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    producerName: "ts-serving",
    opsetImport: opsets,
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: [...spec.initializers].map(([name, tensor]) => onnxTensor(tensor, name)),
      node: spec.nodes.map((node) => ({
        opType: node.opType,
        name: node.name,
        domain: node.domain ?? "",
        input: [...node.inputs],
        output: [...node.outputs],
        attribute: Object.entries(node.attrs).map(([name, value]) => onnxAttribute(name, value)),
      })),
    },
  });
  return toBinary(ModelProtoSchema, model);
}

function tensorType(dtype: DataType, shape: StaticShape, symbol: () => string): TypeProto {
  const dims = shape?.map((d) =>
    d < 0
      ? { value: { case: "dimParam" as const, value: symbol() } }
      : { value: { case: "dimValue" as const, value: BigInt(d) } },
  );
  return create(TypeProtoSchema, {
    value: {
      case: "tensorType",
      value: { elemType: onnxDataType(dtype), ...(dims ? { shape: { dim: dims } } : {}) },
    },
  });
}

/** A TensorProto holding `tensor` (raw little-endian bytes; UTF-8 bytes per element for strings). */
export function onnxTensor(tensor: Tensor, name = ""): TensorProto {
  const base = { name, dims: tensor.shape.map(BigInt), dataType: onnxDataType(tensor.dtype) };
  if (tensor.dtype === DataType.DT_STRING)
    return create(TensorProtoSchema, { ...base, stringData: tensor.strings });
  return create(TensorProtoSchema, { ...base, rawData: tensorToBytes(tensor) });
}

/** The AttributeProto fields handlers' values map to. */
interface AttributeInit {
  type: AttrType;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
}

type ListAttribute = readonly number[] | readonly bigint[] | readonly string[];
const isList = (value: OnnxAttribute): value is ListAttribute => Array.isArray(value);

const isIntegral = (values: readonly number[]): boolean => values.every(Number.isInteger);

/** Picks the AttributeProto type from the JS value: integers are INT(S), other numbers FLOAT(S). */
export function onnxAttribute(name: string, value: OnnxAttribute): AttributeProto {
  const attr = (init: AttributeInit) => create(AttributeProtoSchema, { name, ...init });
  if (typeof value === "bigint") return attr({ type: AttrType.INT, i: value });
  if (typeof value === "number") {
    return Number.isInteger(value)
      ? attr({ type: AttrType.INT, i: BigInt(value) })
      : attr({ type: AttrType.FLOAT, f: value });
  }
  if (typeof value === "string") return attr({ type: AttrType.STRING, s: new TextEncoder().encode(value) });
  if (value instanceof Uint8Array) return attr({ type: AttrType.STRING, s: value });
  if (value instanceof Tensor) return attr({ type: AttrType.TENSOR, t: onnxTensor(value) });
  if (isList(value)) {
    const list: readonly unknown[] = value;
    if (list.every((v) => typeof v === "string")) {
      const encoder = new TextEncoder();
      return attr({ type: AttrType.STRINGS, strings: (list as string[]).map((s) => encoder.encode(s)) });
    }
    if (list.every((v) => typeof v === "bigint"))
      return attr({ type: AttrType.INTS, ints: [...(list as bigint[])] });
    const numbers = list as number[];
    return isIntegral(numbers)
      ? attr({ type: AttrType.INTS, ints: numbers.map(BigInt) })
      : attr({ type: AttrType.FLOATS, floats: [...numbers] });
  }
  if ("float" in value) return attr({ type: AttrType.FLOAT, f: value.float });
  if ("floats" in value) return attr({ type: AttrType.FLOATS, floats: [...value.floats] });
  return attr({ type: AttrType.INTS, ints: value.ints.map((v) => BigInt(v)) });
}
