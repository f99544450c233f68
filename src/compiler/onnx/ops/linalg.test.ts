import { describe, it } from "node:test";
import {
  assertClose,
  assertTensorEqual,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  fromIndex,
  i32,
  node,
  randomF32,
  runOnce,
  Tensor,
} from "../onnx.test-helpers.js";

/** Batched matmul reference with optional transposes of the last two dims and batch broadcasting. */
function matmul(a: Tensor, b: Tensor, ta: boolean, tb: boolean, dtype = DataType.DT_FLOAT): Tensor {
  const rows = (t: Tensor, tr: boolean) => t.shape[t.rank - (tr ? 1 : 2)]!;
  const cols = (t: Tensor, tr: boolean) => t.shape[t.rank - (tr ? 2 : 1)]!;
  const [m, k, n] = [rows(a, ta), cols(a, ta), cols(b, tb)];
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(batchA), pad(batchB)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]!));
  const element = (
    t: Tensor,
    padded: number[],
    index: readonly number[],
    r: number,
    c: number,
    tr: boolean,
  ) => {
    const own = index
      .slice(rank - (t.rank - 2))
      .map((i, d) => (padded[d + rank - (t.rank - 2)] === 1 ? 0 : i));
    return at(t, [...own, tr ? c : r, tr ? r : c]);
  };
  return fromIndex(dtype, [...batch, m, n], (index) => {
    const bi = index.slice(0, rank);
    const [i, j] = [index[rank]!, index[rank + 1]!];
    let sum = 0;
    for (let p = 0; p < k; p++) sum += element(a, pa, bi, i, p, ta) * element(b, pb, bi, p, j, tb);
    return sum;
  });
}

describe("MatMul / BatchMatMul", () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`MatMul transpose_a=${ta} transpose_b=${tb}`, async () => {
      const a = randomF32(ta ? [4, 3] : [3, 4], 1);
      const b = randomF32(tb ? [5, 4] : [4, 5], 2);
      const attrs = { transpose_a: attr.bool(ta), transpose_b: attr.bool(tb) };
      const [c] = await runOnce([node("MatMul", "c", ["a", "b"], attrs)], { a, b }, ["c"]);
      assertClose(c!, matmul(a, b, ta, tb));
    });
  }

  it("MatMul int32 with a constant weight and a dynamic batch", async () => {
    const w = i32([3, 2], [1, -2, 3, 4, -5, 6]);
    const compiled = await compileSegment({
      nodes: [constNode("w", w), node("MatMul", "c", ["x", "w"], {}, [DataType.DT_INT32])],
      inputs: [{ name: "x", dtype: DataType.DT_INT32, shape: [-1, 3] }],
      outputs: ["c"],
    });
    try {
      for (const batch of [1, 3]) {
        const x = fromIndex(DataType.DT_INT32, [batch, 3], ([i, j]) => i! * 3 + j! - 4);
        const [c] = await compiled.run(x);
        assertTensorEqual(c!, matmul(x, w, false, false, DataType.DT_INT32));
      }
    } finally {
      await compiled.session.release();
    }
  });

  for (const op of ["BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"]) {
    it(`${op} adj_x / adj_y on rank-3 operands`, async () => {
      const a = randomF32([2, 4, 3], 3);
      const b = randomF32([2, 5, 4], 4);
      // BatchMatMulV3's output type Tout has no default in TF's OpDef.
      const attrs = { adj_x: attr.bool(true), adj_y: attr.bool(true) };
      if (op === "BatchMatMulV3") Object.assign(attrs, { Tout: attr.type(DataType.DT_FLOAT) });
      const [c] = await runOnce([node(op, "c", ["a", "b"], attrs)], { a, b }, ["c"]);
      assertClose(c!, matmul(a, b, true, true));
    });
  }

  it("BatchMatMulV2 broadcasts batch dims ([2,1,3,4] × [3,4,2])", async () => {
    const a = randomF32([2, 1, 3, 4], 5);
    const b = randomF32([3, 4, 2], 6);
    const [c] = await runOnce([node("BatchMatMulV2", "c", ["a", "b"])], { a, b }, ["c"]);
    assertClose(c!, matmul(a, b, false, false));
  });

  it("BatchMatMulV2 adj_y with an unknown rank transposes through Einsum", async () => {
    const a = randomF32([2, 3, 4], 7);
    const b = randomF32([2, 5, 4], 8);
    const [c] = await runOnce(
      [node("BatchMatMulV2", "c", ["a", "b"], { adj_y: attr.bool(true) })],
      { a, b },
      ["c"],
      {
        unknownShapes: true,
      },
    );
    assertClose(c!, matmul(a, b, false, true));
  });

  it("BatchMatMulV3 widens int8 inputs to Tout int32", async () => {
    const a = new Tensor(DataType.DT_INT8, [1, 2, 2], Int8Array.from([1, 2, 3, -4]));
    const b = new Tensor(DataType.DT_INT8, [1, 2, 2], Int8Array.from([5, 6, 7, 127]));
    const [c] = await runOnce(
      [node("BatchMatMulV3", "c", ["a", "b"], { Tout: attr.type(DataType.DT_INT32) }, [DataType.DT_INT32])],
      { a, b },
      ["c"],
    );
    assertTensorEqual(c!, i32([1, 2, 2], [19, 260, -13, -490]));
  });
});

describe("Einsum and Cumsum", () => {
  it("Einsum bij,bjk->bik and an upper-case equation", async () => {
    const a = randomF32([2, 3, 4], 9);
    const b = randomF32([2, 4, 2], 10);
    const [c, d] = await runOnce(
      [
        node("Einsum", "c", ["a", "b"], { equation: attr.string("bij,bjk->bik") }),
        node("Einsum", "d", ["a", "b"], { equation: attr.string("BIJ,BJK->BIK") }),
      ],
      { a, b },
      ["c", "d"],
    );
    assertClose(c!, matmul(a, b, false, false));
    assertClose(d!, matmul(a, b, false, false));
  });

  it("Einsum with a reduction (ij->j) and an outer product (i,j->ij)", async () => {
    const a = randomF32([3, 4], 11);
    const v = randomF32([3], 12);
    const [s, o] = await runOnce(
      [
        node("Einsum", "s", ["a"], { equation: attr.string("ij->j") }),
        node("Einsum", "o", ["v", "v"], { equation: attr.string("i,j->ij") }),
      ],
      { a, v },
      ["s", "o"],
    );
    assertClose(
      s!,
      fromIndex(DataType.DT_FLOAT, [4], ([j]) => [0, 1, 2].reduce((acc, i) => acc + at(a, [i, j!]), 0)),
    );
    assertClose(
      o!,
      fromIndex(DataType.DT_FLOAT, [3, 3], ([i, j]) => at(v, [i!]) * at(v, [j!])),
    );
  });

  for (const [exclusive, reverse] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`Cumsum exclusive=${exclusive} reverse=${reverse} (float32 axis 1, int32 axis -1)`, async () => {
      const x = randomF32([2, 4], 13);
      const n = i32([2, 3], [1, 2, 3, 4, 5, 6]);
      const attrs = { exclusive: attr.bool(exclusive), reverse: attr.bool(reverse) };
      const [y, m] = await runOnce(
        [
          node("Cumsum", "y", ["x", "axis"], attrs),
          node("Cumsum", "m", ["n", "axis"], attrs, [DataType.DT_INT32]),
        ],
        { x, n, axis: i32([], [-1]) },
        ["y", "m"],
      );
      const cumsum = (t: Tensor, dtype: DataType) =>
        fromIndex(dtype, t.shape, ([r, c]) => {
          const len = t.shape[1]!;
          let sum = 0;
          for (let k = 0; k < len; k++) {
            const included = reverse ? (exclusive ? k > c! : k >= c!) : exclusive ? k < c! : k <= c!;
            if (included) sum += at(t, [r!, k]);
          }
          return sum;
        });
      assertClose(y!, cumsum(x, DataType.DT_FLOAT));
      assertTensorEqual(m!, cumsum(n, DataType.DT_INT32));
    });
  }
});
