// The registry of TF op → ONNX lowering handlers.
import type { OpHandler } from "../lowering.js";
import { ARITHMETIC_OPS } from "./arithmetic.js";
import { BATCH_NORM_OPS } from "./batch-norm.js";
import { CONCAT_SPLIT_OPS } from "./concat-split.js";
import { CONV_OPS } from "./conv.js";
import { GATHER_OPS } from "./gather.js";
import { LINALG_OPS } from "./linalg.js";
import { LOGIC_OPS } from "./logic.js";
import { MATH_OPS } from "./math.js";
import { MISC_OPS } from "./misc.js";
import { NN_OPS } from "./nn.js";
import { PAD_OPS } from "./pad.js";
import { POOL_OPS } from "./pool.js";
import { REDUCTION_OPS } from "./reduction.js";
import { RESIZE_OPS } from "./resize.js";
import { SHAPE_OPS } from "./shape-ops.js";
import { SLICE_OPS } from "./slice.js";

export { PASS_THROUGH_OPS } from "./misc.js";

const FAMILIES: readonly Readonly<Record<string, OpHandler>>[] = [
  MISC_OPS,
  MATH_OPS,
  ARITHMETIC_OPS,
  LINALG_OPS,
  NN_OPS,
  CONV_OPS,
  POOL_OPS,
  BATCH_NORM_OPS,
  RESIZE_OPS,
  REDUCTION_OPS,
  LOGIC_OPS,
  SHAPE_OPS,
  CONCAT_SPLIT_OPS,
  SLICE_OPS,
  GATHER_OPS,
  PAD_OPS,
];

/** TF op name → handler. A name in two families is a bug, caught at startup. */
export const OP_HANDLERS: ReadonlyMap<string, OpHandler> = (() => {
  const handlers = new Map<string, OpHandler>();
  for (const family of FAMILIES) {
    for (const [name, handler] of Object.entries(family)) {
      if (handlers.has(name)) throw new Error(`two ONNX lowerings for TF op ${name}`);
      handlers.set(name, handler);
    }
  }
  return handlers;
})();

/**
 * Inputs that must be constants (a Const, or an Identity chain to one) for the op to lower; -1 is the
 * last input. Other ops take any computed input. MirrorPad SYMMETRIC also needs constant paddings.
 */
export const CONSTANT_INPUTS: ReadonlyMap<string, readonly number[]> = new Map([
  ["Transpose", [1]],
  ["ConcatV2", [-1]],
  ["Concat", [0]],
  ["Split", [0]],
  ["SplitV", [1, 2]],
  ["StridedSlice", [1, 2, 3]],
  ["GatherV2", [2]],
  ["ArgMax", [1]],
  ["ArgMin", [1]],
  ["MaxPoolV2", [1, 2]],
  ["Conv2DBackpropInput", [0]],
  ["ReverseV2", [1]],
]);
