// Ops that reshape, broadcast or describe shapes.
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import { Tensor } from "../../../tensor/tensor.js";
import type { OpHandler } from "../lowering.js";
import {
  castTo,
  constNumbers,
  filledTensor,
  int64Operand,
  int64s,
  int64VectorInput,
  intsAttr,
  op,
  outputDType,
} from "./util.js";

/** allowzero = 1: a literal 0 in a TF shape is a zero-size dim, not "copy the input dim". */
const reshape: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Reshape", [ctx.input(0), int64Operand(ctx, 1, "shape")], { allowzero: 1 }));
};

/** Empty squeeze_dims squeezes every size-1 dim, as ONNX Squeeze without axes does. */
const squeeze: OpHandler = (ctx) => {
  const axes = ctx.node.attrs.squeeze_dims
    ? intsAttr(ctx.node, "squeeze_dims", [])
    : intsAttr(ctx.node, "axis", []);
  const inputs = axes.length === 0 ? [ctx.input(0)] : [ctx.input(0), int64s(ctx, axes, "axes")];
  ctx.setOutput(0, op(ctx, "Squeeze", inputs));
};

/** Negative axes count from the end of the output in both TF and ONNX. */
const expandDims: OpHandler = (ctx) => {
  const axis = ctx.constInput(1)
    ? int64s(ctx, constNumbers(ctx, 1, "axis"), "axes")
    : int64VectorInput(ctx, 1);
  ctx.setOutput(0, op(ctx, "Unsqueeze", [ctx.input(0), axis]));
};

const transpose: OpHandler = (ctx) => {
  const perm = constNumbers(ctx, 1, "perm");
  ctx.setOutput(0, op(ctx, "Transpose", [ctx.input(0)], { perm }));
};

/** ONNX Shape/Size return int64; TF's out_type defaults to int32. */
const shape: OpHandler = (ctx) => {
  ctx.node.inputs.forEach((_, i) => {
    ctx.setOutput(i, castTo(ctx, op(ctx, "Shape", [ctx.input(i)]), DataType.DT_INT64, outputDType(ctx, i)));
  });
};

const size: OpHandler = (ctx) => {
  ctx.setOutput(0, castTo(ctx, op(ctx, "Size", [ctx.input(0)]), DataType.DT_INT64, outputDType(ctx)));
};

const rank: OpHandler = (ctx) => {
  const known = ctx.inputShape(0);
  if (known) {
    ctx.setOutput(0, ctx.constant(new Tensor(DataType.DT_INT32, [], Int32Array.of(known.length)), "rank"));
    return;
  }
  const count = op(ctx, "Size", [op(ctx, "Shape", [ctx.input(0)])]);
  ctx.setOutput(0, castTo(ctx, count, DataType.DT_INT64, DataType.DT_INT32));
};

const broadcastTo: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Expand", [ctx.input(0), int64Operand(ctx, 1, "shape")]));
};

const tile: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Tile", [ctx.input(0), int64Operand(ctx, 1, "multiples")]));
};

/** Fill(dims, value) is value broadcast to dims. */
const fill: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Expand", [ctx.input(1), int64Operand(ctx, 0, "dims")]));
};

const constantLike =
  (value: number): OpHandler =>
  (ctx) => {
    const fillValue = filledTensor(outputDType(ctx), value, [1]);
    ctx.setOutput(0, op(ctx, "ConstantOfShape", [op(ctx, "Shape", [ctx.input(0)])], { value: fillValue }));
  };

export const SHAPE_OPS: Readonly<Record<string, OpHandler>> = {
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  Transpose: transpose,
  Shape: shape,
  ShapeN: shape,
  Size: size,
  Rank: rank,
  BroadcastTo: broadcastTo,
  Tile: tile,
  Fill: fill,
  ZerosLike: constantLike(0),
  OnesLike: constantLike(1),
};
