// Comparisons, logical ops, Select/SelectV2 and Where.
import type { OpHandler } from "../lowering.js";
import { int64s, op, unsupported } from "./util.js";

const binary =
  (onnxOp: string): OpHandler =>
  (ctx) => {
    ctx.setOutput(0, op(ctx, onnxOp, [ctx.input(0), ctx.input(1)]));
  };

const notEqual: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Not", [op(ctx, "Equal", [ctx.input(0), ctx.input(1)])]));
};

const logicalNot: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Not", [ctx.input(0)]));
};

const selectV2: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Where", [ctx.input(0), ctx.input(1), ctx.input(2)]));
};

/** Select (v1): a rank-1 condition picks whole rows of higher-rank x/y, so it becomes [N, 1, …, 1]. */
const select: OpHandler = (ctx) => {
  const condRank = ctx.inputShape(0)?.length;
  const valueRank = ctx.inputShape(1)?.length ?? ctx.inputShape(2)?.length;
  let condition = ctx.input(0);
  if (condRank === undefined || valueRank === undefined) {
    if (condRank !== 0) throw unsupported(ctx, "the ranks of the condition and values must be known");
  } else if (condRank === 1 && valueRank > 1) {
    const rows = int64s(ctx, [-1, ...new Array<number>(valueRank - 1).fill(1)], "row_shape");
    condition = op(ctx, "Reshape", [condition, rows]);
  }
  ctx.setOutput(0, op(ctx, "Where", [condition, ctx.input(1), ctx.input(2)]));
};

/** Where(x): coordinates of the true/non-zero elements, [num_true, rank] int64 (ONNX NonZero is transposed). */
const where: OpHandler = (ctx) => {
  if (ctx.node.inputs.length !== 1) throw unsupported(ctx, "only the one-input form is an index lookup");
  ctx.setOutput(0, op(ctx, "Transpose", [op(ctx, "NonZero", [ctx.input(0)])], { perm: [1, 0] }));
};

export const LOGIC_OPS: Readonly<Record<string, OpHandler>> = {
  Equal: binary("Equal"),
  NotEqual: notEqual,
  Less: binary("Less"),
  LessEqual: binary("LessOrEqual"),
  Greater: binary("Greater"),
  GreaterEqual: binary("GreaterOrEqual"),
  LogicalAnd: binary("And"),
  LogicalOr: binary("Or"),
  LogicalNot: logicalNot,
  Select: select,
  SelectV2: selectV2,
  Where: where,
};
