import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import { f32, f64, i32, i64, makeNode, nums, runTensors, shapeOf, str, texts } from "./host.test-helpers.js";

const run = (op: string, inputs: Tensor[]) => runTensors(makeNode(op), inputs);

describe("SparseReshape", () => {
  it("matches TF's documented example", () => {
    // tf.sparse.reshape docs: [2,3,6] → [9,-1] moves a..e from
    // [0,0,0] [0,0,1] [0,1,0] [1,0,0] [1,2,3] to [0,0] [0,1] [1,2] [4,2] [8,1] of a [9,4].
    const indices = i64([0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 2, 3], [5, 3]);
    const [outIndices, outShape] = run("SparseReshape", [indices, i64([2, 3, 6]), i64([9, -1])]);
    assert.equal(outIndices!.dtype, DataType.DT_INT64);
    assert.deepEqual(shapeOf(outIndices), [5, 2]);
    assert.deepEqual(nums(outIndices), [0, 0, 0, 1, 1, 2, 4, 2, 8, 1]);
    assert.equal(outShape!.dtype, DataType.DT_INT64);
    assert.deepEqual(nums(outShape), [9, 4]);
  });

  it("passes the input through for the same shape and reshapes empty sparse tensors", () => {
    const indices = i64([0, 1, 2, 0], [2, 2]);
    const shape = i64([3, 2]);
    const [same, sameShape] = run("SparseReshape", [indices, shape, i64([-1, 2])]);
    assert.equal(same, indices);
    assert.equal(sameShape, shape);
    // The estimator's feature columns reshape [batch, 1] to [batch] … and [0, 1] sparse tensors too.
    const [empty, emptyShape] = run("SparseReshape", [i64([], [0, 2]), i64([0, 1]), i64([0])]);
    assert.deepEqual(shapeOf(empty), [0, 1]);
    assert.deepEqual(nums(emptyShape), [0]);
  });

  it("rejects what TF rejects, as INVALID_ARGUMENT", () => {
    const indices = i64([0, 0], [1, 2]);
    assert.throws(() => run("SparseReshape", [indices, i64([2, 3]), i64([-1, -1])]), {
      code: Code.INVALID_ARGUMENT,
      message: "only one output dimension may be -1, not both 0 and 1",
    });
    assert.throws(() => run("SparseReshape", [indices, i64([2, 3]), i64([4, -1])]), {
      code: Code.INVALID_ARGUMENT,
      message:
        "Input to reshape is a SparseTensor with 6 dense values, but the requested shape requires a multiple of 4. input_shape=[2,3] output_shape=[4,1]",
    });
    assert.throws(() => run("SparseReshape", [indices, i64([2, 3]), i64([7])]), {
      code: Code.INVALID_ARGUMENT,
      message:
        "Input to reshape is a tensor with 6 dense values, but the requested shape has 7. input_shape=[2,3] output_shape=[7]",
    });
    assert.throws(() => run("SparseReshape", [i64([0, 0]), i64([2, 3]), i64([6])]), {
      code: Code.INVALID_ARGUMENT,
      message: "Input indices should be a matrix but received shape [2]",
    });
  });
});

describe("SparseFillEmptyRows", () => {
  it("matches TF's documented example", () => {
    // tf.sparse.fill_empty_rows docs: rows 1 and 4 of a [5, 6] get (row, 0) = default_value.
    const [indices, values, empty, reverse] = run("SparseFillEmptyRows", [
      i64([0, 1, 0, 3, 2, 0, 3, 1], [4, 2]),
      str(["a", "b", "c", "d"]),
      i64([5, 6]),
      str(["x"], []),
    ]);
    assert.deepEqual(nums(indices), [0, 1, 0, 3, 1, 0, 2, 0, 3, 1, 4, 0]);
    assert.deepEqual(shapeOf(indices), [6, 2]);
    assert.deepEqual(texts(values), ["a", "b", "x", "c", "d", "x"]);
    assert.equal(empty!.dtype, DataType.DT_BOOL);
    assert.deepEqual(nums(empty), [0, 1, 0, 0, 1]);
    assert.equal(reverse!.dtype, DataType.DT_INT64);
    assert.deepEqual(nums(reverse), [0, 1, 3, 4]);
  });

  it("returns full, ordered input unchanged and sorts rows given out of order", () => {
    const fullIndices = i64([0, 0, 1, 0, 1, 1], [3, 2]);
    const fullValues = i64([7, 8, 9]);
    const [indices, values, empty, reverse] = run("SparseFillEmptyRows", [
      fullIndices,
      fullValues,
      i64([2, 2]),
      i64([0], []),
    ]);
    assert.equal(indices, fullIndices);
    assert.equal(values, fullValues);
    assert.deepEqual(nums(empty), [0, 0]);
    assert.deepEqual(nums(reverse), [0, 1, 2]);

    // Rows 2, 0, 2: grouped by row in input order, row 1 filled.
    const [sorted, sortedValues, , map] = run("SparseFillEmptyRows", [
      i64([2, 5, 0, 1, 2, 3], [3, 2]),
      f32([1.5, 2.5, 3.5]),
      i64([3, 9]),
      f32([-1], []),
    ]);
    assert.deepEqual(nums(sorted), [0, 1, 1, 0, 2, 5, 2, 3]);
    assert.deepEqual(nums(sortedValues), [2.5, -1, 1.5, 3.5]);
    assert.deepEqual(nums(map), [2, 0, 3]);
  });

  it("handles dense_shape[0] = 0", () => {
    const [indices, values, empty, reverse] = run("SparseFillEmptyRows", [
      i64([], [0, 2]),
      f32([]),
      i64([0, 4]),
      f32([0], []),
    ]);
    assert.deepEqual(shapeOf(indices), [0, 2]);
    assert.deepEqual(shapeOf(values), [0]);
    assert.deepEqual(shapeOf(empty), [0]);
    assert.deepEqual(shapeOf(reverse), [0]);
  });

  it("rejects what TF rejects, as INVALID_ARGUMENT", () => {
    assert.throws(
      () => run("SparseFillEmptyRows", [i64([0, 5], [1, 2]), f32([1]), i64([3, 9]), f32([0], [1])]),
      {
        code: Code.INVALID_ARGUMENT,
        message: "default_value must be a scalar, saw: [1]",
      },
    );
    assert.throws(
      () => run("SparseFillEmptyRows", [i64([3, 0], [1, 2]), f32([1]), i64([3, 9]), f32([0], [])]),
      {
        code: Code.INVALID_ARGUMENT,
        message: "indices(0, 0) is invalid: 3 >= 3",
      },
    );
    assert.throws(
      () => run("SparseFillEmptyRows", [i64([0, 0], [1, 2]), f32([1, 2]), i64([3, 9]), f32([0], [])]),
      {
        code: Code.INVALID_ARGUMENT,
        message: "The length of `values` (2) must match the first dimension of `indices` (1).",
      },
    );
    assert.throws(() => run("SparseFillEmptyRows", [i64([0, 0], [1, 2]), f32([1]), i64([3]), f32([0], [])]), {
      code: Code.INVALID_ARGUMENT,
      message: "The length of `dense_shape` (1) must match the second dimension of `indices` (2).",
    });
    assert.throws(() => run("SparseFillEmptyRows", [i64([], [1, 0]), f32([1]), i64([]), f32([0], [])]), {
      code: Code.INVALID_ARGUMENT,
      message: "Dense shape cannot be empty.",
    });
  });
});

describe("SparseSegmentSum / Mean / SqrtN", () => {
  const c = () => i32([1, 2, 3, 4, -1, -2, -3, -4, 5, 6, 7, 8], [3, 4]);

  it("matches TF's documented SparseSegmentSum examples", () => {
    // tf.sparse.segment_sum docs.
    const sum = (indices: number[], segments: number[]) =>
      run("SparseSegmentSum", [c(), i32(indices), i32(segments)])[0];
    assert.deepEqual(nums(sum([0, 1], [0, 0])), [0, 0, 0, 0]);
    assert.deepEqual(shapeOf(sum([0, 1], [0, 0])), [1, 4]);
    assert.deepEqual(nums(sum([0, 1], [0, 1])), [1, 2, 3, 4, -1, -2, -3, -4]);
    const all = sum([0, 1, 2], [0, 0, 1]);
    assert.equal(all!.dtype, DataType.DT_INT32);
    assert.deepEqual(nums(all), [0, 0, 0, 0, 5, 6, 7, 8]);
    assert.deepEqual(shapeOf(all), [2, 4]);
  });

  it("matches TF's documented WithNumSegments examples", () => {
    // tf.sparse.segment_sum(..., num_segments=4) docs; skipped segments are 0.
    const op = "SparseSegmentSumWithNumSegments";
    assert.deepEqual(nums(run(op, [c(), i32([0, 1]), i32([0, 0]), i32([4], [])])[0]), new Array(16).fill(0));
    const out = run(op, [c(), i32([0, 1]), i32([0, 2]), i64([4], [])])[0];
    assert.deepEqual(shapeOf(out), [4, 4]);
    assert.deepEqual(nums(out), [1, 2, 3, 4, 0, 0, 0, 0, -1, -2, -3, -4, 0, 0, 0, 0]);
    assert.throws(() => run(op, [c(), i32([0, 1]), i32([0, 2]), i32([2], [])]), {
      code: Code.INVALID_ARGUMENT,
      message: "segment ids must be < num_segments",
    });
  });

  it("takes the mean and the sum over sqrt(n), with int64 indices and segment ids", () => {
    const x = f32([1, 2, 3, 4, -1, -2, -3, -4, 5, 6, 7, 8], [3, 4]);
    assert.deepEqual(nums(run("SparseSegmentMean", [x, i64([0, 1]), i64([0, 0])])[0]), [0, 0, 0, 0]);
    assert.deepEqual(
      nums(run("SparseSegmentMean", [x, i32([0, 1, 2]), i32([0, 0, 1])])[0]),
      [0, 0, 0, 0, 5, 6, 7, 8],
    );
    const sqrtn = run("SparseSegmentSqrtN", [x, i32([0, 2]), i32([0, 0])])[0];
    assert.deepEqual(
      nums(sqrtn),
      [6, 8, 10, 12].map((v) => Math.fround(v * Math.fround(1 / Math.fround(Math.SQRT2)))),
    );
    const withNum = run("SparseSegmentMeanWithNumSegments", [x, i32([2]), i32([1]), i32([3], [])])[0];
    assert.deepEqual(nums(withNum), [0, 0, 0, 0, 5, 6, 7, 8, 0, 0, 0, 0]);
  });

  it("rounds in float32 as TF's kernel does: below 10 rows times 1/n, from 10 rows divided by n", () => {
    // Mean of 1, 2, 2: TF computes (1 + 2 + 2) * float(1/3) = 1.6666667461…, not 5/3 = 1.6666666269….
    const three = run("SparseSegmentMean", [f32([1, 2], [2, 1]), i32([0, 1, 1]), i32([0, 0, 0])])[0];
    assert.deepEqual(nums(three), [1.6666667461395264]);
    // Ten rows: a leading group of 2 (num % 8), then a group of 8, then one division.
    const ten = run("SparseSegmentMean", [
      f32([0.1, 0.7], [2, 1]),
      i32([0, 1, 1, 1, 0, 0, 1, 0, 1, 1]),
      i32(new Array(10).fill(0)),
    ])[0];
    const f = Math.fround;
    const [a, b] = [f(0.1), f(0.7)];
    const lead = f(a + b);
    let group = b;
    for (const v of [b, a, a, b, a, b, b]) group = f(group + v);
    assert.deepEqual(nums(ten), [f(f(lead + group) / 10)]);
    // float64 data does not round to float32 (and is still multiplied by 1/3: 5 * (1/3), not 5 / 3).
    assert.deepEqual(
      nums(run("SparseSegmentMean", [f64([1, 2], [2, 1]), i32([0, 1, 1]), i32([0, 0, 0])])[0]),
      [5 * (1 / 3)],
    );
  });

  it("sums int64 data exactly and keeps its dtype", () => {
    const big = run("SparseSegmentSum", [i64([2n ** 60n, 3n], [2, 1]), i32([0, 1, 1]), i32([0, 0, 0])])[0];
    assert.equal(big!.dtype, DataType.DT_INT64);
    assert.deepEqual(Array.from(big!.values as BigInt64Array), [2n ** 60n + 6n]);
  });

  it("handles empty indices", () => {
    const out = run("SparseSegmentSum", [c(), i32([]), i32([])])[0];
    assert.deepEqual(shapeOf(out), [0, 4]);
  });

  it("rejects what TF rejects, as INVALID_ARGUMENT", () => {
    const cases: [Tensor[], string][] = [
      [[c(), i32([0, 3]), i32([0, 0])], "Bad: indices[1] == 3 out of range [0, 3)"],
      [[c(), i32([0, 1]), i32([1, 0])], "segment ids are not increasing"],
      [[c(), i32([0, 1]), i32([0])], "segment_ids and indices should have same size."],
      [[c(), i32([0, 1], [1, 2]), i32([0, 0])], "indices should be a vector."],
      [[c(), i32([0]), i32([-1])], "segment ids must be >= 0"],
      [[i32([1], []), i32([0]), i32([0])], "Shape must be at least rank 1"],
      [
        [c(), i32([0, 0]), i32([-1, 0])],
        "Segment id -1 out of range [0, 1), possibly because 'segment_ids' input is not sorted.",
      ],
    ];
    for (const [inputs, message] of cases) {
      assert.throws(() => run("SparseSegmentSum", inputs), { code: Code.INVALID_ARGUMENT, message });
    }
    assert.throws(() => run("SparseSegmentMean", [c(), i32([0]), i32([0])]), { code: Code.INVALID_ARGUMENT });
  });
});
