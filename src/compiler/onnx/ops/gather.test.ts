import { describe, it } from "node:test";
import {
  assertTensorEqual,
  at,
  attr,
  constNode,
  DataType,
  f32,
  fromIndex,
  i32,
  i64,
  node,
  runOnce,
} from "../onnx.test-helpers.js";

const X = fromIndex(DataType.DT_FLOAT, [4, 3, 2], ([i, j, k]) => i! * 100 + j! * 10 + k!);

describe("GatherV2 / Gather / ResourceGather / GatherNd", () => {
  it("GatherV2 along axes 0, 1 and -1 with int32 and int64 indices (2-D indices too)", async () => {
    const [a, b, c] = await runOnce(
      [
        constNode("zero", i32([], [0])),
        constNode("one", i64([], [1])),
        constNode("last", i32([], [-1])),
        node("GatherV2", "a", ["x", "rows", "zero"], { batch_dims: attr.int(0) }),
        node("GatherV2", "b", ["x", "cols", "one"]),
        node("GatherV2", "c", ["x", "scalar", "last"]),
      ],
      { x: X, rows: i32([2, 2], [3, 0, 1, 1]), cols: i64([2], [2, 0]), scalar: i32([], [1]) },
      ["a", "b", "c"],
    );
    const rows = [3, 0, 1, 1];
    assertTensorEqual(
      a!,
      fromIndex(DataType.DT_FLOAT, [2, 2, 3, 2], ([p, q, j, k]) => at(X, [rows[p! * 2 + q!]!, j!, k!])),
    );
    assertTensorEqual(
      b!,
      fromIndex(DataType.DT_FLOAT, [4, 2, 2], ([i, p, k]) => at(X, [i!, [2, 0][p!]!, k!])),
    );
    assertTensorEqual(
      c!,
      fromIndex(DataType.DT_FLOAT, [4, 3], ([i, j]) => at(X, [i!, j!, 1])),
    );
  });

  it("Gather (v1) and ResourceGather of a frozen variable take axis 0", async () => {
    const table = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    const [g, r] = await runOnce(
      [
        constNode("table", table),
        node("Gather", "g", ["table", "ids"]),
        node("ResourceGather", "r", ["table", "ids"], { dtype: attr.type(DataType.DT_FLOAT) }),
      ],
      { ids: i64([3], [2, 0, 2]) },
      ["g", "r"],
    );
    const expected = f32([3, 2], [5, 6, 1, 2, 5, 6]);
    assertTensorEqual(g!, expected);
    assertTensorEqual(r!, expected);
  });

  it("GatherNd with full and partial int32 index tuples", async () => {
    const [full, partial] = await runOnce(
      [node("GatherNd", "full", ["x", "p"]), node("GatherNd", "partial", ["x", "q"])],
      { x: X, p: i32([2, 3], [1, 2, 0, 3, 0, 1]), q: i32([2, 1, 2], [0, 1, 2, 2]) },
      ["full", "partial"],
    );
    assertTensorEqual(full!, f32([2], [at(X, [1, 2, 0]), at(X, [3, 0, 1])]));
    assertTensorEqual(
      partial!,
      fromIndex(DataType.DT_FLOAT, [2, 1, 2], ([n, , k]) => at(X, [[0, 2][n!]!, [1, 2][n!]!, k!])),
    );
  });
});

describe("ScatterNd / OneHot", () => {
  it("ScatterNd sums duplicate indices into zeros of the given shape", async () => {
    const [y, n] = await runOnce(
      [
        constNode("shape", i32([2], [3, 2])),
        node("ScatterNd", "y", ["idx", "updates", "shape"]),
        node("ScatterNd", "n", ["idx", "int_updates", "shape"], {}, [DataType.DT_INT32]),
      ],
      {
        idx: i32([3, 1], [2, 0, 2]),
        updates: f32([3, 2], [1, 2, 3, 4, 5, 6]),
        int_updates: i32([3, 2], [1, 2, 3, 4, 5, 6]),
      },
      ["y", "n"],
    );
    assertTensorEqual(y!, f32([3, 2], [3, 4, 0, 0, 6, 8]));
    assertTensorEqual(n!, i32([3, 2], [3, 4, 0, 0, 6, 8]));
  });

  it("OneHot on the last axis: negative and too-large indices give all-off rows", async () => {
    const [y] = await runOnce(
      [
        constNode("depth", i32([], [3])),
        constNode("on", f32([], [5])),
        constNode("off", f32([], [-1])),
        node("OneHot", "y", ["ids", "depth", "on", "off"]),
      ],
      { ids: i32([4], [0, 2, -1, 3]) },
      ["y"],
    );
    assertTensorEqual(y!, f32([4, 3], [5, -1, -1, -1, -1, 5, -1, -1, -1, -1, -1, -1]));
  });

  it("OneHot with axis 0 and 1 on 2-D int64 indices, int32 values", async () => {
    const ids = i64([2, 2], [1, 0, 2, 1]);
    const depth = 3;
    const t = [DataType.DT_INT32];
    const [a0, a1] = await runOnce(
      [
        constNode("depth", i32([], [depth])),
        constNode("on", i32([], [1])),
        constNode("off", i32([], [0])),
        node("OneHot", "a0", ["ids", "depth", "on", "off"], { axis: attr.int(0) }, t),
        node("OneHot", "a1", ["ids", "depth", "on", "off"], { axis: attr.int(1) }, t),
      ],
      { ids },
      ["a0", "a1"],
    );
    assertTensorEqual(
      a0!,
      fromIndex(DataType.DT_INT32, [3, 2, 2], ([d, i, j]) => (at(ids, [i!, j!]) === d ? 1 : 0)),
    );
    assertTensorEqual(
      a1!,
      fromIndex(DataType.DT_INT32, [2, 3, 2], ([i, d, j]) => (at(ids, [i!, j!]) === d ? 1 : 0)),
    );
  });
});
