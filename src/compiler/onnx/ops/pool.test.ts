import { describe, it } from "node:test";
import {
  assertClose,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  f32,
  forEachIndex,
  i32,
  node,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";
import { toChannelsFirstPerm, toChannelsLastPerm, transposeTensor } from "./layout.js";

/** Channels-last pooling by loops; padded cells are skipped (TF excludes them from averages). */
function poolReference(
  x: Tensor,
  kind: "max" | "avg",
  ksize: number[],
  strides: number[],
  padding: "SAME" | "VALID",
): Tensor {
  const spatial = x.rank - 2;
  const windows = ksize.map((k, d) => {
    const size = x.shape[d + 1]!;
    const s = strides[d]!;
    if (padding === "VALID") return { out: Math.ceil((size - k + 1) / s), begin: 0 };
    const out = Math.ceil(size / s);
    return { out, begin: Math.floor(Math.max((out - 1) * s + k - size, 0) / 2) };
  });
  const outShape = [x.shape[0]!, ...windows.map((w) => w.out), x.shape[spatial + 1]!];
  const values: number[] = [];
  forEachIndex(outShape, (index) => {
    let best = Number.NEGATIVE_INFINITY;
    let sum = 0;
    let count = 0;
    forEachIndex(ksize, (k) => {
      const pos = k.map((kd, d) => index[d + 1]! * strides[d]! + kd - windows[d]!.begin);
      if (pos.some((p, d) => p < 0 || p >= x.shape[d + 1]!)) return;
      const v = at(x, [index[0]!, ...pos, index[spatial + 1]!]);
      best = Math.max(best, v);
      sum += v;
      count++;
    });
    values.push(kind === "max" ? best : sum / count);
  });
  return f32(outShape, values);
}

const full = (v: number[], nchw: boolean) => (nchw ? [1, 1, ...v] : [1, ...v, 1]);
const toNchw = (t: Tensor) => transposeTensor(t, toChannelsFirstPerm(t.rank));
const toNhwc = (t: Tensor) => transposeTensor(t, toChannelsLastPerm(t.rank));

describe("MaxPool / AvgPool", () => {
  const cases = [
    { ksize: [2, 2], strides: [2, 2], padding: "VALID", x: [2, 6, 6, 3] },
    { ksize: [3, 3], strides: [2, 2], padding: "SAME", x: [1, 7, 5, 2] },
    { ksize: [3, 2], strides: [1, 2], padding: "SAME", x: [1, 4, 5, 2] },
    { ksize: [2, 3], strides: [3, 1], padding: "VALID", x: [1, 8, 6, 1] },
  ] as const;
  for (const [op, kind] of [
    ["MaxPool", "max"],
    ["AvgPool", "avg"],
  ] as const) {
    for (const c of cases) {
      for (const nchw of [false, true]) {
        it(`${op} ${c.padding} k=${c.ksize} s=${c.strides} ${nchw ? "NCHW" : "NHWC"}`, async () => {
          const x = randomF32(c.x, 3);
          const attrs = {
            ksize: attr.ints(full([...c.ksize], nchw)),
            strides: attr.ints(full([...c.strides], nchw)),
            padding: attr.string(c.padding),
            data_format: attr.string(nchw ? "NCHW" : "NHWC"),
          };
          const [y] = await runOnce([node(op, "y", ["x"], attrs)], { x: nchw ? toNchw(x) : x }, ["y"]);
          assertClose(
            nchw ? toNhwc(y!) : y!,
            poolReference(x, kind, [...c.ksize], [...c.strides], c.padding),
          );
        });
      }
    }
  }

  it("MaxPoolV2 takes ksize and strides from constant inputs", async () => {
    const x = randomF32([1, 5, 5, 2], 4);
    const [y] = await runOnce(
      [
        constNode("ksize", i32([4], [1, 2, 2, 1])),
        constNode("strides", i32([4], [1, 2, 2, 1])),
        node("MaxPoolV2", "y", ["x", "ksize", "strides"], { padding: attr.string("SAME") }),
      ],
      { x },
      ["y"],
    );
    assertClose(y!, poolReference(x, "max", [2, 2], [2, 2], "SAME"));
  });

  for (const [op, kind] of [
    ["MaxPool3D", "max"],
    ["AvgPool3D", "avg"],
  ] as const) {
    it(`${op} SAME NDHWC`, async () => {
      const x = randomF32([1, 4, 5, 3, 2], 5);
      const attrs = {
        ksize: attr.ints([1, 2, 3, 2, 1]),
        strides: attr.ints([1, 2, 2, 1, 1]),
        padding: attr.string("SAME"),
        data_format: attr.string("NDHWC"),
      };
      const [y] = await runOnce([node(op, "y", ["x"], attrs)], { x }, ["y"]);
      assertClose(y!, poolReference(x, kind, [2, 3, 2], [2, 2, 1], "SAME"));
    });
  }

  it("AvgPool SAME with a dynamic batch runs at two batch sizes", async () => {
    const attrs = {
      ksize: attr.ints([1, 3, 3, 1]),
      strides: attr.ints([1, 2, 2, 1]),
      padding: attr.string("SAME"),
    };
    const compiled = await compileSegment({
      nodes: [node("AvgPool", "y", ["x"], attrs)],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 5, 5, 2] }],
      outputs: ["y"],
    });
    try {
      for (const batch of [1, 3]) {
        const x = randomF32([batch, 5, 5, 2], batch);
        const [y] = await compiled.run(x);
        assertClose(y!, poolReference(x, "avg", [3, 3], [2, 2], "SAME"));
      }
    } finally {
      await compiled.session.release();
    }
  });
});
