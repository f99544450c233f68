import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServingError } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import { attr, f32, i32, i64, makeNode, nums, run, shapeOf, str, texts } from "./host.test-helpers.js";
import type { HostValue } from "./kernel.js";
import { isTensorList, mergeShapes, shapeFromTensor, type TensorList } from "./tensor-list.js";

const F = DataType.DT_FLOAT;
const dtype = { element_dtype: attr.type(F) };
const shapeType = (t: DataType = DataType.DT_INT32) => ({ shape_type: attr.type(t) });
const unknownShape = i32([-1], []);

const list = (v: HostValue | undefined): TensorList => {
  assert.ok(isTensorList(v), "a TensorList");
  return v;
};
const one = (op: string, inputs: HostValue[], attrs = {}): HostValue => run(makeNode(op, attrs), inputs)[0]!;
const rejects = (fn: () => unknown, pattern: RegExp): void =>
  assert.throws(fn, (e: unknown) => e instanceof ServingError && pattern.test(e.message));

const reserve = (n: number, shape: Tensor = i32([2])): TensorList =>
  list(one("TensorListReserve", [shape, i32([n], [])], { ...dtype, ...shapeType() }));
const setItem = (l: TensorList, i: number, item: Tensor, attrs = {}): TensorList =>
  list(one("TensorListSetItem", [l, i32([i], []), item], { ...dtype, ...attrs }));
const stack = (l: TensorList, shape: Tensor = unknownShape, attrs = {}): HostValue =>
  one("TensorListStack", [l, shape], { ...dtype, ...attrs });

describe("TensorList shapes", () => {
  it("reads element_shape tensors: -1 scalar is an unknown rank", () => {
    assert.equal(shapeFromTensor(i32([-1], [])), null);
    assert.deepEqual(shapeFromTensor(i64([-1, 3])), [-1, 3]);
    assert.deepEqual(shapeFromTensor(i32([], [0])), []);
    rejects(() => shapeFromTensor(i32([2], [])), /only valid scalar shape/);
  });

  it("merges partial shapes", () => {
    assert.deepEqual(mergeShapes([-1, 3], [2, -1]), [2, 3]);
    assert.deepEqual(mergeShapes(null, [2]), [2]);
    assert.equal(mergeShapes([2], [3]), undefined);
    assert.equal(mergeShapes([2], [2, 1]), undefined);
  });
});

describe("TensorList kernels", () => {
  it("Reserve / SetItem / GetItem / Stack: unset items read as zeros", () => {
    const empty = reserve(3);
    assert.equal(empty.length, 3);
    assert.deepEqual(empty.elementShape, [2]);
    const l = setItem(empty, 1, f32([1, 2]));
    assert.equal(empty.items[1], undefined, "SetItem returns a new list");
    const item = one("TensorListGetItem", [l, i32([1], []), unknownShape], dtype);
    assert.deepEqual(nums(item), [1, 2]);
    assert.deepEqual(nums(one("TensorListGetItem", [l, i32([0], []), unknownShape], dtype)), [0, 0]);
    const stacked = stack(l);
    assert.deepEqual(shapeOf(stacked), [3, 2]);
    assert.deepEqual(nums(stacked), [0, 0, 1, 2, 0, 0]);
  });

  it("infers an unknown element shape from the items that are set", () => {
    const l = setItem(reserve(2, unknownShape), 0, f32([5, 6, 7, 8], [2, 2]));
    assert.deepEqual(shapeOf(stack(l)), [2, 2, 2]);
    assert.deepEqual(nums(one("TensorListGetItem", [l, i32([1], []), unknownShape], dtype)), [0, 0, 0, 0]);
    rejects(
      () => one("TensorListGetItem", [reserve(2, unknownShape), i32([1], []), unknownShape], dtype),
      /uninitialized tensor but element_shape is not fully defined/,
    );
    rejects(() => stack(reserve(2, unknownShape)), /only contains uninitialized tensors/);
  });

  it("checks indices, dtypes, shapes and num_elements as TF does", () => {
    const l = reserve(2);
    rejects(
      () => one("TensorListGetItem", [l, i32([2], []), unknownShape], dtype),
      /access element 2 in a list with 2 elements/,
    );
    rejects(() => setItem(l, -1, f32([1, 2])), /modify element -1 in a list with 2 elements/);
    rejects(() => setItem(l, 0, f32([1, 2, 3])), /incompatible shape/);
    rejects(
      () =>
        one("TensorListGetItem", [l, i32([0], []), unknownShape], {
          element_dtype: attr.type(DataType.DT_INT32),
        }),
      /op elements int32 but list elements float/,
    );
    rejects(
      () => stack(l, unknownShape, { num_elements: attr.int(3) }),
      /expected a list with 3 elements but got a list with 2/,
    );
    rejects(
      () => one("TensorListReserve", [unknownShape, i32([-1], [])], { ...dtype, ...shapeType() }),
      /non negative/,
    );
    rejects(
      () => one("TensorListStack", [f32([1]), unknownShape], dtype),
      /must be a TensorList, got a float tensor/,
    );
  });

  it("SetItem grows the list with resize_if_index_out_of_bounds", () => {
    const l = setItem(reserve(1), 3, f32([1, 1]), { resize_if_index_out_of_bounds: attr.bool(true) });
    assert.equal(l.length, 4);
    assert.deepEqual(nums(stack(l)), [0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it("FromTensor splits along dimension 0; Stack rebuilds the tensor", () => {
    const x = f32([1, 2, 3, 4, 5, 6], [3, 2]);
    const l = list(one("TensorListFromTensor", [x, i32([-1])], { ...dtype, ...shapeType() }));
    assert.equal(l.length, 3);
    assert.deepEqual(l.elementShape, [-1]);
    assert.deepEqual(nums(l.items[2]), [5, 6]);
    assert.deepEqual(nums(stack(l)), [1, 2, 3, 4, 5, 6]);
    rejects(
      () => one("TensorListFromTensor", [x, i32([3])], { ...dtype, ...shapeType() }),
      /list with shape \[3\] from a tensor with shape \[3,2\]/,
    );
    rejects(
      () => one("TensorListFromTensor", [f32([1], []), unknownShape], { ...dtype, ...shapeType() }),
      /at least a vector/,
    );
  });

  it("works for strings and int64", () => {
    const s = list(
      one("TensorListFromTensor", [str(["a", "b"]), unknownShape], {
        element_dtype: attr.type(DataType.DT_STRING),
        ...shapeType(),
      }),
    );
    assert.deepEqual(
      texts(one("TensorListStack", [s, unknownShape], { element_dtype: attr.type(DataType.DT_STRING) })),
      ["a", "b"],
    );
    const n = list(
      one("TensorListFromTensor", [i64([7, 8, 9]), unknownShape], {
        element_dtype: attr.type(DataType.DT_INT64),
        ...shapeType(),
      }),
    );
    assert.deepEqual(
      nums(
        one("TensorListGather", [n, i32([2, 0]), unknownShape], {
          element_dtype: attr.type(DataType.DT_INT64),
        }),
      ),
      [9, 7],
    );
  });

  it("EmptyTensorList / PushBack / PopBack / Length / ElementShape / Resize", () => {
    let l = list(one("EmptyTensorList", [i32([-1, 2]), i32([2], [])], { ...dtype, ...shapeType() }));
    l = list(one("TensorListPushBack", [l, f32([1, 2], [1, 2])], dtype));
    l = list(one("TensorListPushBack", [l, f32([3, 4, 5, 6], [2, 2])], dtype));
    rejects(() => one("TensorListPushBack", [l, f32([0, 0], [1, 2])], dtype), /full list/);
    rejects(() => one("TensorListPushBack", [l, f32([0, 0, 0], [1, 3])], dtype), /incompatible shape/);
    assert.deepEqual(nums(one("TensorListLength", [l])), [2]);
    const shape = one("TensorListElementShape", [l], shapeType(DataType.DT_INT64));
    assert.ok(shape && !isTensorList(shape) && "dtype" in shape && shape.dtype === DataType.DT_INT64);
    assert.deepEqual(nums(shape), [-1, 2]);
    const unknown = one("TensorListElementShape", [reserve(1, unknownShape)], shapeType());
    assert.deepEqual(shapeOf(unknown), []);
    assert.deepEqual(nums(unknown), [-1]);
    const [rest, last] = run(makeNode("TensorListPopBack", dtype), [l, unknownShape]);
    assert.equal(list(rest).length, 1);
    assert.deepEqual(nums(last), [3, 4, 5, 6]);
    rejects(
      () =>
        run(makeNode("TensorListPopBack", dtype), [
          list(one("TensorListResize", [l, i32([0], [])])),
          unknownShape,
        ]),
      /pop from an empty list/,
    );
    const grown = list(one("TensorListResize", [l, i32([4], [])]));
    assert.equal(grown.length, 4);
    assert.equal(grown.items[3], undefined);
  });

  it("ConcatV2 concatenates along dimension 0 and returns the lengths", () => {
    let l = list(one("EmptyTensorList", [i32([-1, 2]), i32([-1], [])], { ...dtype, ...shapeType() }));
    l = list(one("TensorListPushBack", [l, f32([1, 2], [1, 2])], dtype));
    l = list(one("TensorListPushBack", [l, f32([3, 4, 5, 6], [2, 2])], dtype));
    const [t, lengths] = run(makeNode("TensorListConcatV2", { ...dtype, ...shapeType() }), [
      l,
      unknownShape,
      i64([]),
    ]);
    assert.deepEqual(shapeOf(t), [3, 2]);
    assert.deepEqual(nums(t), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(nums(lengths), [1, 2]);
    // Unset items take their leading dimension from leading_dims.
    const r = list(one("TensorListResize", [l, i32([3], [])]));
    const [t2, lengths2] = run(makeNode("TensorListConcatV2", { ...dtype, ...shapeType() }), [
      r,
      unknownShape,
      i64([0, 0, 1]),
    ]);
    assert.deepEqual(shapeOf(t2), [4, 2]);
    assert.deepEqual(nums(lengths2), [1, 2, 1]);
  });

  it("Identity passes a TensorList through", () => {
    const l = reserve(1);
    const node = makeNode(
      "Identity",
      { T: attr.type(DataType.DT_VARIANT) },
      { outputs: [DataType.DT_VARIANT] },
    );
    assert.equal(run(node, [l])[0], l);
  });
});
