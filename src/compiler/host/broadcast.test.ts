import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { bcast } from "./broadcast.js";
import { f32, i32, i64, makeNode, nums, runTensors, shapeOf } from "./host.test-helpers.js";

const gradArgs = (s0: number[], s1: number[]) => {
  const [r0, r1] = runTensors(makeNode("BroadcastGradientArgs"), [i32(s0), i32(s1)]);
  assert.equal(r0!.dtype, DataType.DT_INT32);
  assert.equal(r1!.dtype, DataType.DT_INT32);
  return [nums(r0), nums(r1)];
};

describe("BroadcastGradientArgs", () => {
  it("matches TF's bcast_ops_test.py", () => {
    // tensorflow/python/kernel_tests/array_ops/bcast_ops_test.py testBasic.
    const cases: [number[], number[], number[], number[]][] = [
      [[2, 3, 5], [1], [], [0, 1, 2]],
      [[1], [2, 3, 5], [0, 1, 2], []],
      [[2, 3, 5], [5], [], [0, 1]],
      [[5], [2, 3, 5], [0, 1], []],
      [[2, 3, 5], [3, 5], [], [0]],
      [[3, 5], [2, 3, 5], [0], []],
      [[2, 3, 5], [3, 1], [], [0, 2]],
      [[3, 1], [2, 3, 5], [0, 2], []],
      [[2, 1, 5], [3, 1], [1], [0, 2]],
      [[3, 1], [2, 1, 5], [0, 2], [1]],
      // testZeroDims.
      [[2, 0, 3, 0, 5], [3, 0, 5], [], [0, 1]],
      [[3, 0, 5], [2, 0, 3, 0, 5], [0, 1], []],
      [[2, 0, 3, 0, 5], [3, 1, 5], [], [0, 1, 3]],
      [[3, 1, 5], [2, 0, 3, 0, 5], [0, 1, 3], []],
    ];
    for (const [s0, s1, r0, r1] of cases) {
      assert.deepEqual(gradArgs(s0, s1), [r0, r1], `${s0} vs ${s1}`);
    }
  });

  it("follows bcast.h's special cases: identical shapes reduce nothing, all-1 dims reduce for both", () => {
    // BCastList's fast path for equal shapes leaves grad_reduce_idx empty, even for dims of 1.
    assert.deepEqual(gradArgs([2, 1, 3], [2, 1, 3]), [[], []]);
    assert.deepEqual(gradArgs([], []), [[], []]);
    // A dimension where every operand is 1 (after 1-extension) goes into both lists.
    assert.deepEqual(gradArgs([1, 1], [1]), [
      [0, 1],
      [0, 1],
    ]);
    assert.deepEqual(gradArgs([4, 1], [1]), [[1], [0, 1]]);
    // The tf2 regression model: w [1] times x [batch].
    assert.deepEqual(gradArgs([1], [4]), [[0], []]);
    // A scalar broadcast to [4] sums its gradient over axis 0.
    assert.deepEqual(gradArgs([], [4]), [[0], []]);
  });

  it("keeps int64 shapes int64", () => {
    const [r0, r1] = runTensors(makeNode("BroadcastGradientArgs"), [i64([2, 3, 5]), i64([3, 1])]);
    assert.equal(r0!.dtype, DataType.DT_INT64);
    assert.deepEqual([nums(r0), nums(r1)], [[], [0, 2]]);
    assert.deepEqual(shapeOf(r0), [0]);
  });

  it("rejects what TF rejects, as INVALID_ARGUMENT", () => {
    const node = makeNode("BroadcastGradientArgs");
    assert.throws(() => runTensors(node, [i32([2, 3]), i32([4])]), {
      code: Code.INVALID_ARGUMENT,
      message: "Incompatible shapes: [2,3] vs. [4]",
    });
    assert.throws(() => runTensors(node, [i32([2, 3], [1, 2]), i32([3])]), {
      code: Code.INVALID_ARGUMENT,
      message: "In[0] must be a vector.[1,2]",
    });
    assert.throws(() => runTensors(node, [f32([2]), f32([2])]), { code: Code.INVALID_ARGUMENT });
  });
});

describe("BroadcastArgs", () => {
  it("returns the broadcast shape", () => {
    const node = makeNode("BroadcastArgs");
    assert.deepEqual(nums(runTensors(node, [i32([2, 3, 5]), i32([1])])[0]), [2, 3, 5]);
    assert.deepEqual(nums(runTensors(node, [i64([3, 1]), i64([2, 1, 5])])[0]), [2, 3, 5]);
    assert.deepEqual(bcast([2, 0, 3, 0, 5], [3, 1, 5])?.output, [2, 0, 3, 0, 5]);
    assert.equal(bcast([2], [3]), undefined);
  });
});
