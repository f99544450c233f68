// ResizeBilinear / ResizeNearestNeighbor → ONNX Resize over the H and W axes of NHWC (opset 18 `axes`).
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { OpHandler } from "../lowering.js";
import { boolAttr, castTo, int64Input, op, unsupported } from "./util.js";

/** TF's pixel-centre conventions as ONNX coordinate transformation (and rounding) modes. */
function modes(alignCorners: boolean, halfPixel: boolean, nearest: boolean): Record<string, string> {
  if (!nearest) {
    return {
      mode: "linear",
      coordinate_transformation_mode: alignCorners
        ? "align_corners"
        : halfPixel
          ? "half_pixel"
          : "asymmetric",
    };
  }
  // TF: align_corners rounds half away from zero; otherwise it floors ((x + 0.5)·scale with half pixels).
  if (alignCorners) {
    return {
      mode: "nearest",
      coordinate_transformation_mode: "align_corners",
      nearest_mode: "round_prefer_ceil",
    };
  }
  // floor((x + 0.5)·scale) = round_half_up(half_pixel x) (tf_half_pixel_for_nn is deprecated since opset 13).
  if (halfPixel)
    return {
      mode: "nearest",
      coordinate_transformation_mode: "half_pixel",
      nearest_mode: "round_prefer_ceil",
    };
  return { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" };
}

const resize =
  (nearest: boolean): OpHandler =>
  (ctx) => {
    const alignCorners = boolAttr(ctx.node, "align_corners", false);
    const halfPixel = boolAttr(ctx.node, "half_pixel_centers", false);
    if (alignCorners && halfPixel)
      throw unsupported(ctx, "align_corners and half_pixel_centers are both set");
    // ResizeBilinear always returns float32, whatever the image dtype.
    const outType = nearest ? ctx.inputDType(0) : DataType.DT_FLOAT;
    const images = castTo(ctx, ctx.input(0), ctx.inputDType(0), outType);
    const attrs = { ...modes(alignCorners, halfPixel, nearest), axes: [1, 2] };
    ctx.setOutput(0, op(ctx, "Resize", [images, "", "", int64Input(ctx, 1)], attrs));
  };

export const RESIZE_OPS: Readonly<Record<string, OpHandler>> = {
  ResizeBilinear: resize(false),
  ResizeNearestNeighbor: resize(true),
};
