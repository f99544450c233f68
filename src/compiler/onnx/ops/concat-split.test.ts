import { describe, it } from "node:test";
import {
  assertTensorEqual,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  fromIndex,
  i32,
  i64,
  node,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";

/** x[..., from:to, ...] along axis, by index math. */
function sliceAxis(x: Tensor, axis: number, from: number, to: number): Tensor {
  const shape = x.shape.map((d, i) => (i === axis ? to - from : d));
  return fromIndex(x.dtype, shape, (index) =>
    at(
      x,
      index.map((v, i) => (i === axis ? v + from : v)),
    ),
  );
}

describe("ConcatV2 / Concat / Pack / Unpack", () => {
  it("ConcatV2 along 0 and -1; Concat (v1) takes the axis first", async () => {
    const a = randomF32([2, 3], 1);
    const b = randomF32([2, 2], 2);
    const c = randomF32([1, 3], 3);
    const [last, first, v1] = await runOnce(
      [
        constNode("minus_one", i32([], [-1])),
        constNode("zero", i64([], [0])),
        // Concat v1's concat_dim is int32 in TF's OpDef (ConcatV2's axis may be int64).
        constNode("zero32", i32([], [0])),
        node("ConcatV2", "last", ["a", "b", "minus_one"]),
        node("ConcatV2", "first", ["a", "c", "zero"]),
        node("Concat", "v1", ["zero32", "a", "c", "a"]),
      ],
      { a, b, c },
      ["last", "first", "v1"],
    );
    assertTensorEqual(
      last!,
      fromIndex(DataType.DT_FLOAT, [2, 5], ([i, j]) => (j! < 3 ? at(a, [i!, j!]) : at(b, [i!, j! - 3]))),
    );
    assertTensorEqual(
      first!,
      fromIndex(DataType.DT_FLOAT, [3, 3], ([i, j]) => (i! < 2 ? at(a, [i!, j!]) : at(c, [0, j!]))),
    );
    assertTensorEqual(
      v1!,
      fromIndex(DataType.DT_FLOAT, [5, 3], ([i, j]) =>
        i! < 2 ? at(a, [i!, j!]) : i! < 3 ? at(c, [0, j!]) : at(a, [i! - 3, j!]),
      ),
    );
  });

  it("ConcatV2 of int32 with a dynamic batch", async () => {
    const compiled = await compileSegment({
      nodes: [
        constNode("axis", i32([], [0])),
        node("ConcatV2", "y", ["x", "z", "axis"], {}, [DataType.DT_INT32]),
      ],
      inputs: [
        { name: "x", dtype: DataType.DT_INT32, shape: [-1, 2] },
        { name: "z", dtype: DataType.DT_INT32, shape: [-1, 2] },
      ],
      outputs: ["y"],
    });
    try {
      for (const batch of [1, 3]) {
        const x = fromIndex(DataType.DT_INT32, [batch, 2], ([i, j]) => i! * 2 + j!);
        const z = fromIndex(DataType.DT_INT32, [2, 2], ([i, j]) => -(i! * 2 + j!));
        const [y] = await compiled.run(x, z);
        assertTensorEqual(
          y!,
          fromIndex(DataType.DT_INT32, [batch + 2, 2], ([i, j]) =>
            i! < batch ? at(x, [i!, j!]) : at(z, [i! - batch, j!]),
          ),
        );
      }
    } finally {
      await compiled.session.release();
    }
  });

  for (const axis of [0, 1, -1]) {
    it(`Pack then Unpack along axis ${axis}`, async () => {
      const a = randomF32([2, 3], 4);
      const b = randomF32([2, 3], 5);
      const outAxis = axis < 0 ? 3 + axis : axis;
      const packed = fromIndex(DataType.DT_FLOAT, [2, 3].toSpliced(outAxis, 0, 2), (index) => {
        const which = index[outAxis]!;
        const rest = index.filter((_, i) => i !== outAxis);
        return at(which === 0 ? a : b, rest);
      });
      const [p] = await runOnce(
        [node("Pack", "p", ["a", "b"], { axis: attr.int(axis), N: attr.int(2) })],
        { a, b },
        ["p"],
      );
      assertTensorEqual(p!, packed);
      const unpackAxis = axis === -1 ? -1 : axis;
      const [u0, u1] = await runOnce(
        [
          node("Unpack", "u", ["p"], { axis: attr.int(unpackAxis), num: attr.int(2) }, [
            DataType.DT_FLOAT,
            DataType.DT_FLOAT,
          ]),
        ],
        { p: packed },
        ["u:0", "u:1"],
      );
      assertTensorEqual(u0!, a);
      assertTensorEqual(u1!, b);
    });
  }

  it("Pack of scalars and Unpack into one part", async () => {
    const [p, u] = await runOnce(
      [
        node("Pack", "p", ["a", "b", "a"], {}, [DataType.DT_INT64]),
        node("Unpack", "u", ["one"], { num: attr.int(1) }, [DataType.DT_INT64]),
      ],
      { a: i64([], [7]), b: i64([], [-2]), one: i64([1, 2], [5, 6]) },
      ["p", "u"],
    );
    assertTensorEqual(p!, i64([3], [7, -2, 7]));
    assertTensorEqual(u!, i64([2], [5, 6]));
  });
});

describe("Split / SplitV", () => {
  it("Split into 3 equal parts along axis 1 (split_dim comes first)", async () => {
    const x = randomF32([2, 6], 6);
    const f = DataType.DT_FLOAT;
    const outs = await runOnce(
      [
        constNode("dim", i32([], [1])),
        node("Split", "s", ["dim", "x"], { num_split: attr.int(3) }, [f, f, f]),
      ],
      { x },
      ["s:0", "s:1", "s:2"],
    );
    outs.forEach((o, k) => {
      assertTensorEqual(o, sliceAxis(x, 1, 2 * k, 2 * k + 2));
    });
  });

  it("SplitV with explicit sizes, a -1 remainder, and a -1 over a dynamic dim", async () => {
    const x = randomF32([7, 2], 7);
    const f = DataType.DT_FLOAT;
    const outs = await runOnce(
      [
        constNode("sizes", i32([3], [2, -1, 1])),
        constNode("axis", i32([], [0])),
        node("SplitV", "s", ["x", "sizes", "axis"], { num_split: attr.int(3) }, [f, f, f]),
      ],
      { x },
      ["s:0", "s:1", "s:2"],
    );
    assertTensorEqual(outs[0]!, sliceAxis(x, 0, 0, 2));
    assertTensorEqual(outs[1]!, sliceAxis(x, 0, 2, 6));
    assertTensorEqual(outs[2]!, sliceAxis(x, 0, 6, 7));

    const compiled = await compileSegment({
      nodes: [
        constNode("sizes", i64([2], [1, -1])),
        constNode("axis", i32([], [-2])),
        node("SplitV", "s", ["x", "sizes", "axis"], { num_split: attr.int(2) }, [f, f]),
      ],
      inputs: [{ name: "x", dtype: f, shape: [-1, 2] }],
      outputs: ["s:0", "s:1"],
    });
    try {
      for (const rows of [2, 5]) {
        const input = randomF32([rows, 2], rows);
        const [head, tail] = await compiled.run(input);
        assertTensorEqual(head!, sliceAxis(input, 0, 0, 1));
        assertTensorEqual(tail!, sliceAxis(input, 0, 1, rows));
      }
    } finally {
      await compiled.session.release();
    }
  });
});
