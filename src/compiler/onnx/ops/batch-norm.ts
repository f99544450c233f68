// FusedBatchNorm/V2/V3 as element-wise arithmetic along the channel axis: no NHWC transposes, and
// onnxruntime folds the constant parameter math and fuses the rest into a preceding Conv.
import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { OpHandler } from "../lowering.js";
import { boolAttr, castTo, channelsLast, floatAttr, int64s, op, scalar, stringAttr } from "./util.js";

const fusedBatchNorm: OpHandler = (ctx) => {
  const last = channelsLast(ctx);
  const rank = stringAttr(ctx.node, "data_format", "NHWC").length === 5 ? 5 : 4;
  const epsilon = floatAttr(ctx.node, "epsilon", 1e-4);
  // The OpDef default is is_training = true (Keras' fused LayerNorm relies on it).
  const training = boolAttr(ctx.node, "is_training", true);
  const factor = floatAttr(ctx.node, "exponential_avg_factor", 1);
  const xType = ctx.inputDType(0);
  const uType = ctx.inputDType(1);
  const x = castTo(ctx, ctx.input(0), xType, uType);
  const channelShape = int64s(ctx, [-1, ...new Array<number>(rank - 2).fill(1)], "channel_shape");
  const perChannel = (value: string): string => (last ? value : op(ctx, "Reshape", [value, channelShape]));

  let centered: string;
  let variance: string;
  if (training) {
    const reduced = last
      ? Array.from({ length: rank - 1 }, (_, d) => d)
      : [0, ...Array.from({ length: rank - 2 }, (_, d) => d + 2)];
    const axes = int64s(ctx, reduced, "stat_axes");
    const mean = op(ctx, "ReduceMean", [x, axes], { keepdims: 1 });
    centered = op(ctx, "Sub", [x, mean]);
    variance = op(ctx, "ReduceMean", [op(ctx, "Mul", [centered, centered]), axes], { keepdims: 1 });
    const flat = int64s(ctx, [-1], "flat");
    const batchMean = op(ctx, "Reshape", [mean, flat]);
    // TF reports the Bessel-corrected variance (n / (n − 1)) but normalises with the biased one.
    const n = op(ctx, "Div", [
      castTo(ctx, op(ctx, "Size", [x]), DataType.DT_INT64, uType),
      castTo(ctx, op(ctx, "Size", [mean]), DataType.DT_INT64, uType),
    ]);
    const one = scalar(ctx, 1, uType);
    const bessel = op(ctx, "Div", [n, op(ctx, "Max", [op(ctx, "Sub", [n, one]), one])]);
    const batchVariance = op(ctx, "Mul", [op(ctx, "Reshape", [variance, flat]), bessel]);
    const running = (batch: string, input: number): string => {
      if (factor === 1) return batch;
      const old = op(ctx, "Mul", [ctx.input(input), scalar(ctx, 1 - factor, uType)]);
      return op(ctx, "Add", [old, op(ctx, "Mul", [batch, scalar(ctx, factor, uType)])]);
    };
    ctx.setOutput(1, running(batchMean, 3));
    ctx.setOutput(2, running(batchVariance, 4));
  } else {
    centered = op(ctx, "Sub", [x, perChannel(ctx.input(3))]);
    variance = perChannel(ctx.input(4));
    ctx.setOutput(1, ctx.input(3));
    ctx.setOutput(2, ctx.input(4));
  }
  const inverseStd = op(ctx, "Reciprocal", [
    op(ctx, "Sqrt", [op(ctx, "Add", [variance, scalar(ctx, epsilon, uType)])]),
  ]);
  const scale = op(ctx, "Mul", [inverseStd, perChannel(ctx.input(1))]);
  const y = op(ctx, "Add", [op(ctx, "Mul", [centered, scale]), perChannel(ctx.input(2))]);
  ctx.setOutput(0, castTo(ctx, y, uType, xType));
};

export const BATCH_NORM_OPS: Readonly<Record<string, OpHandler>> = {
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
};
