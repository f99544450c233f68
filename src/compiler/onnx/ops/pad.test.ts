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
  type Tensor,
} from "../onnx.test-helpers.js";

const X = fromIndex(DataType.DT_FLOAT, [3, 4], ([i, j]) => i! * 10 + j! + 1);

/** Reference padding: maps an out-of-range coordinate back into [0, n) or returns null for constant fill. */
function padReference(
  x: Tensor,
  paddings: [number, number][],
  mode: "constant" | "REFLECT" | "SYMMETRIC",
  fill = 0,
): Tensor {
  const shape = x.shape.map((d, i) => d + paddings[i]![0] + paddings[i]![1]);
  const source = (p: number, n: number): number | null => {
    if (p >= 0 && p < n) return p;
    if (mode === "constant") return null;
    if (mode === "REFLECT") return p < 0 ? -p : 2 * (n - 1) - p;
    return p < 0 ? -p - 1 : 2 * n - 1 - p;
  };
  return fromIndex(x.dtype, shape, (index) => {
    const src = index.map((v, d) => source(v - paddings[d]![0], x.shape[d]!));
    return src.some((s) => s === null) ? fill : at(x, src as number[]);
  });
}

describe("Pad / PadV2 / MirrorPad", () => {
  it("Pad with constant int32 and fed int64 paddings", async () => {
    const [a, b] = await runOnce(
      [
        constNode("p", i32([2, 2], [1, 0, 2, 3])),
        node("Pad", "a", ["x", "p"]),
        node("Pad", "b", ["x", "fed"]),
      ],
      { x: X, fed: i64([2, 2], [0, 2, 1, 1]) },
      ["a", "b"],
    );
    assertTensorEqual(
      a!,
      padReference(
        X,
        [
          [1, 0],
          [2, 3],
        ],
        "constant",
      ),
    );
    assertTensorEqual(
      b!,
      padReference(
        X,
        [
          [0, 2],
          [1, 1],
        ],
        "constant",
      ),
    );
  });

  it("PadV2 fills with the given value (int32 data too)", async () => {
    const n = i32([2], [7, 8]);
    const [a, b] = await runOnce(
      [
        constNode("p", i32([2, 2], [1, 1, 0, 2])),
        constNode("p1", i32([1, 2], [2, 1])),
        node("PadV2", "a", ["x", "p", "v"]),
        node("PadV2", "b", ["n", "p1", "w"], {}, [DataType.DT_INT32]),
      ],
      { x: X, v: f32([], [-5]), n, w: i32([], [9]) },
      ["a", "b"],
    );
    assertTensorEqual(
      a!,
      padReference(
        X,
        [
          [1, 1],
          [0, 2],
        ],
        "constant",
        -5,
      ),
    );
    assertTensorEqual(b!, i32([5], [9, 9, 7, 8, 9]));
  });

  for (const mode of ["REFLECT", "SYMMETRIC"] as const) {
    it(`MirrorPad ${mode}`, async () => {
      const paddings: [number, number][] =
        mode === "REFLECT"
          ? [
              [2, 1],
              [3, 0],
            ]
          : [
              [3, 2],
              [1, 4],
            ];
      const [y] = await runOnce(
        [
          constNode("p", i32([2, 2], paddings.flat())),
          node("MirrorPad", "y", ["x", "p"], { mode: attr.string(mode) }),
        ],
        { x: X },
        ["y"],
      );
      assertTensorEqual(y!, padReference(X, paddings, mode));
    });
  }
});
