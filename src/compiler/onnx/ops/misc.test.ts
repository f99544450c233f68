import { describe, it } from "node:test";
import { Tensor } from "../../../tensor/tensor.js";
import {
  assertClose,
  assertTensorEqual,
  attr,
  bool,
  constNode,
  DataType,
  f32,
  f64,
  i32,
  i64,
  node,
  numbers,
  randomF32,
  runOnce,
  u8,
} from "../onnx.test-helpers.js";

describe("Const and pass-through ops", () => {
  it("a Const node lowered inside the segment becomes an initializer", async () => {
    const c = f32([2], [1.5, -2]);
    const [y, k] = await runOnce(
      [constNode("c", c), node("Mul", "y", ["x", "c"])],
      { x: f32([2], [2, 3]) },
      ["y", "c"],
      {
        lowerConsts: true,
      },
    );
    assertTensorEqual(y!, f32([2], [3, -6]));
    assertTensorEqual(k!, c);
  });

  // The attrs TF's OpDefs require (CheckNumerics: message, EnsureShape: shape).
  const required: Record<string, Record<string, ReturnType<typeof attr.int>>> = {
    CheckNumerics: { message: attr.string("x has NaN or Inf") },
    EnsureShape: { shape: attr.shape([-1, 2]) },
  };
  for (const op of [
    "Identity",
    "StopGradient",
    "PreventGradient",
    "CheckNumerics",
    "EnsureShape",
    "Snapshot",
  ]) {
    it(`${op} passes its input through`, async () => {
      const x = randomF32([2, 2], 1);
      const [y, z] = await runOnce([node(op, "y", ["x"], required[op]), node("Neg", "z", ["y"])], { x }, [
        "y",
        "z",
      ]);
      assertTensorEqual(y!, x);
      assertTensorEqual(
        z!,
        f32(
          [2, 2],
          numbers(x).map((v) => -v),
        ),
      );
    });
  }

  it("IdentityN maps output i to input i; NoOp lowers to nothing", async () => {
    const x = f32([1], [4]);
    const n = i32([2], [1, 2]);
    const [a, b] = await runOnce(
      [
        node("IdentityN", "ids", ["x", "n"], {}, [DataType.DT_FLOAT, DataType.DT_INT32]),
        node("NoOp", "noop", [], {}, []),
      ],
      { x, n },
      ["ids:0", "ids:1"],
    );
    assertTensorEqual(a!, x);
    assertTensorEqual(b!, n);
  });
});

describe("Cast", () => {
  const cases: [string, Tensor, DataType, Tensor][] = [
    [
      "float32 → int32 truncates toward zero",
      f32([4], [1.9, -1.9, 0.5, -0.5]),
      DataType.DT_INT32,
      i32([4], [1, -1, 0, 0]),
    ],
    ["float32 → bool is x ≠ 0", f32([3], [0, -0.5, 2]), DataType.DT_BOOL, bool([3], [0, 1, 1])],
    ["bool → float32", bool([2], [1, 0]), DataType.DT_FLOAT, f32([2], [1, 0])],
    ["int64 → int32", i64([2], [-3, 70000]), DataType.DT_INT32, i32([2], [-3, 70000])],
    ["int32 → float64", i32([2], [-3, 7]), DataType.DT_DOUBLE, f64([2], [-3, 7])],
    ["uint8 → float32", u8([2], [0, 255]), DataType.DT_FLOAT, f32([2], [0, 255])],
    ["float32 → float32 (no-op)", f32([1], [2.5]), DataType.DT_FLOAT, f32([1], [2.5])],
    [
      "float32 → float16",
      f32([2], [1, -2]),
      DataType.DT_HALF,
      new Tensor(DataType.DT_HALF, [2], Uint16Array.of(0x3c00, 0xc000)),
    ],
  ];
  for (const [label, x, to, expected] of cases) {
    it(label, async () => {
      const [y] = await runOnce(
        [
          node(
            "Cast",
            "y",
            ["x"],
            { SrcT: attr.type(x.dtype), DstT: attr.type(to), Truncate: attr.bool(false) },
            [to],
          ),
        ],
        { x },
        ["y"],
      );
      assertTensorEqual(y!, expected);
    });
  }
});

describe("Range / TopKV2", () => {
  it("Range over int32, int64 (negative delta) and float32", async () => {
    const [a, b, c] = await runOnce(
      [
        node("Range", "a", ["s32", "l32", "d32"], {}, [DataType.DT_INT32]),
        node("Range", "b", ["s64", "l64", "d64"], {}, [DataType.DT_INT64]),
        node("Range", "c", ["sf", "lf", "df"]),
      ],
      {
        s32: i32([], [2]),
        l32: i32([], [9]),
        d32: i32([], [3]),
        s64: i64([], [5]),
        l64: i64([], [0]),
        d64: i64([], [-2]),
        sf: f32([], [0.5]),
        lf: f32([], [2]),
        df: f32([], [0.5]),
      },
      ["a", "b", "c"],
    );
    assertTensorEqual(a!, i32([3], [2, 5, 8]));
    assertTensorEqual(b!, i64([3], [5, 3, 1]));
    assertClose(c!, f32([3], [0.5, 1, 1.5]));
  });

  it("TopKV2 returns sorted values and int32 indices (ties: lower index first), k fed or constant", async () => {
    const x = f32([2, 5], [1, 9, 3, 9, 0, -1, -5, 4, 4, 2]);
    const pair = [DataType.DT_FLOAT, DataType.DT_INT32];
    const [v, idx, v2, idx64] = await runOnce(
      [
        constNode("k", i32([], [3])),
        node("TopKV2", "top", ["x", "k"], { sorted: attr.bool(true) }, pair),
        node("TopKV2", "fed", ["x", "kfed"], { index_type: attr.type(DataType.DT_INT64) }, [
          DataType.DT_FLOAT,
          DataType.DT_INT64,
        ]),
      ],
      { x, kfed: i32([], [2]) },
      ["top:0", "top:1", "fed:0", "fed:1"],
    );
    assertTensorEqual(v!, f32([2, 3], [9, 9, 3, 4, 4, 2]));
    assertTensorEqual(idx!, i32([2, 3], [1, 3, 2, 2, 3, 4]));
    assertTensorEqual(v2!, f32([2, 2], [9, 9, 4, 4]));
    assertTensorEqual(idx64!, i64([2, 2], [1, 3, 2, 3]));
  });
});
