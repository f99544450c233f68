// Shape arithmetic of broadcasting, as TF's bcast_ops.cc computes it with util/bcast.h (BCastList<2>):
// BroadcastGradientArgs (the reduction indices of a broadcasting binary op's gradients, found in
// every tf.GradientTape / tf.gradients training graph) and BroadcastArgs (the broadcast shape).
import { invalidArgument } from "../../errors.js";
import { baseDType, DataType } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import { input, intTensor, intValues, tfShape, tfTypeName } from "./util.js";

export interface BCastResult {
  /** The broadcast shape (BCast::output_shape). */
  readonly output: number[];
  /** Dimensions (of the output) to sum the gradient over for x and for y (grad_{x,y}_reduce_idx). */
  readonly gradReduce: [number[], number[]];
}

/**
 * BCastList<2> with fewer_dims_optimization (the default), reduced to what the two ops read:
 * undefined when the shapes are incompatible. Identical shapes take TF's fast path, which leaves both
 * reduction lists empty even for dims of 1; dims where every operand is 1 are reduced for both.
 */
export function bcast(x: readonly number[], y: readonly number[]): BCastResult | undefined {
  const sameShape = x.length === y.length && x.every((d, i) => d === y[i]);
  if (sameShape) return { output: [...x], gradReduce: [[], []] };
  const rank = Math.max(x.length, y.length);
  // Reversed and 1-extended: index 0 is the innermost dimension.
  const copies = [x, y].map((s) => {
    const r = [...s].reverse();
    while (r.length < rank) r.push(1);
    return r;
  });
  const output: number[] = [];
  const reduce: [number[], number[]] = [[], []];
  for (let j = 0; j < rank; j++) {
    let outputDim = -1;
    let outputDimSet = false;
    let noneIsOne = true;
    const isOne = [false, false];
    for (let i = 0; i < 2; i++) {
      const d = copies[i]![j]!;
      if (d === 1) {
        isOne[i] = true;
        noneIsOne = false;
      } else if (!outputDimSet || d === outputDim) {
        outputDim = d;
        outputDimSet = true;
      } else {
        return undefined;
      }
    }
    output.push(outputDimSet ? outputDim : 1);
    for (let i = 0; i < 2; i++) {
      // All operands 1 here: every operand reduces it. Otherwise the operands that are 1 do.
      if (!outputDimSet || (isOne[i] && !noneIsOne)) reduce[i]!.push(rank - 1 - j);
    }
  }
  return { output: output.reverse(), gradReduce: [reduce[0].reverse(), reduce[1].reverse()] };
}

/** The two shape vectors of a BroadcastArgs/BroadcastGradientArgs node, checked as TF does. */
function shapeInputs(node: Parameters<HostKernel>[0], inputs: Parameters<HostKernel>[1]) {
  if (inputs.length !== 2) throw invalidArgument("Broadcast for n-ary operations (n > 2)");
  const tensors: Tensor[] = [input(node, inputs, 0), input(node, inputs, 1)];
  const dtype = baseDType(tensors[0]!.dtype);
  if (dtype !== DataType.DT_INT32 && dtype !== DataType.DT_INT64) {
    throw invalidArgument(`${node.op} takes int32 or int64 shapes, got ${tfTypeName(dtype)}`);
  }
  const shapes = tensors.map((t, i) => {
    if (t.rank !== 1) throw invalidArgument(`In[${i}] must be a vector.${tfShape(t.shape)}`);
    return intValues(t, `In[${i}]`);
  });
  const [x, y] = shapes as [number[], number[]];
  const result = bcast(x, y);
  if (!result) throw invalidArgument(`Incompatible shapes: [${x.join(",")}] vs. [${y.join(",")}]`);
  return { dtype, result };
}

/** BroadcastGradientArgs(s0, s1) → (r0, r1): the axes to reduce each operand's gradient over. */
const broadcastGradientArgs: HostKernel = (node, inputs) => {
  const { dtype, result } = shapeInputs(node, inputs);
  return result.gradReduce.map((r) => intTensor(dtype, [r.length], r));
};

/** BroadcastArgs(s0, s1) → r0: the broadcast shape. */
const broadcastArgs: HostKernel = (node, inputs) => {
  const { dtype, result } = shapeInputs(node, inputs);
  return [intTensor(dtype, [result.output.length], result.output)];
};

export const BROADCAST_KERNELS: Readonly<Record<string, HostKernel>> = {
  BroadcastGradientArgs: broadcastGradientArgs,
  BroadcastArgs: broadcastArgs,
};
