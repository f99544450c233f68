// Mean/Sum/Max/Min/Prod, All/Any, ArgMax/ArgMin.
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { LoweringContext, OpHandler } from "../lowering.js";
import {
  boolAttr,
  castTo,
  constNumbers,
  constScalar,
  int64s,
  int64VectorInput,
  op,
  outputDType,
} from "./util.js";

/** The reduction axes as a 1-D int64 value (TF allows a scalar axis). */
function reductionAxes(ctx: LoweringContext): string {
  if (ctx.constInput(1)) return int64s(ctx, constNumbers(ctx, 1, "reduction_indices"), "axes");
  return int64VectorInput(ctx, 1);
}

/** Opset 18 reductions take axes as an input; empty axes reduce nothing in TF (noop_with_empty_axes). */
function reduce(ctx: LoweringContext, onnxOp: string, value: string): string {
  const attrs = { keepdims: boolAttr(ctx.node, "keep_dims", false) ? 1 : 0, noop_with_empty_axes: 1 };
  return op(ctx, onnxOp, [value, reductionAxes(ctx)], attrs);
}

const reduction =
  (onnxOp: string): OpHandler =>
  (ctx) => {
    ctx.setOutput(0, reduce(ctx, onnxOp, ctx.input(0)));
  };

/** Any = count of true > 0; All = count of false == 0 (an empty reduction gives false / true as in TF). */
const anyAll =
  (all: boolean): OpHandler =>
  (ctx) => {
    const x = all ? op(ctx, "Not", [ctx.input(0)]) : ctx.input(0);
    const count = reduce(ctx, "ReduceSum", castTo(ctx, x, DataType.DT_BOOL, DataType.DT_INT32));
    const any = castTo(ctx, count, DataType.DT_INT32, DataType.DT_BOOL);
    ctx.setOutput(0, all ? op(ctx, "Not", [any]) : any);
  };

/** TF breaks ties by the smallest index, as ONNX does by default; ONNX returns int64. */
const argReduce =
  (onnxOp: string): OpHandler =>
  (ctx) => {
    const axis = constScalar(ctx, 1, "dimension");
    const indices = op(ctx, onnxOp, [ctx.input(0)], { axis, keepdims: 0 });
    ctx.setOutput(0, castTo(ctx, indices, DataType.DT_INT64, outputDType(ctx)));
  };

export const REDUCTION_OPS: Readonly<Record<string, OpHandler>> = {
  Mean: reduction("ReduceMean"),
  Sum: reduction("ReduceSum"),
  Max: reduction("ReduceMax"),
  Min: reduction("ReduceMin"),
  Prod: reduction("ReduceProd"),
  All: anyAll(true),
  Any: anyAll(false),
  ArgMax: argReduce("ArgMax"),
  ArgMin: argReduce("ArgMin"),
};
