// Conv2D/Conv3D, DepthwiseConv2dNative and Conv2DBackpropInput → ONNX Conv / ConvTranspose (NCHW).
import { Tensor } from "../../../tensor/tensor.js";
import type { LoweringContext, OnnxAttribute, OpHandler } from "../lowering.js";
import { filterToOnnxPerm, inChannelsFirst, spatialOf, transposeTensor } from "./layout.js";
import { channelsLast, constNumbers, int64s, intsAttr, op, stringAttr, unsupported } from "./util.js";

/** Spatial strides, dilations and the ONNX padding attrs of a TF conv/pool node of `rank`. */
export function windowAttrs(
  ctx: LoweringContext,
  rank: number,
  last: boolean,
): Record<string, OnnxAttribute> {
  const ones = new Array<number>(rank).fill(1);
  const attrs: Record<string, OnnxAttribute> = {
    strides: spatialOf(intsAttr(ctx.node, "strides", ones), rank, last),
  };
  // Pools have no dilations attr (and ONNX AveragePool only takes one from opset 19).
  if (ctx.node.op.startsWith("Conv") || ctx.node.op.startsWith("Depthwise")) {
    attrs.dilations = spatialOf(intsAttr(ctx.node, "dilations", ones), rank, last);
  }
  Object.assign(attrs, paddingAttrs(ctx, rank, last));
  return attrs;
}

function paddingAttrs(ctx: LoweringContext, rank: number, last: boolean): Record<string, OnnxAttribute> {
  const padding = stringAttr(ctx.node, "padding", "VALID");
  // TF SAME puts the odd pixel at the end, which is ONNX SAME_UPPER (computed per run: dynamic sizes work).
  if (padding === "SAME") return { auto_pad: "SAME_UPPER" };
  if (padding === "VALID") return {};
  if (padding !== "EXPLICIT") throw unsupported(ctx, `padding ${padding} is not supported`);
  const explicit = intsAttr(ctx.node, "explicit_paddings", []);
  if (explicit.length !== 2 * rank) throw unsupported(ctx, `explicit_paddings needs ${2 * rank} values`);
  const dims = spatialOf(
    Array.from({ length: rank }, (_, d) => d),
    rank,
    last,
  );
  return { pads: [...dims.map((d) => explicit[2 * d]!), ...dims.map((d) => explicit[2 * d + 1]!)] };
}

/**
 * The ONNX weight for a TF filter: constant filters are transposed (and reshaped) on the host into a
 * new initializer, others get Reshape/Transpose nodes.
 */
function onnxWeight(ctx: LoweringContext, filterIndex: number, spatial: number, depthwise: boolean): string {
  const perm = filterToOnnxPerm(spatial);
  const filter = ctx.constInput(filterIndex);
  if (filter) {
    const shape = filter.shape;
    // Depthwise [H, W, C, M] is a grouped conv filter [H, W, 1, C·M]: same row-major data.
    const viewed = depthwise
      ? new Tensor(
          filter.dtype,
          [...shape.slice(0, spatial), 1, shape[spatial]! * shape[spatial + 1]!],
          filter.data,
        )
      : filter;
    return ctx.constant(transposeTensor(viewed, perm), "weight");
  }
  let value = ctx.input(filterIndex);
  if (depthwise) {
    const target = [...new Array<number>(spatial).fill(0), 1, -1];
    value = op(ctx, "Reshape", [value, int64s(ctx, target, "depthwise_shape")]);
  }
  return op(ctx, "Transpose", [value], { perm });
}

const conv =
  (rank: number, depthwise: boolean): OpHandler =>
  (ctx) => {
    const last = channelsLast(ctx);
    const spatial = rank - 2;
    const attrs = windowAttrs(ctx, rank, last);
    const filterShape = ctx.inputShape(1);
    const inputChannels = ctx.inputShape(0)?.[last ? rank - 1 : 1] ?? -1;
    const filterIn = filterShape?.[spatial] ?? -1;
    if (depthwise) {
      if (filterIn < 0) throw unsupported(ctx, "the filter's input-channel dim must be known");
      attrs.group = filterIn;
    } else if (inputChannels > 0 && filterIn > 0 && inputChannels !== filterIn) {
      // TF runs a grouped conv when the filter has fewer input channels than the input.
      attrs.group = inputChannels / filterIn;
    }
    const weight = onnxWeight(ctx, 1, spatial, depthwise);
    // onnxruntime's SAME_UPPER is unusable in two cases: it rejects dilations, and when a stride exceeds
    // the kernel span it pads by a negative amount where TF clamps to zero (shifting every window).
    // Pad explicitly then: statically when the sizes are known, else computed in the graph.
    const dilations = attrs.dilations as number[];
    const strides = attrs.strides as number[];
    let pad: ((x: string) => string) | undefined;
    if (attrs.auto_pad === "SAME_UPPER") {
      const kernel = (ctx.constInput(1)?.shape ?? filterShape)?.slice(0, spatial);
      const spans = kernel?.map((k, d) => (k - 1) * dilations[d]! + 1);
      const unsafe = dilations.some((d) => d !== 1) || !spans || spans.some((span, d) => strides[d]! > span);
      if (unsafe) {
        if (!spans || spans.some((span) => span < 1))
          throw unsupported(ctx, "SAME padding needs the filter shape");
        delete attrs.auto_pad;
        const sizes = ctx.inputShape(0)?.slice(last ? 1 : 2, last ? rank - 1 : rank);
        if (sizes?.every((size) => size >= 0)) attrs.pads = sameExplicitPads(sizes, strides, spans);
        else pad = (x) => dynamicSamePad(ctx, x, rank, strides, spans);
      }
    }
    ctx.setOutput(
      0,
      inChannelsFirst(ctx, ctx.input(0), rank, last, (x) =>
        op(ctx, "Conv", [pad ? pad(x) : x, weight], attrs),
      ),
    );
  };

/** TF SAME: total padding of one spatial dim (the odd pixel goes at the end). */
const samePadding = (size: number, stride: number, span: number): number =>
  Math.max((Math.ceil(size / stride) - 1) * stride + span - size, 0);

/** ONNX `pads` ([begins..., ends...]) for TF SAME over known spatial sizes. */
export function sameExplicitPads(
  sizes: readonly number[],
  strides: readonly number[],
  spans: readonly number[],
): number[] {
  const totals = sizes.map((size, d) => samePadding(size, strides[d]!, spans[d]!));
  return [...totals.map((t) => Math.floor(t / 2)), ...totals.map((t) => t - Math.floor(t / 2))];
}

/** samePadding computed in the graph from the runtime shape of a channels-first value, then a Pad. */
function dynamicSamePad(
  ctx: LoweringContext,
  x: string,
  rank: number,
  strides: number[],
  spans: number[],
): string {
  const spatial = rank - 2;
  const size = op(ctx, "Slice", [op(ctx, "Shape", [x]), int64s(ctx, [2], "from"), int64s(ctx, [rank], "to")]);
  const stride = int64s(ctx, strides, "strides");
  const one = int64s(ctx, [1], "one");
  const out = op(ctx, "Div", [op(ctx, "Sub", [op(ctx, "Add", [size, stride]), one]), stride]);
  const needed = op(ctx, "Sub", [
    op(ctx, "Add", [op(ctx, "Mul", [op(ctx, "Sub", [out, one]), stride]), int64s(ctx, spans, "spans")]),
    size,
  ]);
  const total = op(ctx, "Max", [needed, int64s(ctx, new Array<number>(spatial).fill(0), "zeros")]);
  const begin = op(ctx, "Div", [total, int64s(ctx, new Array<number>(spatial).fill(2), "twos")]);
  const end = op(ctx, "Sub", [total, begin]);
  const none = int64s(ctx, [0, 0], "no_pad");
  const pads = op(ctx, "Concat", [none, begin, none, end], { axis: 0 });
  return op(ctx, "Pad", [x, pads], { mode: "constant" });
}

/** TF's forward conv output size and padding for one spatial dim (conv_ops_utils GetWindowedOutputSize). */
function forwardWindow(
  padding: string,
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  explicit: readonly [number, number],
): { out: number; begin: number; end: number } {
  const span = (kernel - 1) * dilation + 1;
  if (padding === "VALID") return { out: Math.ceil((size - span + 1) / stride), begin: 0, end: 0 };
  if (padding === "SAME") {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return { out, begin: Math.floor(total / 2), end: total - Math.floor(total / 2) };
  }
  const [begin, end] = explicit;
  return { out: Math.floor((size + begin + end - span) / stride) + 1, begin, end };
}

/** The gradient of Conv2D w.r.t. its input (Keras Conv2DTranspose) → ConvTranspose with exact output size. */
const conv2dBackpropInput: OpHandler = (ctx) => {
  const rank = 4;
  const last = channelsLast(ctx);
  const sizes = constNumbers(ctx, 0, "input_sizes");
  const outSpatial = sizes.length === rank ? spatialOf(sizes, rank, last) : sizes;
  const filterShape = ctx.constInput(1)?.shape ?? ctx.inputShape(1);
  if (!filterShape) throw unsupported(ctx, "the filter shape must be known");
  const kernel = filterShape.slice(0, 2);
  const ones = [1, 1, 1, 1];
  const strides = spatialOf(intsAttr(ctx.node, "strides", ones), rank, last);
  const dilations = spatialOf(intsAttr(ctx.node, "dilations", ones), rank, last);
  const padding = stringAttr(ctx.node, "padding", "VALID");
  const explicit = intsAttr(ctx.node, "explicit_paddings", new Array<number>(8).fill(0));
  const spatialDims = last ? [1, 2] : [2, 3];
  const windows = outSpatial.map((size, d) =>
    forwardWindow(padding, size, kernel[d]!, strides[d]!, dilations[d]!, [
      explicit[2 * spatialDims[d]!] ?? 0,
      explicit[2 * spatialDims[d]! + 1] ?? 0,
    ]),
  );
  const outputPadding = windows.map(
    (w, d) =>
      outSpatial[d]! - (strides[d]! * (w.out - 1) + (kernel[d]! - 1) * dilations[d]! + 1 - w.begin - w.end),
  );
  const attrs: Record<string, OnnxAttribute> = {
    strides,
    dilations,
    pads: [...windows.map((w) => w.begin), ...windows.map((w) => w.end)],
    output_padding: outputPadding,
  };
  const weight = onnxWeight(ctx, 1, 2, false);
  ctx.setOutput(
    0,
    inChannelsFirst(ctx, ctx.input(2), rank, last, (x) => op(ctx, "ConvTranspose", [x, weight], attrs)),
  );
};

export const CONV_OPS: Readonly<Record<string, OpHandler>> = {
  Conv2D: conv(4, false),
  Conv3D: conv(5, false),
  DepthwiseConv2dNative: conv(4, true),
  Conv2DBackpropInput: conv2dBackpropInput,
};
