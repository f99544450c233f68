// Unique and UniqueWithCounts, as TF's unique_op.cc computes them: y holds the distinct values of a
// 1-D x in order of first occurrence, idx[i] the position of x[i] in y (dtype out_idx, int32 by
// default), count how often each occurs. Any dtype, strings and int64 included; as the C++ hash map
// compares floats with ==, 0 and -0 are one value and every NaN is a value of its own.
import { invalidArgument } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import { attrType, elementKey, gatherElements, input, intTensor } from "./util.js";

const INT32_MAX = 2147483647;

/** The first-occurrence positions of the distinct values of `x`, and each element's position in them. */
export function uniqueOf(x: Tensor): { first: number[]; idx: number[] } {
  const seen = new Map<string | number | bigint, number>();
  const first: number[] = [];
  const idx = new Array<number>(x.size);
  const isFloat =
    !Array.isArray(x.data) && (x.data instanceof Float32Array || x.data instanceof Float64Array);
  for (let i = 0; i < x.size; i++) {
    const key = elementKey(x, i);
    // NaN != NaN: each NaN is new. Map keys already treat -0 as 0, as == does.
    let at = isFloat && Number.isNaN(key) ? undefined : seen.get(key);
    if (at === undefined) {
      at = first.length;
      first.push(i);
      if (!(isFloat && Number.isNaN(key))) seen.set(key, at);
    }
    idx[i] = at;
  }
  return { first, idx };
}

const unique =
  (withCounts: boolean): HostKernel =>
  (node, inputs) => {
    const x = input(node, inputs, 0);
    if (x.rank !== 1) throw invalidArgument("unique expects a 1D vector.");
    if (x.size > INT32_MAX) {
      throw invalidArgument(`unique does not support input tensors larger than ${INT32_MAX} elements`);
    }
    const outIdx = attrType(node, "out_idx", DataType.DT_INT32);
    const { first, idx } = uniqueOf(x);
    const y = gatherElements(x, [first.length], (k) => first[k]!);
    const outputs = [y, intTensor(outIdx, [idx.length], idx)];
    if (withCounts) {
      const counts = new Array<number>(first.length).fill(0);
      for (const i of idx) counts[i]!++;
      outputs.push(intTensor(outIdx, [counts.length], counts));
    }
    return outputs;
  };

export const UNIQUE_KERNELS: Readonly<Record<string, HostKernel>> = {
  Unique: unique(false),
  UniqueWithCounts: unique(true),
};
