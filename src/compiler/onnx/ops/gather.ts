// Gather, GatherNd, ScatterNd, OneHot.
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { OpHandler } from "../lowering.js";
import {
  castTo,
  constScalar,
  filledTensor,
  int64Input,
  int64Operand,
  int64s,
  intAttr,
  op,
  requireRank,
  unsupported,
} from "./util.js";

/** GatherV2(params, indices, axis), Gather(params, indices) and a frozen ResourceGather(var, indices). */
const gather =
  (withAxis: boolean): OpHandler =>
  (ctx) => {
    if (intAttr(ctx.node, "batch_dims", 0) !== 0) throw unsupported(ctx, "batch_dims ≠ 0");
    const axis = withAxis ? constScalar(ctx, 2, "axis") : 0;
    ctx.setOutput(0, op(ctx, "Gather", [ctx.input(0), ctx.input(1)], { axis }));
  };

const gatherNd: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "GatherND", [ctx.input(0), int64Input(ctx, 1)]));
};

/** ScatterNd(indices, updates, shape) sums duplicate indices into zeros: ScatterND with reduction "add". */
const scatterNd: OpHandler = (ctx) => {
  const zero = filledTensor(ctx.inputDType(1), 0, [1]);
  const zeros = op(ctx, "ConstantOfShape", [int64Operand(ctx, 2, "shape")], { value: zero });
  ctx.setOutput(0, op(ctx, "ScatterND", [zeros, int64Input(ctx, 0), ctx.input(1)], { reduction: "add" }));
};

/**
 * OneHot(indices, depth, on, off) as Where(indices == range(depth), on, off): works for every dtype
 * and gives TF's all-off rows for negative or too-large indices (ONNX OneHot wraps negatives).
 */
const oneHot: OpHandler = (ctx) => {
  const axis = intAttr(ctx.node, "axis", -1);
  const depth = castTo(ctx, ctx.input(1), ctx.inputDType(1), DataType.DT_INT64);
  let positions = op(ctx, "Range", [int64s(ctx, [0], "zero", []), depth, int64s(ctx, [1], "one", [])]);
  let insertAt = -1;
  if (axis !== -1) {
    const outRank = requireRank(ctx, 0, "for OneHot with axis ≠ -1") + 1;
    insertAt = axis;
    const trailing = outRank - 1 - axis;
    if (trailing > 0) {
      positions = op(ctx, "Reshape", [
        positions,
        int64s(ctx, [-1, ...new Array<number>(trailing).fill(1)], "depth_shape"),
      ]);
    }
  }
  const indices = op(ctx, "Unsqueeze", [int64Input(ctx, 0), int64s(ctx, [insertAt], "axes")]);
  const hot = op(ctx, "Equal", [indices, positions]);
  ctx.setOutput(0, op(ctx, "Where", [hot, ctx.input(2), ctx.input(3)]));
};

export const GATHER_OPS: Readonly<Record<string, OpHandler>> = {
  GatherV2: gather(true),
  Gather: gather(false),
  ResourceGather: gather(false),
  GatherNd: gatherNd,
  ScatterNd: scatterNd,
  OneHot: oneHot,
};
