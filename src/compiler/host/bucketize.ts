// BoostedTreesBucketize, as TF's boosted_trees/quantile_ops.cc computes it: for each of num_features
// float vectors, the bucket of every value is std::lower_bound over that feature's boundaries (the
// first boundary >= value), clamped to the last boundary's index; no boundaries → bucket 0.
// tf.Transform's apply_buckets and the Estimator's bucketized columns build on it.
import { invalidArgument } from "../../errors.js";
import { baseDType, DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import { attrInt, input, tfShape, tfTypeName } from "./util.js";

/** std::lower_bound over `bounds` (the same probes, so unsorted or NaN boundaries behave as in C++). */
export function lowerBound(bounds: ArrayLike<number>, value: number): number {
  let first = 0;
  let count = bounds.length;
  while (count > 0) {
    const step = count >> 1;
    const it = first + step;
    if (bounds[it]! < value) {
      first = it + 1;
      count -= step + 1;
    } else {
      count = step;
    }
  }
  return first;
}

function floatInput(node: Parameters<HostKernel>[0], inputs: Parameters<HostKernel>[1], i: number): Tensor {
  const t = input(node, inputs, i);
  if (baseDType(t.dtype) !== DataType.DT_FLOAT) {
    throw invalidArgument(`${node.op} input ${i} must be float, got ${tfTypeName(t.dtype)}`);
  }
  return t;
}

const boostedTreesBucketize: HostKernel = (node, inputs) => {
  const numFeatures = attrInt(node, "num_features", inputs.length / 2);
  if (inputs.length !== 2 * numFeatures) {
    throw invalidArgument(
      `${node.op} node ${node.name} expects ${2 * numFeatures} inputs (num_features = ${numFeatures}), got ${inputs.length}`,
    );
  }
  if (numFeatures === 0) return [];
  if (floatInput(node, inputs, numFeatures).rank !== 1)
    throw invalidArgument("Buckets should be flat vectors.");
  const out: Tensor[] = [];
  for (let f = 0; f < numFeatures; f++) {
    const values = floatInput(node, inputs, f);
    if (values.rank < 1) {
      throw invalidArgument(`float_values[${f}] must be a vector, got shape ${tfShape(values.shape)}`);
    }
    const bounds = floatInput(node, inputs, numFeatures + f).values as Float32Array;
    const flat = values.values as Float32Array;
    const n = values.shape[0]!;
    const buckets = new Int32Array(n);
    if (bounds.length > 0) {
      for (let k = 0; k < n; k++) buckets[k] = Math.min(lowerBound(bounds, flat[k]!), bounds.length - 1);
    }
    out.push(new Tensor(DataType.DT_INT32, [n], buckets));
  }
  return out;
};

export const BUCKETIZE_KERNELS: Readonly<Record<string, HostKernel>> = {
  BoostedTreesBucketize: boostedTreesBucketize,
};
