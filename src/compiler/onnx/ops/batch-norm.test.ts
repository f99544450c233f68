import { describe, it } from "node:test";
import {
  assertClose,
  at,
  attr,
  constNode,
  DataType,
  f32,
  fromIndex,
  node,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";
import { toChannelsFirstPerm, toChannelsLastPerm, transposeTensor } from "./layout.js";

const toNchw = (t: Tensor) => transposeTensor(t, toChannelsFirstPerm(t.rank));
const toNhwc = (t: Tensor) => transposeTensor(t, toChannelsLastPerm(t.rank));

/** Per-channel mean and biased variance of a channels-last tensor. */
function channelStats(x: Tensor): { mean: number[]; variance: number[]; count: number } {
  const channels = x.shape[x.rank - 1]!;
  const count = x.size / channels;
  const mean = new Array<number>(channels).fill(0);
  const variance = new Array<number>(channels).fill(0);
  x.values.forEach((v, i) => {
    mean[i % channels]! += Number(v) / count;
  });
  x.values.forEach((v, i) => {
    variance[i % channels]! += (Number(v) - mean[i % channels]!) ** 2 / count;
  });
  return { mean, variance, count };
}

function normalize(
  x: Tensor,
  scale: Tensor,
  offset: Tensor,
  mean: number[],
  variance: number[],
  epsilon: number,
): Tensor {
  const c = x.rank - 1;
  return fromIndex(DataType.DT_FLOAT, x.shape, (index) => {
    const ch = index[c]!;
    return (
      ((at(x, index) - mean[ch]!) / Math.sqrt(variance[ch]! + epsilon)) * at(scale, [ch]) + at(offset, [ch])
    );
  });
}

describe("FusedBatchNorm / V2 / V3", () => {
  for (const op of ["FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"]) {
    for (const nchw of [false, true]) {
      it(`${op} inference ${nchw ? "NCHW" : "NHWC"}`, async () => {
        const x = randomF32([2, 3, 4, 3], 1, -2, 2);
        const scale = f32([3], [0.5, 1.5, -1]);
        const offset = f32([3], [0.1, 0, -0.2]);
        const mean = f32([3], [0.2, -0.1, 0.3]);
        const variance = f32([3], [1.5, 0.25, 2]);
        const outputs = op === "FusedBatchNormV3" ? 6 : 5;
        const attrs = {
          epsilon: attr.float(0.001),
          is_training: attr.bool(false),
          data_format: attr.string(nchw ? "NCHW" : "NHWC"),
        };
        const [y, batchMean] = await runOnce(
          [
            constNode("scale", scale),
            constNode("offset", offset),
            constNode("mean", mean),
            constNode("variance", variance),
            node(
              op,
              "bn",
              ["x", "scale", "offset", "mean", "variance"],
              attrs,
              new Array(outputs).fill(DataType.DT_FLOAT),
            ),
          ],
          { x: nchw ? toNchw(x) : x },
          ["bn:0", "bn:1"],
        );
        const expected = normalize(x, scale, offset, [0.2, -0.1, 0.3], [1.5, 0.25, 2], 0.001);
        assertClose(nchw ? toNhwc(y!) : y!, expected);
        assertClose(batchMean!, mean);
      });
    }
  }

  for (const nchw of [false, true]) {
    it(`is_training=true uses batch statistics (Keras fused LayerNorm) ${nchw ? "NCHW" : "NHWC"}`, async () => {
      const x = randomF32([1, 6, 1, 4], 2, -3, 3);
      const scale = f32([4], [1, 2, 0.5, -1]);
      const offset = f32([4], [0, 0.5, -0.5, 1]);
      const empty = f32([0], []);
      const attrs = {
        epsilon: attr.float(1e-3),
        is_training: attr.bool(true),
        exponential_avg_factor: attr.float(1),
        data_format: attr.string(nchw ? "NCHW" : "NHWC"),
      };
      const [y, batchMean, batchVariance] = await runOnce(
        [
          constNode("scale", scale),
          constNode("offset", offset),
          constNode("empty", empty),
          node(
            "FusedBatchNormV3",
            "bn",
            ["x", "scale", "offset", "empty", "empty"],
            attrs,
            new Array(6).fill(DataType.DT_FLOAT),
          ),
        ],
        { x: nchw ? toNchw(x) : x },
        ["bn:0", "bn:1", "bn:2"],
      );
      const stats = channelStats(x);
      assertClose(nchw ? toNhwc(y!) : y!, normalize(x, scale, offset, stats.mean, stats.variance, 1e-3), {
        rel: 1e-5,
        abs: 1e-5,
      });
      assertClose(batchMean!, f32([4], stats.mean), { rel: 1e-5, abs: 1e-6 });
      const bessel = stats.count / (stats.count - 1);
      assertClose(
        batchVariance!,
        f32(
          [4],
          stats.variance.map((v) => v * bessel),
        ),
        { rel: 1e-5, abs: 1e-6 },
      );
    });
  }

  it("is_training=true with exponential_avg_factor 0.25 blends the running statistics", async () => {
    const x = randomF32([2, 2, 2, 2], 3);
    const running = f32([2], [1, -1]);
    const attrs = {
      is_training: attr.bool(true),
      exponential_avg_factor: attr.float(0.25),
      epsilon: attr.float(1e-4),
    };
    const [y, batchMean] = await runOnce(
      [
        constNode("scale", f32([2], [1, 1])),
        constNode("offset", f32([2], [0, 0])),
        constNode("running", running),
        node(
          "FusedBatchNormV3",
          "bn",
          ["x", "scale", "offset", "running", "running"],
          attrs,
          new Array(6).fill(DataType.DT_FLOAT),
        ),
      ],
      { x },
      ["bn:0", "bn:1"],
    );
    const stats = channelStats(x);
    assertClose(y!, normalize(x, f32([2], [1, 1]), f32([2], [0, 0]), stats.mean, stats.variance, 1e-4), {
      rel: 1e-5,
      abs: 1e-5,
    });
    assertClose(
      batchMean!,
      f32(
        [2],
        stats.mean.map((m, c) => 0.75 * [1, -1][c]! + 0.25 * m),
      ),
    );
  });
});
