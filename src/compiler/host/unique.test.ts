import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { attr, f32, i32, i64, makeNode, nums, runTensors, shapeOf, str, texts } from "./host.test-helpers.js";

describe("Unique", () => {
  it("matches TF's documented example", () => {
    // tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8]) → y [1, 2, 4, 7, 8], idx [0, 0, 1, 2, 2, 2, 3, 4, 4]
    const [y, idx] = runTensors(makeNode("Unique"), [i32([1, 1, 2, 4, 4, 4, 7, 8, 8])]);
    assert.equal(y!.dtype, DataType.DT_INT32);
    assert.deepEqual(nums(y), [1, 2, 4, 7, 8]);
    assert.deepEqual(shapeOf(y), [5]);
    assert.equal(idx!.dtype, DataType.DT_INT32);
    assert.deepEqual(nums(idx), [0, 0, 1, 2, 2, 2, 3, 4, 4]);
  });

  it("keeps first-occurrence order for int64 and strings; out_idx picks idx's dtype", () => {
    const node = makeNode("Unique", { out_idx: attr.type(DataType.DT_INT64) });
    const [y, idx] = runTensors(node, [i64([9007199254740993n, 5n, 9007199254740993n, -1n])]);
    assert.equal(y!.dtype, DataType.DT_INT64);
    assert.deepEqual(Array.from(y!.values as BigInt64Array), [9007199254740993n, 5n, -1n]);
    assert.equal(idx!.dtype, DataType.DT_INT64);
    assert.deepEqual(nums(idx), [0, 1, 0, 2]);

    const [ys, idxs] = runTensors(makeNode("Unique"), [str(["b", "a", "b", "", "a\u0000x", "a"])]);
    assert.deepEqual(texts(ys), ["b", "a", "", "a\u0000x"]);
    assert.deepEqual(nums(idxs), [0, 1, 0, 2, 3, 1]);
  });

  it("treats 0 and -0 as one value and every NaN as a new one, as the C++ hash map does", () => {
    const [y, idx] = runTensors(makeNode("Unique"), [f32([-0, 0, Number.NaN, 1.5, Number.NaN])]);
    assert.equal(y!.size, 4);
    assert.ok(Object.is(nums(y)[0], -0));
    assert.deepEqual(nums(idx), [0, 0, 1, 2, 3]);
  });

  it("rejects a non-vector as INVALID_ARGUMENT", () => {
    assert.throws(() => runTensors(makeNode("Unique"), [i32([1, 2], [1, 2])]), {
      code: Code.INVALID_ARGUMENT,
      message: "unique expects a 1D vector.",
    });
  });
});

describe("UniqueWithCounts", () => {
  it("matches TF's documented example", () => {
    // tf.unique_with_counts([1, 1, 2, 4, 4, 4, 7, 8, 8]) → count [2, 1, 3, 1, 2]
    const [y, idx, count] = runTensors(makeNode("UniqueWithCounts"), [i32([1, 1, 2, 4, 4, 4, 7, 8, 8])]);
    assert.deepEqual(nums(y), [1, 2, 4, 7, 8]);
    assert.deepEqual(nums(idx), [0, 0, 1, 2, 2, 2, 3, 4, 4]);
    assert.deepEqual(nums(count), [2, 1, 3, 1, 2]);
    assert.equal(count!.dtype, DataType.DT_INT32);
  });
});
