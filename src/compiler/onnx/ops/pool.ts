// MaxPool/AvgPool (2-D, 3-D, V2 with constant ksize/strides) → ONNX MaxPool/AveragePool (NCHW).
import type { OnnxAttribute, OpHandler } from "../lowering.js";
import { sameExplicitPads, windowAttrs } from "./conv.js";
import { inChannelsFirst, spatialOf } from "./layout.js";
import { channelsLast, constNumbers, intsAttr, op, unsupported } from "./util.js";

const pool =
  (onnxOp: "MaxPool" | "AveragePool", rank: number, v2 = false): OpHandler =>
  (ctx) => {
    const last = channelsLast(ctx);
    const ones = new Array<number>(rank).fill(1);
    const ksize = v2 ? constNumbers(ctx, 1, "ksize") : intsAttr(ctx.node, "ksize", ones);
    const attrs: Record<string, OnnxAttribute> = {
      ...windowAttrs(ctx, rank, last),
      kernel_shape: spatialOf(ksize, rank, last),
    };
    if (v2) attrs.strides = spatialOf(constNumbers(ctx, 2, "strides"), rank, last);
    const strides = attrs.strides as number[];
    const kernel = attrs.kernel_shape as number[];
    if (attrs.auto_pad === "SAME_UPPER" && strides.some((s, d) => s > kernel[d]!)) {
      // onnxruntime pads negatively here where TF clamps to zero; explicit pads need the sizes.
      const sizes = ctx.inputShape(0)?.slice(last ? 1 : 2, last ? rank - 1 : rank);
      if (!sizes?.every((size) => size >= 0)) {
        throw unsupported(ctx, "SAME pooling with a stride above the window needs static spatial sizes");
      }
      delete attrs.auto_pad;
      attrs.pads = sameExplicitPads(sizes, strides, kernel);
    }
    // TF's average excludes padded cells: ONNX count_include_pad = 0, the default.
    ctx.setOutput(
      0,
      inChannelsFirst(ctx, ctx.input(0), rank, last, (x) => op(ctx, onnxOp, [x], attrs)),
    );
  };

export const POOL_OPS: Readonly<Record<string, OpHandler>> = {
  MaxPool: pool("MaxPool", 4),
  MaxPoolV2: pool("MaxPool", 4, true),
  MaxPool3D: pool("MaxPool", 5),
  AvgPool: pool("AveragePool", 4),
  AvgPool3D: pool("AveragePool", 5),
};
