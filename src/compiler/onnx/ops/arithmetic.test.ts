import { describe, it } from "node:test";
import {
  assertClose,
  assertTensorEqual,
  DataType,
  f32,
  forEachIndex,
  i32,
  i64,
  make,
  node,
  numbers,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";

/** numpy-style broadcast of two tensors through f, computed on the host. */
function broadcast(a: Tensor, b: Tensor, dtype: DataType, f: (x: number, y: number) => number): Tensor {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [sa, sb] = [pad(a.shape), pad(b.shape)];
  const shape = sa.map((d, i) => Math.max(d, sb[i]!));
  const pick = (t: Tensor, s: number[], index: readonly number[]) => {
    let offset = 0;
    for (let d = 0; d < rank; d++) offset = offset * s[d]! + (s[d] === 1 ? 0 : index[d]!);
    return Number(t.values[offset]!);
  };
  const values: number[] = [];
  forEachIndex(shape, (index) => values.push(f(pick(a, sa, index), pick(b, sb, index))));
  return make(dtype, shape, values);
}

const FLOAT_BINARY: [string, (x: number, y: number) => number][] = [
  ["Add", (x, y) => x + y],
  ["AddV2", (x, y) => x + y],
  ["Sub", (x, y) => x - y],
  ["Mul", (x, y) => x * y],
  ["Div", (x, y) => x / y],
  ["RealDiv", (x, y) => x / y],
  ["Maximum", Math.max],
  ["Minimum", Math.min],
  ["SquaredDifference", (x, y) => (x - y) ** 2],
  ["FloorDiv", (x, y) => Math.floor(x / y)],
  ["FloorMod", (x, y) => x - Math.floor(x / y) * y],
  ["Mod", (x, y) => x % y],
  ["TruncateMod", (x, y) => x % y],
];

/** Truncating and flooring integer division with TF's signs. */
const INT_BINARY: [string, (x: number, y: number) => number][] = [
  ["FloorDiv", (x, y) => Math.floor(x / y)],
  ["FloorMod", (x, y) => x - Math.floor(x / y) * y],
  ["Div", (x, y) => Math.trunc(x / y)],
  ["TruncateDiv", (x, y) => Math.trunc(x / y)],
  ["TruncateMod", (x, y) => x % y],
  ["Maximum", Math.max],
  ["Minimum", Math.min],
  ["Pow", (x, y) => x ** y],
  ["Add", (x, y) => x + y],
  ["Mul", (x, y) => x * y],
];

describe("binary arithmetic", () => {
  for (const [op, f] of FLOAT_BINARY) {
    it(`${op} float32 with broadcasting [2,3,4] ∘ [3,1]`, async () => {
      const x = randomF32([2, 3, 4], 11, -5, 5);
      // Divisors away from zero so that floor/mod references are stable.
      const y = f32([3, 1], [-2.5, 1.75, 3]);
      const [z] = await runOnce([node(op, "z", ["x", "y"])], { x, y }, ["z"]);
      assertClose(z!, broadcast(x, y, DataType.DT_FLOAT, f), { rel: 1e-5, abs: 1e-5 });
    });
  }

  for (const [dtype, label] of [
    [DataType.DT_INT32, "int32"],
    [DataType.DT_INT64, "int64"],
  ] as const) {
    for (const [op, f] of INT_BINARY) {
      it(`${op} ${label} with negative operands`, async () => {
        const xs = op === "Pow" ? [-3, -2, 0, 1, 2, 3] : [-7, -6, -1, 0, 5, 8];
        const ys = op === "Pow" ? [0, 1, 2, 3, 2, 1] : [2, -3, 3, -2, -5, 3];
        const x = make(dtype, [6], xs);
        const y = make(dtype, [6], ys);
        const [z] = await runOnce([node(op, "z", ["x", "y"], {}, [dtype])], { x, y }, ["z"]);
        assertTensorEqual(z!, broadcast(x, y, dtype, f));
      });
    }
  }

  it("FloorMod float takes the divisor's sign, exactly like TF (fmod + fix-up)", async () => {
    const x = f32([6], [5.5, -5.5, 5.5, -5.5, 6, -0]);
    const y = f32([6], [2, 2, -2, -2, 3, 2]);
    const [z] = await runOnce([node("FloorMod", "z", ["x", "y"])], { x, y }, ["z"]);
    assertTensorEqual(z!, f32([6], [1.5, 0.5, -0.5, -1.5, 0, -0]));
  });

  it("DivNoNan and MulNoNan give 0 where y is 0", async () => {
    const x = f32([4], [1, Number.POSITIVE_INFINITY, Number.NaN, -6]);
    const y = f32([4], [0, 0, 0, 3]);
    const [d, m] = await runOnce(
      [node("DivNoNan", "d", ["x", "y"]), node("MulNoNan", "m", ["x", "y"])],
      { x, y },
      ["d", "m"],
    );
    assertTensorEqual(d!, f32([4], [0, 0, 0, -2]));
    assertTensorEqual(m!, f32([4], [0, 0, 0, -18]));
  });

  it("Pow float32", async () => {
    const x = randomF32([5], 5, 0.1, 3);
    const y = f32([5], [0.5, 2, -1, 3, 0]);
    const [z] = await runOnce([node("Pow", "z", ["x", "y"])], { x, y }, ["z"]);
    assertClose(
      z!,
      broadcast(x, y, DataType.DT_FLOAT, (a, b) => a ** b),
    );
  });

  it("AddN sums float32 (Sum) and int32 (chained Add) inputs; one input passes through", async () => {
    const [a, b, c] = [randomF32([2, 2], 1), randomF32([2, 2], 2), randomF32([2, 2], 3)];
    const [p, q, r] = [i32([3], [1, 2, 3]), i32([3], [10, -20, 30]), i32([3], [100, 200, -300])];
    const [sum, intSum, single] = await runOnce(
      [
        node("AddN", "sum", ["a", "b", "c"]),
        node("AddN", "int_sum", ["p", "q", "r"], {}, [DataType.DT_INT32]),
        node("AddN", "single", ["a"]),
      ],
      { a, b, c, p, q, r },
      ["sum", "int_sum", "single"],
    );
    const expected = numbers(a).map((v, i) => v + numbers(b)[i]! + numbers(c)[i]!);
    assertClose(sum!, f32([2, 2], expected));
    assertTensorEqual(intSum!, i32([3], [111, 182, -267]));
    assertTensorEqual(single!, a);
  });

  it("ClipByValue with scalar and tensor bounds", async () => {
    const x = randomF32([2, 3], 7, -3, 3);
    const lo = f32([], [-1]);
    const hi = f32([3], [0.5, 1, 2]);
    const [z] = await runOnce([node("ClipByValue", "z", ["x", "lo", "hi"])], { x, lo, hi }, ["z"]);
    assertClose(
      z!,
      broadcast(broadcast(x, lo, DataType.DT_FLOAT, Math.max), hi, DataType.DT_FLOAT, Math.min),
    );
    const n = i64([4], [-5, 0, 5, 10]);
    const [m] = await runOnce(
      [node("ClipByValue", "m", ["n", "a", "b"], {}, [DataType.DT_INT64])],
      { n, a: i64([], [-1]), b: i64([], [6]) },
      ["m"],
    );
    assertTensorEqual(m!, i64([4], [-1, 0, 5, 6]));
  });
});
