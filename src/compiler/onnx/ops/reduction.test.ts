import { describe, it } from "node:test";
import {
  assertClose,
  assertTensorEqual,
  attr,
  bool,
  compileSegment,
  constNode,
  DataType,
  forEachIndex,
  i32,
  i64,
  make,
  node,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";

/** Reduces `axes` of x with f (starting from init), keeping dims as size 1 when keep. */
function reduceReference(
  x: Tensor,
  axes: number[],
  keep: boolean,
  init: number,
  f: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number = (a) => a,
  dtype = x.dtype,
): Tensor {
  const normalized = axes.map((a) => (a < 0 ? a + x.rank : a));
  const keptShape = x.shape.map((d, i) => (normalized.includes(i) ? 1 : d));
  const acc = new Array<number>(keptShape.reduce((a, b) => a * b, 1)).fill(init);
  let count = 0;
  forEachIndex(x.shape, (index) => {
    let offset = 0;
    index.forEach((v, d) => {
      offset = offset * keptShape[d]! + (normalized.includes(d) ? 0 : v);
    });
    let flat = 0;
    index.forEach((v, d) => {
      flat = flat * x.shape[d]! + v;
    });
    acc[offset] = f(acc[offset]!, Number(x.values[flat]!));
  });
  count = x.size / acc.length;
  const shape = keep ? keptShape : x.shape.filter((_, i) => !normalized.includes(i));
  return make(
    dtype,
    shape,
    acc.map((a) => finish(a, count)),
  );
}

const REDUCTIONS: [string, number, (a: number, v: number) => number, ((a: number, n: number) => number)?][] =
  [
    ["Sum", 0, (a, v) => a + v],
    ["Mean", 0, (a, v) => a + v, (a, n) => a / n],
    ["Max", Number.NEGATIVE_INFINITY, Math.max],
    ["Min", Number.POSITIVE_INFINITY, Math.min],
    ["Prod", 1, (a, v) => a * v],
  ];

describe("Mean / Sum / Max / Min / Prod", () => {
  for (const [op, init, f, finish] of REDUCTIONS) {
    for (const [axes, keep] of [
      [[1], false],
      [[0, 2], true],
      [[-1], false],
    ] as const) {
      it(`${op} float32 axes=[${axes}] keep_dims=${keep}`, async () => {
        const x = randomF32([2, 3, 4], 1, 0.5, 1.5);
        const [y] = await runOnce(
          [
            constNode("axes", i32([axes.length], [...axes])),
            node(op, "y", ["x", "axes"], { keep_dims: attr.bool(keep) }),
          ],
          { x },
          ["y"],
        );
        assertClose(y!, reduceReference(x, [...axes], keep, init, f, finish));
      });
    }
  }

  it("empty axes reduce nothing (TF), a scalar axis works, and int64 axes too", async () => {
    const x = randomF32([2, 3], 2);
    const [same, scalarAxis, int64Axis] = await runOnce(
      [
        constNode("none", i32([0], [])),
        constNode("one", i32([], [1])),
        constNode("zero64", i64([1], [0])),
        node("Sum", "same", ["x", "none"]),
        node("Max", "scalar_axis", ["x", "one"]),
        node("Mean", "int64_axis", ["x", "zero64"]),
      ],
      { x },
      ["same", "scalar_axis", "int64_axis"],
    );
    assertTensorEqual(same!, x);
    assertClose(scalarAxis!, reduceReference(x, [1], false, Number.NEGATIVE_INFINITY, Math.max));
    assertClose(
      int64Axis!,
      reduceReference(
        x,
        [0],
        false,
        0,
        (a, v) => a + v,
        (a, n) => a / n,
      ),
    );
  });

  it("a fed (non-constant) axis tensor", async () => {
    const x = randomF32([2, 3], 3);
    const [y] = await runOnce([node("Sum", "y", ["x", "axes"])], { x, axes: i32([1], [1]) }, ["y"]);
    assertClose(
      y!,
      reduceReference(x, [1], false, 0, (a, v) => a + v),
    );
  });

  it("int32 Sum / Max / Prod and Mean (integer mean truncates)", async () => {
    const x = i32([2, 3], [1, -2, 4, 7, -8, -10]);
    const t = [DataType.DT_INT32];
    const [sum, max, prod, mean] = await runOnce(
      [
        constNode("axis", i32([1], [1])),
        node("Sum", "sum", ["x", "axis"], {}, t),
        node("Max", "max", ["x", "axis"], {}, t),
        node("Prod", "prod", ["x", "axis"], {}, t),
        node("Mean", "mean", ["x", "axis"], {}, t),
      ],
      { x },
      ["sum", "max", "prod", "mean"],
    );
    assertTensorEqual(sum!, i32([2], [3, -11]));
    assertTensorEqual(max!, i32([2], [4, 7]));
    assertTensorEqual(prod!, i32([2], [-8, 560]));
    assertTensorEqual(mean!, i32([2], [1, -3]));
  });

  it("a dynamic batch dim runs at two batch sizes", async () => {
    const compiled = await compileSegment({
      nodes: [
        constNode("axes", i32([1], [1])),
        node("Mean", "y", ["x", "axes"], { keep_dims: attr.bool(true) }),
      ],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 4] }],
      outputs: ["y"],
    });
    try {
      for (const batch of [1, 5]) {
        const x = randomF32([batch, 4], batch);
        const [y] = await compiled.run(x);
        assertClose(
          y!,
          reduceReference(
            x,
            [1],
            true,
            0,
            (a, v) => a + v,
            (a, n) => a / n,
          ),
        );
      }
    } finally {
      await compiled.session.release();
    }
  });
});

describe("All / Any / ArgMax / ArgMin", () => {
  it("All and Any per row, keep_dims, and over an empty axis list", async () => {
    const x = bool([3, 3], [1, 1, 1, 0, 1, 0, 0, 0, 0]);
    const b = [DataType.DT_BOOL];
    const [all, any, allKeep, none] = await runOnce(
      [
        constNode("axis", i32([1], [1])),
        constNode("empty", i32([0], [])),
        node("All", "all", ["x", "axis"], {}, b),
        node("Any", "any", ["x", "axis"], {}, b),
        node("All", "all_keep", ["x", "axis"], { keep_dims: attr.bool(true) }, b),
        node("Any", "none", ["x", "empty"], {}, b),
      ],
      { x },
      ["all", "any", "all_keep", "none"],
    );
    assertTensorEqual(all!, bool([3], [1, 0, 0]));
    assertTensorEqual(any!, bool([3], [1, 1, 0]));
    assertTensorEqual(allKeep!, bool([3, 1], [1, 0, 0]));
    assertTensorEqual(none!, x);
  });

  it("All / Any over a zero-size axis are true / false", async () => {
    const x = bool([2, 0], []);
    const b = [DataType.DT_BOOL];
    const [all, any] = await runOnce(
      [
        constNode("axis", i32([1], [1])),
        node("All", "all", ["x", "axis"], {}, b),
        node("Any", "any", ["x", "axis"], {}, b),
      ],
      { x },
      ["all", "any"],
    );
    assertTensorEqual(all!, bool([2], [1, 1]));
    assertTensorEqual(any!, bool([2], [0, 0]));
  });

  for (const [op, pick] of [
    ["ArgMax", (a: number, b: number) => a > b],
    ["ArgMin", (a: number, b: number) => a < b],
  ] as const) {
    it(`${op} output_type int32 and int64, ties pick the first index`, async () => {
      const x = i32([2, 4], [3, 7, 7, 1, 5, 5, 2, 5]);
      const [as32, as64] = await runOnce(
        [
          constNode("axis", i32([], [1])),
          node(op, "a32", ["x", "axis"], { output_type: attr.type(DataType.DT_INT32) }, [DataType.DT_INT32]),
          node(op, "a64", ["x", "axis"], { output_type: attr.type(DataType.DT_INT64) }, [DataType.DT_INT64]),
        ],
        { x },
        ["a32", "a64"],
      );
      const expected = [0, 1].map((r) => {
        let best = 0;
        for (let c = 1; c < 4; c++)
          if (pick(Number(x.values[r * 4 + c]), Number(x.values[r * 4 + best]))) best = c;
        return best;
      });
      assertTensorEqual(as32!, i32([2], expected));
      assertTensorEqual(as64!, i64([2], expected));
    });
  }

  it("ArgMax over axis 0 of float32", async () => {
    const x = randomF32([3, 4], 4);
    const [y] = await runOnce(
      [constNode("axis", i32([], [0])), node("ArgMax", "y", ["x", "axis"], {}, [DataType.DT_INT64])],
      { x },
      ["y"],
    );
    const expected = [0, 1, 2, 3].map((c) =>
      [0, 1, 2].reduce(
        (best, r) => (Number(x.values[r * 4 + c]) > Number(x.values[best * 4 + c]) ? r : best),
        0,
      ),
    );
    assertTensorEqual(y!, i64([4], expected));
  });
});
