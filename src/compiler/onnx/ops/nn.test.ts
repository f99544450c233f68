import { describe, it } from "node:test";
import {
  assertClose,
  assertTensorEqual,
  at,
  attr,
  constNode,
  DataType,
  f32,
  fromIndex,
  i32,
  node,
  randomF32,
  runOnce,
  type Tensor,
  u8,
} from "../onnx.test-helpers.js";
import { toChannelsFirstPerm, toChannelsLastPerm, transposeTensor } from "./layout.js";

const toNchw = (t: Tensor) => transposeTensor(t, toChannelsFirstPerm(t.rank));
const toNhwc = (t: Tensor) => transposeTensor(t, toChannelsLastPerm(t.rank));

describe("BiasAdd", () => {
  it("NHWC broadcasts along the last axis; BiasAddV1 too", async () => {
    const x = randomF32([2, 3, 4], 1);
    const b = f32([4], [1, -2, 3, 0.5]);
    const [y, v1] = await runOnce(
      [constNode("b", b), node("BiasAdd", "y", ["x", "b"]), node("BiasAddV1", "v1", ["x", "b"])],
      { x },
      ["y", "v1"],
    );
    const expected = fromIndex(DataType.DT_FLOAT, x.shape, (i) => at(x, i) + at(b, [i[2]!]));
    assertClose(y!, expected);
    assertClose(v1!, expected);
  });

  it("NCHW adds along axis 1 of a rank-4 input", async () => {
    const x = randomF32([2, 3, 2, 2], 2);
    const b = f32([3], [1, -2, 3]);
    const [y] = await runOnce(
      [constNode("b", b), node("BiasAdd", "y", ["x", "b"], { data_format: attr.string("NCHW") })],
      { x },
      ["y"],
    );
    assertClose(
      y!,
      fromIndex(DataType.DT_FLOAT, x.shape, (i) => at(x, i) + at(b, [i[1]!])),
    );
  });

  it("int32 NHWC", async () => {
    const x = i32([2, 2], [1, 2, 3, 4]);
    const [y] = await runOnce(
      [node("BiasAdd", "y", ["x", "b"], {}, [DataType.DT_INT32])],
      { x, b: i32([2], [10, -10]) },
      ["y"],
    );
    assertTensorEqual(y!, i32([2, 2], [11, -8, 13, -6]));
  });
});

describe("LRN, DepthToSpace, SpaceToDepth", () => {
  it("LRN sums squares over 2r+1 channels (TF alpha is not divided by the window)", async () => {
    const x = randomF32([1, 2, 2, 7], 3);
    const [radius, bias, alpha, beta] = [2, 1.5, 0.3, 0.75];
    const attrs = {
      depth_radius: attr.int(radius),
      bias: attr.float(bias),
      alpha: attr.float(alpha),
      beta: attr.float(beta),
    };
    const [y] = await runOnce([node("LRN", "y", ["x"], attrs)], { x }, ["y"]);
    const expected = fromIndex(DataType.DT_FLOAT, x.shape, ([n, h, w, c]) => {
      let sum = 0;
      for (let k = Math.max(0, c! - radius); k <= Math.min(6, c! + radius); k++)
        sum += at(x, [n!, h!, w!, k]) ** 2;
      return at(x, [n!, h!, w!, c!]) / (bias + alpha * sum) ** beta;
    });
    assertClose(y!, expected);
  });

  for (const nchw of [false, true]) {
    it(`DepthToSpace and SpaceToDepth block 2 ${nchw ? "NCHW" : "NHWC"} (TF channel order)`, async () => {
      const x = fromIndex(DataType.DT_FLOAT, [1, 2, 3, 8], (i) => i[1]! * 100 + i[2]! * 10 + i[3]!);
      const attrs = { block_size: attr.int(2), data_format: attr.string(nchw ? "NCHW" : "NHWC") };
      const [d2s] = await runOnce([node("DepthToSpace", "y", ["x"], attrs)], { x: nchw ? toNchw(x) : x }, [
        "y",
      ]);
      // TF: out[b, h·bs + i, w·bs + j, c] = in[b, h, w, (i·bs + j)·C_out + c].
      const expected = fromIndex(DataType.DT_FLOAT, [1, 4, 6, 2], ([b, y, xx, c]) =>
        at(x, [b!, Math.floor(y! / 2), Math.floor(xx! / 2), ((y! % 2) * 2 + (xx! % 2)) * 2 + c!]),
      );
      assertTensorEqual(nchw ? toNhwc(d2s!) : d2s!, expected);
      const [s2d] = await runOnce(
        [node("SpaceToDepth", "z", ["y"], attrs)],
        { y: nchw ? toNchw(expected) : expected },
        ["z"],
      );
      assertTensorEqual(nchw ? toNhwc(s2d!) : s2d!, x);
    });
  }
});

/** TF's bilinear resize (resize_bilinear_op.cc) for NHWC float data. */
function bilinear(x: Tensor, outH: number, outW: number, alignCorners: boolean, halfPixel: boolean): Tensor {
  const [, inH, inW] = x.shape as [number, number, number, number];
  const scale = (inSize: number, outSize: number) =>
    alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const weights = (o: number, inSize: number, outSize: number) => {
    const s = scale(inSize, outSize);
    const pos = halfPixel ? (o + 0.5) * s - 0.5 : o * s;
    const lower = Math.max(Math.floor(pos), 0);
    const upper = Math.min(Math.ceil(pos), inSize - 1);
    return { lower, upper, lerp: pos - Math.floor(pos) };
  };
  return fromIndex(DataType.DT_FLOAT, [x.shape[0]!, outH, outW, x.shape[3]!], ([n, y, xx, c]) => {
    const wy = weights(y!, inH, outH);
    const wx = weights(xx!, inW, outW);
    const v = (yy: number, xxx: number) => at(x, [n!, yy, xxx, c!]);
    const top = v(wy.lower, wx.lower) + (v(wy.lower, wx.upper) - v(wy.lower, wx.lower)) * wx.lerp;
    const bottom = v(wy.upper, wx.lower) + (v(wy.upper, wx.upper) - v(wy.upper, wx.lower)) * wx.lerp;
    return top + (bottom - top) * wy.lerp;
  });
}

/** TF's nearest-neighbour resize (resize_nearest_neighbor_op.cc). */
function nearest(x: Tensor, outH: number, outW: number, alignCorners: boolean, halfPixel: boolean): Tensor {
  const [, inH, inW] = x.shape as [number, number, number, number];
  const source = (o: number, inSize: number, outSize: number) => {
    const s = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
    const pos = halfPixel ? (o + 0.5) * s : o * s;
    const i = alignCorners ? Math.round(pos) : Math.floor(pos);
    return Math.max(0, Math.min(i, inSize - 1));
  };
  return fromIndex(x.dtype, [x.shape[0]!, outH, outW, x.shape[3]!], ([n, y, xx, c]) =>
    at(x, [n!, source(y!, inH, outH), source(xx!, inW, outW), c!]),
  );
}

describe("ResizeBilinear / ResizeNearestNeighbor", () => {
  const modes = [
    { alignCorners: false, halfPixel: false, label: "asymmetric" },
    { alignCorners: true, halfPixel: false, label: "align_corners" },
    { alignCorners: false, halfPixel: true, label: "half_pixel_centers" },
  ];
  for (const m of modes) {
    for (const [outH, outW] of [
      [7, 5],
      [2, 3],
    ] as const) {
      const attrs = { align_corners: attr.bool(m.alignCorners), half_pixel_centers: attr.bool(m.halfPixel) };
      it(`ResizeBilinear ${m.label} 4x3 → ${outH}x${outW}`, async () => {
        const x = randomF32([2, 4, 3, 2], 5);
        const [y] = await runOnce(
          [constNode("size", i32([2], [outH, outW])), node("ResizeBilinear", "y", ["x", "size"], attrs)],
          { x },
          ["y"],
        );
        assertClose(y!, bilinear(x, outH, outW, m.alignCorners, m.halfPixel), { rel: 1e-5, abs: 1e-5 });
      });
      it(`ResizeNearestNeighbor ${m.label} 4x3 → ${outH}x${outW} (float32 and int32)`, async () => {
        const x = randomF32([1, 4, 3, 2], 6);
        const n = fromIndex(DataType.DT_INT32, [1, 4, 3, 1], ([, h, w]) => h! * 10 + w!);
        const [y, z] = await runOnce(
          [
            constNode("size", i32([2], [outH, outW])),
            node("ResizeNearestNeighbor", "y", ["x", "size"], attrs),
            node("ResizeNearestNeighbor", "z", ["n", "size"], attrs, [DataType.DT_INT32]),
          ],
          { x, n },
          ["y", "z"],
        );
        assertTensorEqual(y!, nearest(x, outH, outW, m.alignCorners, m.halfPixel));
        assertTensorEqual(z!, nearest(n, outH, outW, m.alignCorners, m.halfPixel));
      });
    }
  }

  for (const m of modes) {
    it(`odd scale factors (10x5 → 3x7) ${m.label}, both resize ops`, async () => {
      const x = randomF32([1, 10, 5, 2], 7);
      const attrs = { align_corners: attr.bool(m.alignCorners), half_pixel_centers: attr.bool(m.halfPixel) };
      const [b, n] = await runOnce(
        [
          constNode("size", i32([2], [3, 7])),
          node("ResizeBilinear", "b", ["x", "size"], attrs),
          node("ResizeNearestNeighbor", "n", ["x", "size"], attrs),
        ],
        { x },
        ["b", "n"],
      );
      assertClose(b!, bilinear(x, 3, 7, m.alignCorners, m.halfPixel), { rel: 1e-5, abs: 1e-5 });
      assertTensorEqual(n!, nearest(x, 3, 7, m.alignCorners, m.halfPixel));
    });
  }

  it("ResizeBilinear of uint8 images returns float32; a fed size works", async () => {
    const x = u8([1, 2, 2, 1], [0, 100, 200, 255]);
    const [y] = await runOnce(
      [node("ResizeBilinear", "y", ["x", "size"], { half_pixel_centers: attr.bool(true) })],
      {
        x,
        size: i32([2], [4, 4]),
      },
      ["y"],
    );
    const asFloat = f32([1, 2, 2, 1], [0, 100, 200, 255]);
    assertClose(y!, bilinear(asFloat, 4, 4, false, true), { rel: 1e-5, abs: 1e-4 });
  });
});
