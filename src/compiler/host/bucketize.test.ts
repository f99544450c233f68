import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { lowerBound } from "./bucketize.js";
import { attr, f32, i32, makeNode, nums, runTensors, shapeOf } from "./host.test-helpers.js";

const bucketize = (numFeatures: number) =>
  makeNode("BoostedTreesBucketize", { num_features: attr.int(numFeatures) });

describe("BoostedTreesBucketize", () => {
  it("matches TF's quantile_ops_test.py (testBasicQuantileBucketsSingleResource)", () => {
    // tensorflow/python/kernel_tests/boosted_trees/quantile_ops_test.py: the flushed boundaries
    // [0.3, 0.6, 1.2, 12.1] and [0.8, 1.2, 2.3, 3.2] bucketize the two features as below.
    const out = runTensors(bucketize(2), [
      f32([1.2, 12.1, 0.3, 0.5, 0.6, 2.2]),
      f32([2.3, 1.2, 1.1, 2.6, 3.2, 0.8]),
      f32([0.3, 0.6, 1.2, 12.1]),
      f32([0.8, 1.2, 2.3, 3.2]),
    ]);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.dtype, DataType.DT_INT32);
    assert.deepEqual(nums(out[0]), [2, 3, 0, 1, 1, 3]);
    assert.deepEqual(nums(out[1]), [2, 1, 1, 3, 3, 0]);
    assert.deepEqual(shapeOf(out[1]), [6]);
  });

  it("is lower_bound clamped to the last boundary; no boundaries gives 0", () => {
    const [buckets, none] = runTensors(bucketize(2), [
      // A value equal to a boundary takes that boundary's index (lower_bound, not upper_bound);
      // values past the last boundary stay in the last index; NaN compares false → 0.
      f32([-5, 1, 1.5, 2, 3, 100, Number.NaN]),
      f32([7, 8]),
      f32([1, 2, 3]),
      f32([]),
    ]);
    assert.deepEqual(nums(buckets), [0, 0, 1, 1, 2, 2, 0]);
    assert.deepEqual(nums(none), [0, 0]);
  });

  it("probes like std::lower_bound", () => {
    assert.equal(lowerBound([1, 2, 2, 2, 3], 2), 1);
    assert.equal(lowerBound([1, 2, 2, 2, 3], 2.5), 4);
    assert.equal(lowerBound([], 1), 0);
  });

  it("rejects non-vector boundaries and non-float inputs as INVALID_ARGUMENT", () => {
    assert.throws(() => runTensors(bucketize(1), [f32([1]), f32([1, 2], [1, 2])]), {
      code: Code.INVALID_ARGUMENT,
      message: "Buckets should be flat vectors.",
    });
    assert.throws(() => runTensors(bucketize(1), [i32([1]), f32([1, 2])]), { code: Code.INVALID_ARGUMENT });
    assert.throws(() => runTensors(bucketize(2), [f32([1]), f32([1])]), { code: Code.INVALID_ARGUMENT });
  });
});
