// ConcatV2/Concat, Pack/Unpack, Split/SplitV.
import type { OpHandler } from "../lowering.js";
import { bindOutputs, constNumbers, constScalar, int64s, intAttr, op, unsupported } from "./util.js";

/** ConcatV2 takes the axis last, Concat (v1) first; either must be constant (an ONNX attribute). */
const concat =
  (axisFirst: boolean): OpHandler =>
  (ctx) => {
    const n = ctx.node.inputs.length;
    const axisIndex = axisFirst ? 0 : n - 1;
    const axis = constScalar(ctx, axisIndex, "axis");
    const values = ctx.node.inputs.map((_, i) => i).filter((i) => i !== axisIndex);
    const inputs = values.map((i) => ctx.input(i));
    ctx.setOutput(0, inputs.length === 1 ? inputs[0]! : op(ctx, "Concat", inputs, { axis }));
  };

/** Pack = Unsqueeze each input at `axis`, then Concat along it. */
const pack: OpHandler = (ctx) => {
  const axis = intAttr(ctx.node, "axis", 0);
  const axes = int64s(ctx, [axis], "axes");
  const parts = ctx.node.inputs.map((_, i) => op(ctx, "Unsqueeze", [ctx.input(i), axes]));
  ctx.setOutput(0, parts.length === 1 ? parts[0]! : op(ctx, "Concat", parts, { axis }));
};

/** Unpack = Split into `num` parts along `axis`, then Squeeze each. */
const unpack: OpHandler = (ctx) => {
  const num = intAttr(ctx.node, "num", ctx.node.outputDTypes.length);
  const axis = intAttr(ctx.node, "axis", 0);
  const axes = int64s(ctx, [axis], "axes");
  const parts =
    num === 1
      ? [ctx.input(0)]
      : ctx.emit("Split", [ctx.input(0)], { axis, num_outputs: num }, { outputs: num });
  bindOutputs(
    ctx,
    parts.map((part) => op(ctx, "Squeeze", [part, axes])),
  );
};

/** Split(split_dim, value): equal parts. */
const split: OpHandler = (ctx) => {
  const axis = constScalar(ctx, 0, "split_dim");
  const num = intAttr(ctx.node, "num_split", ctx.node.outputDTypes.length);
  if (num === 1) {
    ctx.setOutput(0, ctx.input(1));
    return;
  }
  bindOutputs(ctx, ctx.emit("Split", [ctx.input(1)], { axis, num_outputs: num }, { outputs: num }));
};

/** SplitV(value, size_splits, split_dim): one −1 in size_splits takes the remainder. */
const splitV: OpHandler = (ctx) => {
  const sizes = constNumbers(ctx, 1, "size_splits");
  const axis = constScalar(ctx, 2, "split_dim");
  if (sizes.length === 1) {
    ctx.setOutput(0, ctx.input(0));
    return;
  }
  const unknown = sizes.indexOf(-1);
  if (unknown !== sizes.lastIndexOf(-1)) throw unsupported(ctx, "size_splits has more than one -1");
  let splits: string;
  const shape = ctx.inputShape(0);
  const dim = shape ? (shape[axis < 0 ? shape.length + axis : axis] ?? -1) : -1;
  if (unknown < 0 || dim >= 0) {
    const known = sizes.reduce((a, b) => (b < 0 ? a : a + b), 0);
    splits = int64s(
      ctx,
      sizes.map((s) => (s < 0 ? dim - known : s)),
      "splits",
    );
  } else {
    // Remainder = dim size at run time − the known sizes.
    const dimSize = op(ctx, "Gather", [op(ctx, "Shape", [ctx.input(0)]), int64s(ctx, [axis], "axis")], {
      axis: 0,
    });
    const known = sizes.reduce((a, b) => (b < 0 ? a : a + b), 0);
    const rest = op(ctx, "Sub", [dimSize, int64s(ctx, [known], "known")]);
    const parts = [
      int64s(ctx, sizes.slice(0, unknown), "splits_before"),
      rest,
      int64s(ctx, sizes.slice(unknown + 1), "splits_after"),
    ];
    splits = op(ctx, "Concat", parts, { axis: 0 });
  }
  bindOutputs(ctx, ctx.emit("Split", [ctx.input(0), splits], { axis }, { outputs: sizes.length }));
};

export const CONCAT_SPLIT_OPS: Readonly<Record<string, OpHandler>> = {
  ConcatV2: concat(false),
  Concat: concat(true),
  Pack: pack,
  Unpack: unpack,
  Split: split,
  SplitV: splitV,
};
