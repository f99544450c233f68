// Slice, StridedSlice (all five masks, negative strides) and ReverseV2 → ONNX Slice (+ Squeeze/Unsqueeze).
import type { LoweringContext, OpHandler } from "../lowering.js";
import { constNumbers, INT64_MAX, INT64_MIN, int64Input, int64s, intAttr, op, unsupported } from "./util.js";

/** Slice(input, begin, size): end = begin + size, size −1 = to the end. */
const slice: OpHandler = (ctx) => {
  const constBegin = ctx.constInput(1);
  const constSize = ctx.constInput(2);
  if (constBegin && constSize) {
    const begin = constNumbers(ctx, 1, "begin");
    const size = constNumbers(ctx, 2, "size");
    const ends = size.map((s, i) => (s === -1 ? INT64_MAX : BigInt(begin[i]! + s)));
    ctx.setOutput(
      0,
      op(ctx, "Slice", [ctx.input(0), int64s(ctx, begin, "starts"), int64s(ctx, ends, "ends")]),
    );
    return;
  }
  const begin = int64Input(ctx, 1);
  const size = int64Input(ctx, 2);
  const toEnd = op(ctx, "Equal", [size, int64s(ctx, [-1], "minus_one", [])]);
  const ends = op(ctx, "Where", [
    toEnd,
    int64s(ctx, [INT64_MAX], "int64_max", []),
    op(ctx, "Add", [begin, size]),
  ]);
  ctx.setOutput(0, op(ctx, "Slice", [ctx.input(0), begin, ends]));
};

interface SliceSpec {
  starts: bigint[];
  ends: bigint[];
  axes: number[];
  steps: number[];
  /** Input dims taken by a single index (dropped after slicing). */
  shrink: number[];
  /** Positions in the final output of new size-1 dims. */
  newAxes: number[];
}

/** Turns TF's sparse slice specs (SAVEDMODEL_FORMAT.md §6.3) into ONNX Slice/Squeeze/Unsqueeze operands. */
function denseSpec(ctx: LoweringContext): SliceSpec {
  const begin = constNumbers(ctx, 1, "begin");
  const end = constNumbers(ctx, 2, "end");
  const strides = constNumbers(ctx, 3, "strides");
  const mask = (name: string) => intAttr(ctx.node, name, 0);
  const [beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask] = [
    mask("begin_mask"),
    mask("end_mask"),
    mask("ellipsis_mask"),
    mask("new_axis_mask"),
    mask("shrink_axis_mask"),
  ];
  const has = (m: number, i: number) => ((m >>> i) & 1) === 1;
  const count = begin.length;
  if (end.length !== count || strides.length !== count)
    throw unsupported(ctx, "begin, end and strides differ in length");
  const ellipses = begin.map((_, i) => i).filter((i) => has(ellipsisMask, i));
  if (ellipses.length > 1) throw unsupported(ctx, "more than one ellipsis");
  const ellipsis = ellipses[0] ?? -1;
  // An ellipsis wins over new_axis on the same spec, new_axis over shrink.
  const isNewAxis = (i: number) => i !== ellipsis && has(newAxisMask, i);
  const consuming = begin.filter((_, i) => i !== ellipsis && !isNewAxis(i)).length;
  let ellipsisWidth = 0;
  if (ellipsis >= 0 && ellipsis < count - 1) {
    const shape = ctx.inputShape(0);
    if (!shape) throw unsupported(ctx, "an ellipsis followed by more slices needs the input rank");
    ellipsisWidth = shape.length - consuming;
  }
  const spec: SliceSpec = { starts: [], ends: [], axes: [], steps: [], shrink: [], newAxes: [] };
  let inDim = 0;
  let outDim = 0;
  for (let i = 0; i < count; i++) {
    if (i === ellipsis) {
      inDim += ellipsisWidth;
      outDim += ellipsisWidth;
    } else if (isNewAxis(i)) {
      spec.newAxes.push(outDim++);
    } else if (has(shrinkMask, i)) {
      // A single index: masks are ignored and begin −1 means the last element.
      const b = begin[i]!;
      push(spec, BigInt(b), b === -1 ? INT64_MAX : BigInt(b + 1), inDim, 1);
      spec.shrink.push(inDim++);
    } else {
      const step = strides[i]!;
      if (step === 0) throw unsupported(ctx, "stride 0");
      const fromStart = has(beginMask, i);
      const toEnd = has(endMask, i);
      if (!(fromStart && toEnd && step === 1)) {
        const start = fromStart ? (step > 0 ? 0n : INT64_MAX) : BigInt(begin[i]!);
        const stop = toEnd ? (step > 0 ? INT64_MAX : INT64_MIN) : BigInt(end[i]!);
        push(spec, start, stop, inDim, step);
      }
      inDim++;
      outDim++;
    }
  }
  return spec;
}

function push(spec: SliceSpec, start: bigint, end: bigint, axis: number, step: number): void {
  spec.starts.push(start);
  spec.ends.push(end);
  spec.axes.push(axis);
  spec.steps.push(step);
}

const stridedSlice: OpHandler = (ctx) => {
  const spec = denseSpec(ctx);
  let value = ctx.input(0);
  if (spec.axes.length > 0) {
    value = op(ctx, "Slice", [
      value,
      int64s(ctx, spec.starts, "starts"),
      int64s(ctx, spec.ends, "ends"),
      int64s(ctx, spec.axes, "axes"),
      int64s(ctx, spec.steps, "steps"),
    ]);
  }
  if (spec.shrink.length > 0) value = op(ctx, "Squeeze", [value, int64s(ctx, spec.shrink, "shrink_axes")]);
  if (spec.newAxes.length > 0) value = op(ctx, "Unsqueeze", [value, int64s(ctx, spec.newAxes, "new_axes")]);
  ctx.setOutput(0, value);
};

/** ReverseV2(tensor, axis): a Slice with step −1 over each axis. */
const reverse: OpHandler = (ctx) => {
  const axes = constNumbers(ctx, 1, "axis");
  if (axes.length === 0) {
    ctx.setOutput(0, ctx.input(0));
    return;
  }
  const k = axes.length;
  const inputs = [
    ctx.input(0),
    int64s(ctx, new Array<number>(k).fill(-1), "starts"),
    int64s(ctx, new Array<bigint>(k).fill(INT64_MIN), "ends"),
    int64s(ctx, axes, "axes"),
    int64s(ctx, new Array<number>(k).fill(-1), "steps"),
  ];
  ctx.setOutput(0, op(ctx, "Slice", inputs));
};

export const SLICE_OPS: Readonly<Record<string, OpHandler>> = {
  Slice: slice,
  StridedSlice: stridedSlice,
  ReverseV2: reverse,
};
