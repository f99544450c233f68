// Const, pass-through ops, Cast, Range, TopKV2.
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { OpHandler } from "../lowering.js";
import { castTo, int64Operand, int64s, op, outputDType, unsupported } from "./util.js";

/** Ops whose outputs are their inputs (output i = input i): lowered to nothing but a name binding. */
export const PASS_THROUGH_OPS: ReadonlySet<string> = new Set([
  "Identity",
  "IdentityN",
  "StopGradient",
  "PreventGradient",
  "CheckNumerics",
  "EnsureShape",
  "Snapshot",
]);

const passThrough: OpHandler = (ctx) => {
  ctx.node.inputs.forEach((_, i) => {
    ctx.setOutput(i, ctx.input(i));
  });
};

/** A constant becomes an initializer (dropped again if nothing in the segment reads it). */
const constant: OpHandler = (ctx) => {
  const value = ctx.node.value;
  if (!value) throw unsupported(ctx, "Const node without a value");
  ctx.setOutput(0, ctx.constant(value, "value"));
};

/** Truncate is ignored: float → int truncates toward zero in both TF and ONNX. */
const cast: OpHandler = (ctx) => {
  ctx.setOutput(0, castTo(ctx, ctx.input(0), ctx.inputDType(0), outputDType(ctx)));
};

const range: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Range", [ctx.input(0), ctx.input(1), ctx.input(2)]));
};

/** TopKV2 over the last axis; ONNX wants k as int64 [1] and returns int64 indices (TF: int32 by default). */
const topK: OpHandler = (ctx) => {
  const k = op(ctx, "Reshape", [int64Operand(ctx, 1, "k"), int64s(ctx, [1], "k_shape")]);
  const [values, indices] = ctx.emit(
    "TopK",
    [ctx.input(0), k],
    { axis: -1, largest: 1, sorted: 1 },
    { outputs: 2 },
  );
  ctx.setOutput(0, values!);
  ctx.setOutput(1, castTo(ctx, indices!, DataType.DT_INT64, outputDType(ctx, 1)));
};

export const MISC_OPS: Readonly<Record<string, OpHandler>> = {
  ...Object.fromEntries([...PASS_THROUGH_OPS].map((name) => [name, passThrough])),
  Const: constant,
  NoOp: () => {},
  Cast: cast,
  Range: range,
  TopKV2: topK,
};
