// Element-wise unary math and activations.

import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { LoweringContext, OnnxAttribute, OpHandler } from "../lowering.js";
import { castTo, floatAttr, isFloat, op, scalar } from "./util.js";

/** TF op → the ONNX op of the same meaning on one input. */
const unary =
  (onnxOp: string, attrs?: Readonly<Record<string, OnnxAttribute>>): OpHandler =>
  (ctx) => {
    ctx.setOutput(0, op(ctx, onnxOp, [ctx.input(0)], attrs));
  };

const SAME_NAME = [
  "Relu",
  "Sigmoid",
  "Tanh",
  "Exp",
  "Log",
  "Sqrt",
  "Abs",
  "Neg",
  "Floor",
  "Ceil",
  "Reciprocal",
  "Sin",
  "Cos",
  "Tan",
  "Asin",
  "Acos",
  "Atan",
  "Sinh",
  "Cosh",
  "Asinh",
  "Acosh",
  "Atanh",
  "Sign",
  "Softplus",
  "Softsign",
  "Selu",
  "IsInf",
] as const;

/** x · log(u) / (u − 1) with u = 1 + x: log1p without losing tiny x to rounding (Goldberg's trick). */
const log1p: OpHandler = (ctx) => {
  const dtype = ctx.inputDType(0);
  const x = ctx.input(0);
  const one = scalar(ctx, 1, dtype);
  const u = op(ctx, "Add", [x, one]);
  const d = op(ctx, "Sub", [u, one]);
  const corrected = op(ctx, "Mul", [x, op(ctx, "Div", [op(ctx, "Log", [u]), d])]);
  const small = op(ctx, "Where", [op(ctx, "Equal", [d, scalar(ctx, 0, dtype)]), x, corrected]);
  // x = +inf gives inf/inf above; log(u) is right there (and NaN for −inf, as in TF).
  ctx.setOutput(0, op(ctx, "Where", [op(ctx, "IsInf", [x]), op(ctx, "Log", [u]), small]));
};

/** onnxruntime's CPU Erf is float32 only: other float types go through float32. */
const erf: OpHandler = (ctx) => {
  const dtype = ctx.inputDType(0);
  const x = castTo(ctx, ctx.input(0), dtype, DataType.DT_FLOAT);
  ctx.setOutput(0, castTo(ctx, op(ctx, "Erf", [x]), DataType.DT_FLOAT, dtype));
};

const relu6: OpHandler = (ctx) => {
  const dtype = ctx.inputDType(0);
  ctx.setOutput(0, op(ctx, "Clip", [ctx.input(0), scalar(ctx, 0, dtype), scalar(ctx, 6, dtype)]));
};

const rsqrt: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Reciprocal", [op(ctx, "Sqrt", [ctx.input(0)])]));
};

const square: OpHandler = (ctx) => {
  const x = ctx.input(0);
  ctx.setOutput(0, op(ctx, "Mul", [x, x]));
};

/** TF rounds half to even, as ONNX Round does; integers are already round. */
const round: OpHandler = (ctx) => {
  ctx.setOutput(0, isFloat(ctx.inputDType(0)) ? op(ctx, "Round", [ctx.input(0)]) : ctx.input(0));
};

const isFiniteOp: OpHandler = (ctx) => {
  const x = ctx.input(0);
  ctx.setOutput(0, op(ctx, "Not", [op(ctx, "Or", [op(ctx, "IsNaN", [x]), op(ctx, "IsInf", [x])])]));
};

/** TF Softmax/LogSoftmax always normalise the last axis. */
const lastAxis = (onnxOp: string): OpHandler => unary(onnxOp, { axis: -1 });

const leakyRelu = (ctx: LoweringContext): void => {
  const alpha = floatAttr(ctx.node, "alpha", 0.2);
  ctx.setOutput(0, op(ctx, "LeakyRelu", [ctx.input(0)], { alpha: { float: alpha } }));
};

export const MATH_OPS: Readonly<Record<string, OpHandler>> = {
  ...Object.fromEntries(SAME_NAME.map((name) => [name, unary(name)])),
  Erf: erf,
  Inv: unary("Reciprocal"),
  IsNan: unary("IsNaN"),
  IsFinite: isFiniteOp,
  Elu: unary("Elu", { alpha: { float: 1 } }),
  LeakyRelu: leakyRelu,
  Log1p: log1p,
  Relu6: relu6,
  Rsqrt: rsqrt,
  Square: square,
  Round: round,
  Softmax: lastAxis("Softmax"),
  LogSoftmax: lastAxis("LogSoftmax"),
};
