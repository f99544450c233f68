import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { concatRows, maxShape, padInnerDims, requestRows, sliceRows } from "./concat-split.js";

/** The values of a tensor as a plain array (numbers or bigints). */
const list = (t: Tensor | undefined): unknown[] => Array.from((t?.values ?? []) as ArrayLike<unknown>);

const whole = (tensor: Tensor) => ({ tensor, start: 0, rows: tensor.shape[0] ?? 0 });
const texts = (t: Tensor) => t.strings.map((s) => new TextDecoder().decode(s));

describe("concat and split along dimension 0", () => {
  it("concatenates numeric rows and pads with the last request's first row", () => {
    const a = new Tensor(DataType.DT_FLOAT, [1, 2], new Float32Array([1, 2]));
    const b = new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array([3, 4, 5, 6]));
    const merged = concatRows([whole(a), whole(b)], 4);
    assert.deepEqual(merged.shape, [4, 2]);
    assert.deepEqual(list(merged), [1, 2, 3, 4, 5, 6, 3, 4]);
    assert.deepEqual(list(sliceRows(merged, 1, 2)), [3, 4, 5, 6]);
  });

  it("keeps int64 exact, strings and bools, and row ranges of split requests", () => {
    const big = new Tensor(DataType.DT_INT64, [3], new BigInt64Array([2n ** 62n, -1n, 5n]));
    const merged = concatRows([{ tensor: big, start: 1, rows: 2 }], 2);
    assert.deepEqual(list(merged), [-1n, 5n]);
    const s = concatRows(
      [whole(Tensor.fromStrings([2, 1], ["a", "b"])), whole(Tensor.fromStrings([1, 1], ["c"]))],
      4,
    );
    assert.deepEqual(s.shape, [4, 1]);
    assert.deepEqual(texts(s), ["a", "b", "c", "c"]);
    assert.deepEqual(texts(sliceRows(s, 1, 2)), ["b", "c"]);
    const bools = concatRows([whole(new Tensor(DataType.DT_BOOL, [2], new Uint8Array([1, 0])))], 3);
    assert.deepEqual(list(bools), [1, 0, 1]);
  });

  it("complex values keep both lanes per element", () => {
    const c = new Tensor(DataType.DT_COMPLEX64, [2], new Float32Array([1, -1, 2, -2]));
    assert.deepEqual(list(sliceRows(c, 1, 1)), [2, -2]);
    assert.deepEqual(list(concatRows([whole(c)], 3)), [1, -1, 2, -2, 1, -1]);
  });

  it("pads other dimensions with the tensor's first value", () => {
    const t = new Tensor(DataType.DT_INT32, [2, 2], new Int32Array([9, 1, 2, 3]));
    const padded = padInnerDims(t, [5, 3]);
    assert.deepEqual(padded.shape, [2, 3]);
    assert.deepEqual(list(padded), [9, 1, 9, 2, 3, 9]);
    assert.equal(padInnerDims(t, [7, 2]), t);
    assert.deepEqual(texts(padInnerDims(Tensor.fromStrings([1, 2], ["a", "b"]), [1, 3])), ["a", "b", "a"]);
    assert.deepEqual(
      maxShape("x", [
        [1, 2, 5],
        [3, 4, 1],
      ]),
      [3, 4, 5],
    );
    assert.throws(() => maxShape("x", [[1, 2], [1]]), { code: Code.FAILED_PRECONDITION });
  });

  it("a request's rows are its inputs' common dimension 0", () => {
    assert.equal(requestRows(new Map([["a", Tensor.zeros(DataType.DT_FLOAT, [3, 2])]])), 3);
    assert.throws(() => requestRows(new Map()), {
      message: "Batching session Run() must have at least one input tensor",
    });
  });
});
