// Pad, PadV2, MirrorPad (REFLECT natively, SYMMETRIC as reversed slices).
import type { LoweringContext, OpHandler } from "../lowering.js";
import { constNumbers, INT64_MIN, int64Input, int64s, op, stringAttr, unsupported } from "./util.js";

/** TF paddings [[b0, e0], [b1, e1], …] → ONNX pads [b0, b1, …, e0, e1, …]. */
function onnxPads(ctx: LoweringContext): string {
  const paddings = ctx.constInput(1);
  if (paddings) {
    const flat = constNumbers(ctx, 1, "paddings");
    const rank = flat.length / 2;
    const begins = Array.from({ length: rank }, (_, d) => flat[2 * d]!);
    const ends = Array.from({ length: rank }, (_, d) => flat[2 * d + 1]!);
    return int64s(ctx, [...begins, ...ends], "pads");
  }
  const transposed = op(ctx, "Transpose", [int64Input(ctx, 1)], { perm: [1, 0] });
  return op(ctx, "Reshape", [transposed, int64s(ctx, [-1], "flat")]);
}

const pad: OpHandler = (ctx) => {
  const inputs = [ctx.input(0), onnxPads(ctx)];
  if (ctx.node.op === "PadV2") inputs.push(ctx.input(2));
  ctx.setOutput(0, op(ctx, "Pad", inputs, { mode: "constant" }));
};

/** SYMMETRIC repeats the edge: per padded axis, Concat(reverse(x[:b]), x, reverse(x[-e:])). */
function symmetricPad(ctx: LoweringContext): string {
  const flat = constNumbers(ctx, 1, "paddings for SYMMETRIC mode");
  let value = ctx.input(0);
  for (let axis = 0; axis < flat.length / 2; axis++) {
    const [before, after] = [flat[2 * axis]!, flat[2 * axis + 1]!];
    if (before === 0 && after === 0) continue;
    const axes = int64s(ctx, [axis], "axis");
    const minusOne = int64s(ctx, [-1], "step");
    const parts: string[] = [];
    if (before > 0) {
      // x[before−1 … 0], walking backwards.
      const starts = int64s(ctx, [before - 1], "starts");
      parts.push(op(ctx, "Slice", [value, starts, int64s(ctx, [INT64_MIN], "ends"), axes, minusOne]));
    }
    parts.push(value);
    if (after > 0) {
      // x[n−1 … n−after], walking backwards.
      const ends = int64s(ctx, [-(after + 1)], "ends");
      parts.push(op(ctx, "Slice", [value, int64s(ctx, [-1], "starts"), ends, axes, minusOne]));
    }
    value = op(ctx, "Concat", parts, { axis });
  }
  return value;
}

const mirrorPad: OpHandler = (ctx) => {
  const mode = stringAttr(ctx.node, "mode", "REFLECT");
  if (mode === "REFLECT") {
    ctx.setOutput(0, op(ctx, "Pad", [ctx.input(0), onnxPads(ctx)], { mode: "reflect" }));
  } else if (mode === "SYMMETRIC") {
    ctx.setOutput(0, symmetricPad(ctx));
  } else {
    throw unsupported(ctx, `mode ${mode}`);
  }
};

export const PAD_OPS: Readonly<Record<string, OpHandler>> = {
  Pad: pad,
  PadV2: pad,
  MirrorPad: mirrorPad,
};
