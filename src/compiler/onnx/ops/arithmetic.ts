// Element-wise binary arithmetic (numpy broadcasting is the same in TF and ONNX).
import type { LoweringContext, OpHandler } from "../lowering.js";
import { isFloat, isUnsigned, op, scalar, unsupported } from "./util.js";

const binary =
  (onnxOp: string): OpHandler =>
  (ctx) => {
    ctx.setOutput(0, op(ctx, onnxOp, [ctx.input(0), ctx.input(1)]));
  };

/** TF floors integer quotients; ONNX Div truncates. (x − floormod(x, y)) / y is exact. */
const floorDiv: OpHandler = (ctx) => {
  const [x, y] = [ctx.input(0), ctx.input(1)];
  const dtype = ctx.inputDType(0);
  if (isFloat(dtype)) {
    ctx.setOutput(0, op(ctx, "Floor", [op(ctx, "Div", [x, y])]));
  } else if (isUnsigned(dtype)) {
    ctx.setOutput(0, op(ctx, "Div", [x, y]));
  } else {
    const mod = op(ctx, "Mod", [x, y], { fmod: 0 });
    ctx.setOutput(0, op(ctx, "Div", [op(ctx, "Sub", [x, mod]), y]));
  }
};

/** Result takes the divisor's sign. ONNX Mod(fmod=0) does that for integers; floats need fmod + fix-up as TF does. */
const floorMod: OpHandler = (ctx) => {
  const [x, y] = [ctx.input(0), ctx.input(1)];
  const dtype = ctx.inputDType(0);
  if (!isFloat(dtype)) {
    ctx.setOutput(0, op(ctx, "Mod", [x, y], { fmod: 0 }));
    return;
  }
  const zero = scalar(ctx, 0, dtype);
  const truncated = op(ctx, "Mod", [x, y], { fmod: 1 });
  const signsDiffer = op(ctx, "Xor", [op(ctx, "Less", [y, zero]), op(ctx, "Less", [truncated, zero])]);
  const nonZero = op(ctx, "Not", [op(ctx, "Equal", [truncated, zero])]);
  const fix = op(ctx, "And", [nonZero, signsDiffer]);
  ctx.setOutput(0, op(ctx, "Where", [fix, op(ctx, "Add", [truncated, y]), truncated]));
};

/** C-style remainder (sign of the dividend). */
const truncateMod: OpHandler = (ctx) => {
  ctx.setOutput(0, op(ctx, "Mod", [ctx.input(0), ctx.input(1)], { fmod: 1 }));
};

/** x ∘ y, but 0 wherever y is 0 (DivNoNan, MulNoNan). */
const noNan =
  (onnxOp: string): OpHandler =>
  (ctx) => {
    const zero = scalar(ctx, 0, ctx.inputDType(1));
    const yIsZero = op(ctx, "Equal", [ctx.input(1), zero]);
    ctx.setOutput(0, op(ctx, "Where", [yIsZero, zero, op(ctx, onnxOp, [ctx.input(0), ctx.input(1)])]));
  };

const squaredDifference: OpHandler = (ctx) => {
  const d = op(ctx, "Sub", [ctx.input(0), ctx.input(1)]);
  ctx.setOutput(0, op(ctx, "Mul", [d, d]));
};

/** ONNX Sum covers floats; integer sums are chained Adds (onnxruntime's Sum lacks some int types). */
const addN: OpHandler = (ctx) => {
  const n = ctx.node.inputs.length;
  if (n === 0) throw unsupported(ctx, "AddN needs at least one input");
  const values = Array.from({ length: n }, (_, i) => ctx.input(i));
  if (n === 1) {
    ctx.setOutput(0, values[0]!);
  } else if (isFloat(ctx.inputDType(0))) {
    ctx.setOutput(0, op(ctx, "Sum", values));
  } else {
    ctx.setOutput(
      0,
      values.slice(1).reduce((acc, v) => op(ctx, "Add", [acc, v]), values[0]!),
    );
  }
};

/** min(max(x, lo), hi): TF's clip bounds may be tensors broadcast against x, which ONNX Clip rejects. */
const clipByValue = (ctx: LoweringContext): void => {
  const low = op(ctx, "Max", [ctx.input(0), ctx.input(1)]);
  ctx.setOutput(0, op(ctx, "Min", [low, ctx.input(2)]));
};

export const ARITHMETIC_OPS: Readonly<Record<string, OpHandler>> = {
  Add: binary("Add"),
  AddV2: binary("Add"),
  Sub: binary("Sub"),
  Mul: binary("Mul"),
  // Integer Div in TF truncates toward zero (C semantics), as ONNX Div does.
  Div: binary("Div"),
  RealDiv: binary("Div"),
  TruncateDiv: binary("Div"),
  FloorDiv: floorDiv,
  FloorMod: floorMod,
  Mod: truncateMod,
  TruncateMod: truncateMod,
  DivNoNan: noNan("Div"),
  MulNoNan: noNan("Mul"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  Pow: binary("Pow"),
  SquaredDifference: squaredDifference,
  AddN: addN,
  ClipByValue: clipByValue,
};
