// BiasAdd, LRN, DepthToSpace / SpaceToDepth.
import type { OpHandler } from "../lowering.js";
import { inChannelsFirst } from "./layout.js";
import { channelsLast, floatAttr, int64s, intAttr, op, requireRank } from "./util.js";

/** NHWC: plain broadcast. NCHW: the bias becomes [C, 1, …, 1] to line up with axis 1. */
const biasAdd: OpHandler = (ctx) => {
  const last = ctx.node.op === "BiasAddV1" || channelsLast(ctx);
  let bias = ctx.input(1);
  if (!last) {
    const rank = requireRank(ctx, 0, "for an NCHW bias");
    bias = op(ctx, "Reshape", [
      bias,
      int64s(ctx, [-1, ...new Array<number>(rank - 2).fill(1)], "bias_shape"),
    ]);
  }
  ctx.setOutput(0, op(ctx, "Add", [ctx.input(0), bias]));
};

/** TF sums squares over 2r+1 channels without dividing; ONNX divides alpha by the window size. */
const lrn: OpHandler = (ctx) => {
  const radius = intAttr(ctx.node, "depth_radius", 5);
  const size = 2 * radius + 1;
  const attrs = {
    size,
    alpha: { float: floatAttr(ctx.node, "alpha", 1) * size },
    beta: { float: floatAttr(ctx.node, "beta", 0.5) },
    bias: { float: floatAttr(ctx.node, "bias", 1) },
  };
  ctx.setOutput(
    0,
    inChannelsFirst(ctx, ctx.input(0), 4, true, (x) => op(ctx, "LRN", [x], attrs)),
  );
};

/** TF's DepthToSpace channel order is ONNX's DCR mode. */
const blockOp =
  (onnxOp: "DepthToSpace" | "SpaceToDepth"): OpHandler =>
  (ctx) => {
    const attrs: Record<string, number | string> = { blocksize: intAttr(ctx.node, "block_size", 2) };
    if (onnxOp === "DepthToSpace") attrs.mode = "DCR";
    const last = channelsLast(ctx);
    ctx.setOutput(
      0,
      inChannelsFirst(ctx, ctx.input(0), 4, last, (x) => op(ctx, onnxOp, [x], attrs)),
    );
  };

export const NN_OPS: Readonly<Record<string, OpHandler>> = {
  BiasAdd: biasAdd,
  BiasAddV1: biasAdd,
  LRN: lrn,
  DepthToSpace: blockOp("DepthToSpace"),
  SpaceToDepth: blockOp("SpaceToDepth"),
};
