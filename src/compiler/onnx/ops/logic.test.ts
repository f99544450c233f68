import { describe, it } from "node:test";
import { assertTensorEqual, bool, DataType, f32, i32, i64, node, runOnce } from "../onnx.test-helpers.js";

const B = [DataType.DT_BOOL];

describe("comparisons and logical ops", () => {
  const COMPARISONS: [string, (a: number, b: number) => boolean][] = [
    ["Equal", (a, b) => a === b],
    ["NotEqual", (a, b) => a !== b],
    ["Less", (a, b) => a < b],
    ["LessEqual", (a, b) => a <= b],
    ["Greater", (a, b) => a > b],
    ["GreaterEqual", (a, b) => a >= b],
  ];
  for (const [op, f] of COMPARISONS) {
    it(`${op} on float32 (broadcast scalar) and int64`, async () => {
      const xs = [-1, 0, 2, 3.5, Number.NaN];
      const x = f32([5], xs);
      const n = i64([5], [-2, 0, 5, 7, 1]);
      const [a, b] = await runOnce(
        [node(op, "a", ["x", "two"], {}, B), node(op, "b", ["n", "m"], {}, B)],
        { x, two: f32([], [2]), n, m: i64([5], [-2, 1, 4, 7, 0]) },
        ["a", "b"],
      );
      assertTensorEqual(
        a!,
        bool(
          [5],
          xs.map((v) => f(v, 2)),
        ),
      );
      assertTensorEqual(
        b!,
        bool(
          [5],
          [-2, 0, 5, 7, 1].map((v, i) => f(v, [-2, 1, 4, 7, 0][i]!)),
        ),
      );
    });
  }

  it("Equal / NotEqual on bools", async () => {
    const p = bool([4], [1, 1, 0, 0]);
    const q = bool([4], [1, 0, 1, 0]);
    const [eq, ne] = await runOnce(
      [node("Equal", "eq", ["p", "q"], {}, B), node("NotEqual", "ne", ["p", "q"], {}, B)],
      { p, q },
      ["eq", "ne"],
    );
    assertTensorEqual(eq!, bool([4], [1, 0, 0, 1]));
    assertTensorEqual(ne!, bool([4], [0, 1, 1, 0]));
  });

  it("LogicalAnd / LogicalOr / LogicalNot with broadcasting", async () => {
    const p = bool([2, 2], [1, 1, 0, 0]);
    const q = bool([2], [1, 0]);
    const [and, or, not] = await runOnce(
      [
        node("LogicalAnd", "and", ["p", "q"], {}, B),
        node("LogicalOr", "or", ["p", "q"], {}, B),
        node("LogicalNot", "not", ["p"], {}, B),
      ],
      { p, q },
      ["and", "or", "not"],
    );
    assertTensorEqual(and!, bool([2, 2], [1, 0, 0, 0]));
    assertTensorEqual(or!, bool([2, 2], [1, 1, 1, 0]));
    assertTensorEqual(not!, bool([2, 2], [0, 0, 1, 1]));
  });
});

describe("Select / SelectV2 / Where", () => {
  it("Select v1 with a rank-1 condition picks whole rows", async () => {
    const c = bool([3], [1, 0, 1]);
    const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    const y = f32([3, 2], [-1, -2, -3, -4, -5, -6]);
    const [z] = await runOnce([node("Select", "z", ["c", "x", "y"])], { c, x, y }, ["z"]);
    assertTensorEqual(z!, f32([3, 2], [1, 2, -3, -4, 5, 6]));
  });

  it("Select v1 with a same-shape condition and int32 values; a scalar condition", async () => {
    const c = bool([2, 2], [1, 0, 0, 1]);
    const x = i32([2, 2], [1, 2, 3, 4]);
    const y = i32([2, 2], [5, 6, 7, 8]);
    const t = [DataType.DT_INT32];
    const [z, s] = await runOnce(
      [node("Select", "z", ["c", "x", "y"], {}, t), node("Select", "s", ["k", "x", "y"], {}, t)],
      { c, x, y, k: bool([], [0]) },
      ["z", "s"],
    );
    assertTensorEqual(z!, i32([2, 2], [1, 6, 7, 4]));
    assertTensorEqual(s!, y);
  });

  it("SelectV2 broadcasts condition, x and y", async () => {
    const c = bool([2, 1], [1, 0]);
    const x = f32([3], [1, 2, 3]);
    const y = f32([], [0]);
    const [z] = await runOnce([node("SelectV2", "z", ["c", "x", "y"])], { c, x, y }, ["z"]);
    assertTensorEqual(z!, f32([2, 3], [1, 2, 3, 0, 0, 0]));
  });

  it("Where(x) lists coordinates of true / non-zero elements as [n, rank] int64", async () => {
    const c = bool([2, 3], [0, 1, 0, 1, 0, 1]);
    const x = f32([4], [0, 2, 0, -1]);
    const t = [DataType.DT_INT64];
    const [w, v] = await runOnce(
      [node("Where", "w", ["c"], {}, t), node("Where", "v", ["x"], {}, t)],
      { c, x },
      ["w", "v"],
    );
    assertTensorEqual(w!, i64([3, 2], [0, 1, 1, 0, 1, 2]));
    assertTensorEqual(v!, i64([2, 1], [1, 3]));
  });
});
