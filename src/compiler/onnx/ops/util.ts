// Helpers shared by the op handlers: attr reading, constant inputs, small ONNX idioms.
import { Code, ServingError } from "../../../errors.js";
import type { GraphNode } from "../../../graph/ir.js";
import type { AttrValue } from "../../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import { dtypeName, requireFixedDType } from "../../../tensor/dtype.js";
import { floatToBfloat16, floatToHalf } from "../../../tensor/half.js";
import { onnxDataType } from "../../../tensor/ort.js";
import { Tensor } from "../../../tensor/tensor.js";
import type { LoweringContext, OnnxAttribute } from "../lowering.js";

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** UNIMPLEMENTED "<op> <node name>: <what>". */
export function unsupported(ctx: LoweringContext, what: string): ServingError {
  return new ServingError(Code.UNIMPLEMENTED, `${ctx.node.op} ${ctx.node.name}: ${what}`);
}

const attrValue = (node: GraphNode, name: string): AttrValue["value"] | undefined => {
  const value = node.attrs[name]?.value;
  return value?.case === undefined ? undefined : value;
};

export function intAttr(node: GraphNode, name: string, fallback: number): number {
  const v = attrValue(node, name);
  return v?.case === "i" ? Number(v.value) : fallback;
}

export function floatAttr(node: GraphNode, name: string, fallback: number): number {
  const v = attrValue(node, name);
  return v?.case === "f" ? v.value : fallback;
}

export function boolAttr(node: GraphNode, name: string, fallback: boolean): boolean {
  const v = attrValue(node, name);
  return v?.case === "b" ? v.value : fallback;
}

export function stringAttr(node: GraphNode, name: string, fallback: string): string {
  const v = attrValue(node, name);
  return v?.case === "s" ? new TextDecoder().decode(v.value) : fallback;
}

export function intsAttr(node: GraphNode, name: string, fallback: readonly number[]): number[] {
  const v = attrValue(node, name);
  return v?.case === "list" ? v.value.i.map(Number) : [...fallback];
}

export function typeAttr(node: GraphNode, name: string, fallback: DataType): DataType {
  const v = attrValue(node, name);
  return v?.case === "type" ? v.value : fallback;
}

/** The values of constant input i as numbers; UNIMPLEMENTED when the input is not a constant. */
export function constNumbers(ctx: LoweringContext, i: number, what: string): number[] {
  const value = ctx.constInput(i);
  if (!value) throw unsupported(ctx, `${what} must be a constant`);
  return Array.from(value.values as ArrayLike<number | bigint>, Number);
}

/** Like constNumbers for a scalar (or one-element) constant. */
export function constScalar(ctx: LoweringContext, i: number, what: string): number {
  const values = constNumbers(ctx, i, what);
  if (values.length !== 1) throw unsupported(ctx, `${what} must be a scalar, got ${values.length} values`);
  return values[0]!;
}

/** A scalar (or given shape, filled) tensor of any numeric dtype or bool. */
export function filledTensor(dtype: DataType, value: number, shape: readonly number[] = []): Tensor {
  const info = requireFixedDType(dtype);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new info.array(n);
  const stored =
    dtype === DataType.DT_HALF
      ? floatToHalf(value)
      : dtype === DataType.DT_BFLOAT16
        ? floatToBfloat16(value)
        : value;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) data.fill(BigInt(stored));
  else data.fill(stored);
  return new Tensor(dtype, shape, data);
}

/** An initializer: a scalar in `dtype` (shape [] unless given). */
export function scalar(
  ctx: LoweringContext,
  value: number,
  dtype: DataType,
  shape: readonly number[] = [],
): string {
  return ctx.constant(
    filledTensor(dtype, value, shape),
    `${dtypeName(dtype).slice(3).toLowerCase()}_${value}`,
  );
}

/** An int64 initializer (1-D unless a shape is given). */
export function int64s(
  ctx: LoweringContext,
  values: readonly (number | bigint)[],
  hint = "int64",
  shape: readonly number[] = [values.length],
): string {
  return ctx.constant(
    new Tensor(
      DataType.DT_INT64,
      shape,
      BigInt64Array.from(values, (v) => BigInt(v)),
    ),
    hint,
  );
}

/** Emits one ONNX node with a single output and returns that output. */
export function op(
  ctx: LoweringContext,
  opType: string,
  inputs: readonly string[],
  attrs?: Readonly<Record<string, OnnxAttribute>>,
): string {
  return ctx.emit(opType, inputs, attrs)[0]!;
}

/** Casts a value to a TF dtype unless it already has it. */
export function castTo(ctx: LoweringContext, value: string, from: DataType, to: DataType): string {
  return from === to ? value : op(ctx, "Cast", [value], { to: onnxDataType(to) });
}

/** Input i as int64 (ONNX shape-like inputs: Reshape shape, Tile repeats, Slice starts...). */
export function int64Input(ctx: LoweringContext, i: number): string {
  return castTo(ctx, ctx.input(i), ctx.inputDType(i), DataType.DT_INT64);
}

/** Input i as int64, from a host-converted constant when it is one (no Cast node then). */
export function int64Operand(ctx: LoweringContext, i: number, hint = "int64"): string {
  const value = ctx.constInput(i);
  if (!value) return int64Input(ctx, i);
  return int64s(
    ctx,
    Array.from(value.values as ArrayLike<number | bigint>, (v) => BigInt(v)),
    hint,
    value.shape,
  );
}

/** Input i as a 1-D int64 tensor (TF often allows a scalar where ONNX needs a vector). */
export function int64VectorInput(ctx: LoweringContext, i: number): string {
  const value = int64Input(ctx, i);
  return ctx.inputShape(i)?.length === 1
    ? value
    : op(ctx, "Reshape", [value, int64s(ctx, [-1], "minus_one")]);
}

/** Rank of input i; UNIMPLEMENTED when unknown. */
export function requireRank(ctx: LoweringContext, i: number, why: string): number {
  const shape = ctx.inputShape(i);
  if (shape === null) throw unsupported(ctx, `the rank of input ${i} must be known ${why}`);
  return shape.length;
}

/** TF data_format ("NHWC", "NCHW", "NDHWC"...) → whether channels come last. */
export function channelsLast(ctx: LoweringContext, fallback = "NHWC"): boolean {
  const format = stringAttr(ctx.node, "data_format", fallback);
  if (format === "NHWC" || format === "NDHWC" || format === "NWC") return true;
  if (format === "NCHW" || format === "NCDHW" || format === "NCW") return false;
  throw unsupported(ctx, `data_format ${format} is not supported`);
}

/** Binds every output of the node to the same-index value. */
export function bindOutputs(ctx: LoweringContext, values: readonly string[]): void {
  values.forEach((value, i) => {
    ctx.setOutput(i, value);
  });
}

export const isFloat = (dtype: DataType): boolean =>
  dtype === DataType.DT_FLOAT ||
  dtype === DataType.DT_DOUBLE ||
  dtype === DataType.DT_HALF ||
  dtype === DataType.DT_BFLOAT16;

export const isUnsigned = (dtype: DataType): boolean =>
  dtype === DataType.DT_UINT8 ||
  dtype === DataType.DT_UINT16 ||
  dtype === DataType.DT_UINT32 ||
  dtype === DataType.DT_UINT64 ||
  dtype === DataType.DT_BOOL;

/** Output dtype i of the node (what TF promises; ONNX values must match it). */
export function outputDType(ctx: LoweringContext, i = 0): DataType {
  const dtype = ctx.node.outputDTypes[i];
  if (dtype === undefined) throw unsupported(ctx, `output ${i} has no dtype`);
  return dtype;
}
