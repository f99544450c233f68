import { describe, it } from "node:test";
import {
  assertTensorEqual,
  at,
  attr,
  bool,
  compileSegment,
  constNode,
  DataType,
  f32,
  fromIndex,
  i32,
  i64,
  node,
  numbers,
  randomF32,
  runOnce,
} from "../onnx.test-helpers.js";

const I32 = [DataType.DT_INT32];
const I64 = [DataType.DT_INT64];

describe("Reshape / Squeeze / ExpandDims / Transpose", () => {
  it("Reshape with int32 -1, int64 shape, a fed shape and a literal 0 dim", async () => {
    const x = randomF32([2, 3, 2], 1);
    const empty = f32([0, 3], []);
    const [a, b, c, d] = await runOnce(
      [
        constNode("s1", i32([2], [-1, 4])),
        constNode("s2", i64([3], [3, 2, 2])),
        constNode("s0", i32([2], [3, 0])),
        node("Reshape", "a", ["x", "s1"]),
        node("Reshape", "b", ["x", "s2"]),
        node("Reshape", "c", ["x", "fed"]),
        node("Reshape", "d", ["empty", "s0"]),
      ],
      { x, fed: i32([1], [12]), empty },
      ["a", "b", "c", "d"],
    );
    assertTensorEqual(a!, f32([3, 4], numbers(x)));
    assertTensorEqual(b!, f32([3, 2, 2], numbers(x)));
    assertTensorEqual(c!, f32([12], numbers(x)));
    assertTensorEqual(d!, f32([3, 0], []));
  });

  it("Squeeze given dims (negative too) and all size-1 dims", async () => {
    const x = randomF32([1, 3, 1, 2, 1], 2);
    const flat = numbers(x);
    const [a, b, c] = await runOnce(
      [
        node("Squeeze", "a", ["x"], { squeeze_dims: attr.ints([0, -1]) }),
        node("Squeeze", "b", ["x"], { squeeze_dims: attr.ints([]) }),
        node("Squeeze", "c", ["x"], { squeeze_dims: attr.ints([2]) }),
      ],
      { x },
      ["a", "b", "c"],
    );
    assertTensorEqual(a!, f32([3, 1, 2], flat));
    assertTensorEqual(b!, f32([3, 2], flat));
    assertTensorEqual(c!, f32([1, 3, 2, 1], flat));
  });

  it("ExpandDims at 0, -1 (appends) and from a fed axis", async () => {
    const x = i32([2, 3], [1, 2, 3, 4, 5, 6]);
    const [a, b, c] = await runOnce(
      [
        constNode("zero", i32([], [0])),
        constNode("last", i64([1], [-1])),
        node("ExpandDims", "a", ["x", "zero"], {}, I32),
        node("ExpandDims", "b", ["x", "last"], {}, I32),
        node("ExpandDims", "c", ["x", "axis"], {}, I32),
      ],
      { x, axis: i32([], [1]) },
      ["a", "b", "c"],
    );
    const values = [1, 2, 3, 4, 5, 6];
    assertTensorEqual(a!, i32([1, 2, 3], values));
    assertTensorEqual(b!, i32([2, 3, 1], values));
    assertTensorEqual(c!, i32([2, 1, 3], values));
  });

  it("Transpose with a constant perm", async () => {
    const x = randomF32([2, 3, 4], 3);
    const [y] = await runOnce(
      [constNode("perm", i32([3], [2, 0, 1])), node("Transpose", "y", ["x", "perm"])],
      { x },
      ["y"],
    );
    assertTensorEqual(
      y!,
      fromIndex(DataType.DT_FLOAT, [4, 2, 3], ([k, i, j]) => at(x, [i!, j!, k!])),
    );
  });
});

describe("Shape / ShapeN / Size / Rank", () => {
  it("Shape gives int32 by default and int64 on request; Size likewise", async () => {
    const x = f32([2, 0, 3], []);
    const [s32, s64, n32, n64] = await runOnce(
      [
        node("Shape", "s32", ["x"], { out_type: attr.type(DataType.DT_INT32) }, I32),
        node("Shape", "s64", ["x"], { out_type: attr.type(DataType.DT_INT64) }, I64),
        node("Size", "n32", ["x"], {}, I32),
        node("Size", "n64", ["x"], { out_type: attr.type(DataType.DT_INT64) }, I64),
      ],
      { x },
      ["s32", "s64", "n32", "n64"],
    );
    assertTensorEqual(s32!, i32([3], [2, 0, 3]));
    assertTensorEqual(s64!, i64([3], [2, 0, 3]));
    assertTensorEqual(n32!, i32([], [0]));
    assertTensorEqual(n64!, i64([], [0]));
  });

  it("ShapeN has one output per input (int32, or int64 by out_type); a dynamic batch follows the feed", async () => {
    // TF's ShapeN: one T for every input, one out_type for every output.
    const compiled = await compileSegment({
      nodes: [
        node("ShapeN", "s", ["x", "y"], {}, I32.concat(I32)),
        node("ShapeN", "s64", ["x", "y"], { out_type: attr.type(DataType.DT_INT64) }, I64.concat(I64)),
      ],
      inputs: [
        { name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 2] },
        { name: "y", dtype: DataType.DT_FLOAT, shape: [3] },
      ],
      outputs: ["s:0", "s:1", "s64:0", "s64:1"],
    });
    try {
      for (const batch of [1, 4]) {
        const [a, b, c, d] = await compiled.run(randomF32([batch, 2]), randomF32([3]));
        assertTensorEqual(a!, i32([2], [batch, 2]));
        assertTensorEqual(b!, i32([1], [3]));
        assertTensorEqual(c!, i64([2], [batch, 2]));
        assertTensorEqual(d!, i64([1], [3]));
      }
    } finally {
      await compiled.session.release();
    }
  });

  it("Rank is an int32 scalar, known statically or computed", async () => {
    const x = randomF32([2, 3, 1], 4);
    const [known] = await runOnce([node("Rank", "r", ["x"], {}, I32)], { x }, ["r"]);
    const [dynamic] = await runOnce([node("Rank", "r", ["x"], {}, I32)], { x }, ["r"], {
      unknownShapes: true,
    });
    assertTensorEqual(known!, i32([], [3]));
    assertTensorEqual(dynamic!, i32([], [3]));
  });
});

describe("BroadcastTo / Tile / Fill / ZerosLike / OnesLike", () => {
  it("BroadcastTo with int32 and int64 shapes", async () => {
    const x = f32([3, 1], [1, 2, 3]);
    const [a, b] = await runOnce(
      [
        constNode("s", i32([3], [2, 3, 2])),
        node("BroadcastTo", "a", ["x", "s"]),
        node("BroadcastTo", "b", ["x", "s64"]),
      ],
      { x, s64: i64([2], [3, 4]) },
      ["a", "b"],
    );
    assertTensorEqual(
      a!,
      fromIndex(DataType.DT_FLOAT, [2, 3, 2], ([, i]) => i! + 1),
    );
    assertTensorEqual(
      b!,
      fromIndex(DataType.DT_FLOAT, [3, 4], ([i]) => i! + 1),
    );
  });

  it("Tile with constant int32 and fed int64 multiples", async () => {
    const x = i32([2, 2], [1, 2, 3, 4]);
    const [a, b] = await runOnce(
      [
        constNode("m", i32([2], [2, 3])),
        node("Tile", "a", ["x", "m"], {}, I32),
        node("Tile", "b", ["x", "fed"], {}, I32),
      ],
      { x, fed: i64([2], [1, 2]) },
      ["a", "b"],
    );
    assertTensorEqual(
      a!,
      fromIndex(DataType.DT_INT32, [4, 6], ([i, j]) => at(x, [i! % 2, j! % 2])),
    );
    assertTensorEqual(
      b!,
      fromIndex(DataType.DT_INT32, [2, 4], ([i, j]) => at(x, [i!, j! % 2])),
    );
  });

  it("Fill with float, int64 and bool values, dims int32 or fed", async () => {
    const [a, b, c] = await runOnce(
      [
        constNode("dims", i32([2], [2, 3])),
        constNode("v", f32([], [1.5])),
        node("Fill", "a", ["dims", "v"]),
        node("Fill", "b", ["fed", "n"], {}, I64),
        node("Fill", "c", ["dims", "t"], {}, [DataType.DT_BOOL]),
      ],
      { fed: i64([1], [4]), n: i64([], [-7]), t: bool([], [1]) },
      ["a", "b", "c"],
    );
    assertTensorEqual(a!, f32([2, 3], new Array(6).fill(1.5)));
    assertTensorEqual(b!, i64([4], [-7, -7, -7, -7]));
    assertTensorEqual(c!, bool([2, 3], new Array(6).fill(1)));
  });

  it("ZerosLike and OnesLike keep dtype and shape (NaN inputs too)", async () => {
    const x = f32([2, 2], [Number.NaN, 1, -2, Number.POSITIVE_INFINITY]);
    const n = i32([3], [4, 5, 6]);
    const b = bool([2], [1, 0]);
    const [zx, ox, zn, on, zb, ob] = await runOnce(
      [
        node("ZerosLike", "zx", ["x"]),
        node("OnesLike", "ox", ["x"]),
        node("ZerosLike", "zn", ["n"], {}, I32),
        node("OnesLike", "on", ["n"], {}, I32),
        node("ZerosLike", "zb", ["b"], {}, [DataType.DT_BOOL]),
        node("OnesLike", "ob", ["b"], {}, [DataType.DT_BOOL]),
      ],
      { x, n, b },
      ["zx", "ox", "zn", "on", "zb", "ob"],
    );
    assertTensorEqual(zx!, f32([2, 2], [0, 0, 0, 0]));
    assertTensorEqual(ox!, f32([2, 2], [1, 1, 1, 1]));
    assertTensorEqual(zn!, i32([3], [0, 0, 0]));
    assertTensorEqual(on!, i32([3], [1, 1, 1]));
    assertTensorEqual(zb!, bool([2], [0, 0]));
    assertTensorEqual(ob!, bool([2], [1, 1]));
  });
});
