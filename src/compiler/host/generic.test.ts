import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import {
  attr,
  f32,
  i32,
  i64,
  makeNode,
  nums,
  runTensors,
  scalarStr,
  shapeOf,
  str,
  texts,
} from "./host.test-helpers.js";
import { HOST_KERNELS, isHostOp } from "./index.js";

const grid = () => str(["a", "b", "c", "d", "e", "f"], [2, 3]);

describe("the registry", () => {
  it("covers the ops of the brief", () => {
    for (const op of [
      "ParseExample",
      "ParseExampleV2",
      "HashTableV2",
      "InitializeTableFromTextFileV2",
      "LookupTableFindV2",
      "StringToHashBucketFast",
      "StringJoin",
      "AsString",
      "DecodeBase64",
      "VarHandleOp",
      "ResourceApplyGradientDescent",
      "ConcatV2",
    ]) {
      assert.ok(isHostOp(op), op);
    }
    assert.equal(isHostOp("MatMul"), false);
    assert.ok(HOST_KERNELS.size > 80);
  });
});

describe("identities, constants and placeholders", () => {
  it("pass values through", () => {
    const t = grid();
    assert.equal(runTensors(makeNode("Identity"), [t])[0], t);
    const [a, b] = runTensors(makeNode("IdentityN"), [t, f32([1])]);
    assert.equal(a, t);
    assert.deepEqual(nums(b), [1]);
    assert.equal(runTensors(makeNode("PlaceholderWithDefault"), [t])[0], t);
  });

  it("Const reads node.value or the value attr", () => {
    const t = str(["k"]);
    assert.equal(runTensors(makeNode("Const", {}, { value: t }))[0], t);
    const [fromAttr] = runTensors(
      makeNode("Const", { value: attr.tensor(t), dtype: attr.type(DataType.DT_STRING) }),
    );
    assert.deepEqual(texts(fromAttr), ["k"]);
  });

  it("an unfed Placeholder fails as TF does", () => {
    const node = makeNode(
      "Placeholder",
      { dtype: attr.type(DataType.DT_STRING), shape: attr.shape([-1]) },
      { name: "x" },
    );
    assert.throws(() => runTensors(node), {
      message: "You must feed a value for placeholder tensor 'x' with dtype string and shape [?]",
    });
  });
});

describe("shape ops", () => {
  it("Reshape infers -1, ExpandDims and Squeeze move unit dims", () => {
    const [r] = runTensors(makeNode("Reshape"), [grid(), i32([-1, 2])]);
    assert.deepEqual(shapeOf(r), [3, 2]);
    assert.throws(() => runTensors(makeNode("Reshape"), [grid(), i32([4])]), {
      message: "Input to reshape is a tensor with 6 values, but the requested shape has 4",
    });
    assert.deepEqual(shapeOf(runTensors(makeNode("ExpandDims"), [grid(), i32([-1], [])])[0]), [2, 3, 1]);
    const unit = str(["x", "y"], [1, 2, 1]);
    assert.deepEqual(
      shapeOf(runTensors(makeNode("Squeeze", { squeeze_dims: attr.ints([]) }), [unit])[0]),
      [2],
    );
    assert.deepEqual(
      shapeOf(runTensors(makeNode("Squeeze", { squeeze_dims: attr.ints([0]) }), [unit])[0]),
      [2, 1],
    );
    assert.throws(() => runTensors(makeNode("Squeeze", { squeeze_dims: attr.ints([1]) }), [unit]), {
      message: "Can not squeeze dim[1], expected a dimension of 1, got 2",
    });
  });

  it("Shape, Size and Rank in the requested integer type", () => {
    const [s] = runTensors(makeNode("Shape", { out_type: attr.type(DataType.DT_INT64) }), [grid()]);
    assert.equal(s!.dtype, DataType.DT_INT64);
    assert.deepEqual(nums(s), [2, 3]);
    const [n] = runTensors(makeNode("Size", { out_type: attr.type(DataType.DT_INT32) }), [grid()]);
    assert.deepEqual(nums(n), [6]);
    assert.deepEqual(shapeOf(n), []);
    assert.deepEqual(nums(runTensors(makeNode("Rank"), [grid()])[0]), [2]);
  });
});

describe("Pack, Unpack, ConcatV2", () => {
  it("packs strings along an axis", () => {
    const node = makeNode("Pack", { axis: attr.int(1), N: attr.int(2) });
    const [out] = runTensors(node, [str(["a", "b"]), str(["c", "d"])]);
    assert.deepEqual(shapeOf(out), [2, 2]);
    assert.deepEqual(texts(out), ["a", "c", "b", "d"]);
    const [first] = runTensors(makeNode("Pack", { axis: attr.int(0) }), [str(["a", "b"]), str(["c", "d"])]);
    assert.deepEqual(texts(first), ["a", "b", "c", "d"]);
    assert.throws(() => runTensors(node, [str(["a"]), str(["c", "d"])]), {
      message: "Shapes of all inputs must match: values[0].shape = [1] != values[1].shape = [2]",
    });
  });

  it("unpacks along an axis", () => {
    const outs = runTensors(makeNode("Unpack", { num: attr.int(3), axis: attr.int(1) }), [grid()]);
    assert.deepEqual(outs.map(texts), [
      ["a", "d"],
      ["b", "e"],
      ["c", "f"],
    ]);
  });

  it("concatenates strings and numbers along any axis", () => {
    const node = makeNode("ConcatV2", { N: attr.int(2) });
    const [rows] = runTensors(node, [grid(), str(["g", "h", "i"], [1, 3]), i32([0], [])]);
    assert.deepEqual(shapeOf(rows), [3, 3]);
    assert.deepEqual(texts(rows), ["a", "b", "c", "d", "e", "f", "g", "h", "i"]);
    const [cols] = runTensors(node, [grid(), str(["x", "y"], [2, 1]), i64([-1], [])]);
    assert.deepEqual(texts(cols), ["a", "b", "c", "x", "d", "e", "f", "y"]);
    const [numbers] = runTensors(node, [f32([1, 2], [2, 1]), f32([3, 4], [2, 1]), i32([1], [])]);
    assert.deepEqual(nums(numbers), [1, 3, 2, 4]);
    assert.throws(() => runTensors(node, [grid(), str(["x"], [1, 1]), i32([0], [])]), {
      message: "ConcatOp : Dimension 1 in both shapes must be equal: shape[0] = [2,3] vs. shape[1] = [1,1]",
    });
  });
});

describe("GatherV2, Tile, Fill, SparseToDense", () => {
  it("gathers along an axis, with batch_dims", () => {
    const node = makeNode("GatherV2", { batch_dims: attr.int(0) });
    const [cols] = runTensors(node, [grid(), i32([2, 0]), i32([1], [])]);
    assert.deepEqual(shapeOf(cols), [2, 2]);
    assert.deepEqual(texts(cols), ["c", "a", "f", "d"]);
    const [rows] = runTensors(node, [grid(), i64([[1], [0]].flat(), [2, 1]), i32([0], [])]);
    assert.deepEqual(shapeOf(rows), [2, 1, 3]);
    assert.deepEqual(texts(rows), ["d", "e", "f", "a", "b", "c"]);
    assert.throws(() => runTensors(node, [grid(), i32([3]), i32([1], [])]), {
      message: "indices[0] = 3 is not in [0, 3)",
    });
    const batched = makeNode("GatherV2", { batch_dims: attr.int(1) });
    const [b] = runTensors(batched, [grid(), i32([2, 0], [2, 1]), i32([1], [])]);
    assert.deepEqual(shapeOf(b), [2, 1]);
    assert.deepEqual(texts(b), ["c", "d"]);
  });

  it("tiles and fills", () => {
    const [t] = runTensors(makeNode("Tile"), [str(["a", "b"], [1, 2]), i32([2, 2])]);
    assert.deepEqual(shapeOf(t), [2, 4]);
    assert.deepEqual(texts(t), ["a", "b", "a", "b", "a", "b", "a", "b"]);
    const [f] = runTensors(makeNode("Fill"), [i32([2, 2]), scalarStr("z")]);
    assert.deepEqual(texts(f), ["z", "z", "z", "z"]);
    assert.deepEqual(shapeOf(f), [2, 2]);
  });

  it("scatters sparse string values over a default", () => {
    const node = makeNode("SparseToDense", { validate_indices: attr.bool(true) });
    const [out] = runTensors(node, [i64([0, 1, 1, 0], [2, 2]), i64([2, 2]), str(["p", "q"]), scalarStr("")]);
    assert.deepEqual(texts(out), ["", "p", "q", ""]);
    assert.throws(
      () => runTensors(node, [i64([1, 0, 0, 1], [2, 2]), i64([2, 2]), str(["p", "q"]), scalarStr("")]),
      {
        message:
          "indices[1] = [0,1] is out of order. Many sparse ops require sorted indices.\n    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n",
      },
    );
  });
});

describe("Equal / NotEqual", () => {
  it("compare strings with broadcasting", () => {
    const [eq] = runTensors(makeNode("Equal"), [grid(), scalarStr("e")]);
    assert.deepEqual(nums(eq), [0, 0, 0, 0, 1, 0]);
    assert.equal(eq!.dtype, DataType.DT_BOOL);
    const [ne] = runTensors(makeNode("NotEqual"), [grid(), str(["a", "x", "c"])]);
    assert.deepEqual(nums(ne), [0, 1, 0, 1, 1, 1]);
    assert.throws(() => runTensors(makeNode("Equal"), [grid(), str(["a", "b"])]), {
      message: "Incompatible shapes: [2,3] vs. [2]",
    });
    const lax = makeNode("Equal", { incompatible_shape_error: attr.bool(false) });
    assert.deepEqual(nums(runTensors(lax, [grid(), str(["a", "b"])])[0]), [0]);
  });

  it("compare numbers, NaN unequal to itself", () => {
    const [eq] = runTensors(makeNode("Equal"), [f32([1, Number.NaN, 0]), f32([1, Number.NaN, -0])]);
    assert.deepEqual(nums(eq), [1, 0, 1]);
    assert.ok(
      runTensors(makeNode("Equal"), [new Tensor(DataType.DT_INT64, [], BigInt64Array.of(5n)), i64([5])])[0],
    );
  });
});

describe("Slice / StridedSlice", () => {
  // The tf.strided_slice doc's t: [[[1,1,1],[2,2,2]], [[3,3,3],[4,4,4]], [[5,5,5],[6,6,6]]]
  const t = i32([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6], [3, 2, 3]);
  type Masks = {
    begin_mask?: number;
    end_mask?: number;
    ellipsis_mask?: number;
    new_axis_mask?: number;
    shrink_axis_mask?: number;
  };
  const ss = (begin: number[], end: number[], strides: number[], masks: Masks = {}) => {
    const attrs = Object.fromEntries(Object.entries(masks).map(([k, v]) => [k, attr.int(v)]));
    const [out] = runTensors(makeNode("StridedSlice", attrs), [t, i32(begin), i32(end), i32(strides)]);
    return { values: nums(out), shape: shapeOf(out) };
  };

  it("matches the tf.strided_slice documentation", () => {
    // tf.strided_slice(t, [1, 0, 0], [2, 1, 3], [1, 1, 1])  # [[[3, 3, 3]]]
    assert.deepEqual(ss([1, 0, 0], [2, 1, 3], [1, 1, 1]), { values: [3, 3, 3], shape: [1, 1, 3] });
    // tf.strided_slice(t, [1, 0, 0], [2, 2, 3], [1, 1, 1])  # [[[3, 3, 3], [4, 4, 4]]]
    assert.deepEqual(ss([1, 0, 0], [2, 2, 3], [1, 1, 1]), { values: [3, 3, 3, 4, 4, 4], shape: [1, 2, 3] });
    // tf.strided_slice(t, [1, -1, 0], [2, -3, 3], [1, -1, 1])  # [[[4, 4, 4], [3, 3, 3]]]
    assert.deepEqual(ss([1, -1, 0], [2, -3, 3], [1, -1, 1]), {
      values: [4, 4, 4, 3, 3, 3],
      shape: [1, 2, 3],
    });
  });

  it("handles shrink, new axis, ellipsis and reversal masks", () => {
    // t[1, :, 0]
    assert.deepEqual(
      ss([1, 0, 0], [2, 0, 1], [1, 1, 1], { begin_mask: 2, end_mask: 2, shrink_axis_mask: 5 }),
      {
        values: [3, 4],
        shape: [2],
      },
    );
    // t[..., 1]
    assert.deepEqual(ss([0, 1], [0, 2], [1, 1], { ellipsis_mask: 1, shrink_axis_mask: 2 }), {
      values: [1, 2, 3, 4, 5, 6],
      shape: [3, 2],
    });
    // t[tf.newaxis, 2]
    assert.deepEqual(ss([0, 2], [0, 3], [1, 1], { new_axis_mask: 1, shrink_axis_mask: 2 }), {
      values: [5, 5, 5, 6, 6, 6],
      shape: [1, 2, 3],
    });
    // t[::-2, 0, 0]
    assert.deepEqual(
      ss([0, 0, 0], [0, 1, 1], [-2, 1, 1], { begin_mask: 1, end_mask: 1, shrink_axis_mask: 6 }),
      {
        values: [5, 1],
        shape: [2],
      },
    );
    assert.throws(() => ss([3], [4], [1], { shrink_axis_mask: 1 }), {
      message: "slice index 3 of dimension 0 out of bounds.",
    });
  });

  it("slices strings, and Slice takes begin and size (-1 for the rest)", () => {
    const [s] = runTensors(makeNode("StridedSlice", { shrink_axis_mask: attr.int(1) }), [
      i64([2, 1]),
      i32([0]),
      i32([1]),
      i32([1]),
    ]);
    assert.deepEqual(nums(s), [2]);
    assert.deepEqual(shapeOf(s), []);
    const [cut] = runTensors(makeNode("Slice"), [grid(), i32([0, 1]), i32([-1, 2])]);
    assert.deepEqual(texts(cut), ["b", "c", "e", "f"]);
    assert.deepEqual(shapeOf(cut), [2, 2]);
  });
});
