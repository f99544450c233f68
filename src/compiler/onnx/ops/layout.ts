// NHWC ⇄ NCHW plumbing: ONNX Conv/Pool/LRN/DepthToSpace want channels first, TF defaults to channels last.
import { requireFixedDType } from "../../../tensor/dtype.js";
import { Tensor } from "../../../tensor/tensor.js";
import type { LoweringContext } from "../lowering.js";
import { op } from "./util.js";

/** perm taking a channels-last tensor of `rank` to channels-first: [0, r−1, 1, …, r−2]. */
export const toChannelsFirstPerm = (rank: number): number[] => [
  0,
  rank - 1,
  ...Array.from({ length: rank - 2 }, (_, k) => k + 1),
];

/** perm taking channels-first back to channels-last: [0, 2, …, r−1, 1]. */
export const toChannelsLastPerm = (rank: number): number[] => [
  0,
  ...Array.from({ length: rank - 2 }, (_, k) => k + 2),
  1,
];

/** TF filter [spatial…, in, out] → ONNX [out, in, spatial…]. */
export const filterToOnnxPerm = (spatial: number): number[] => [
  spatial + 1,
  spatial,
  ...Array.from({ length: spatial }, (_, k) => k),
];

/**
 * Runs `body` on a channels-first view of `value`: wraps it in Transpose pairs when the TF data is
 * channels last (onnxruntime's transpose optimizer cancels the pairs between consecutive ops).
 */
export function inChannelsFirst(
  ctx: LoweringContext,
  value: string,
  rank: number,
  channelsLast: boolean,
  body: (nchw: string) => string,
): string {
  if (!channelsLast) return body(value);
  const nchw = op(ctx, "Transpose", [value], { perm: toChannelsFirstPerm(rank) });
  return op(ctx, "Transpose", [body(nchw)], { perm: toChannelsLastPerm(rank) });
}

/** The spatial entries of a per-dimension TF attr (strides, dilations, ksize) in data_format order. */
export function spatialOf(values: readonly number[], rank: number, channelsLast: boolean): number[] {
  const first = channelsLast ? 1 : 2;
  return values.slice(first, first + rank - 2);
}

/** Transposes a host tensor (for constant conv filters, transposed once at lowering time). */
export function transposeTensor(tensor: Tensor, perm: readonly number[]): Tensor {
  const shape = perm.map((p) => tensor.shape[p]!);
  const rank = shape.length;
  const info = requireFixedDType(tensor.dtype);
  const source = tensor.values;
  const lanes = info.lanes;
  const out = new info.array(source.length);
  const inStrides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1]! * tensor.shape[d + 1]!;
  const strides = perm.map((p) => inStrides[p]!);
  const index = new Array<number>(rank).fill(0);
  const total = tensor.size;
  for (let o = 0; o < total; o++) {
    let from = 0;
    for (let d = 0; d < rank; d++) from += index[d]! * strides[d]!;
    for (let l = 0; l < lanes; l++) out[o * lanes + l] = source[from * lanes + l]!;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      if (index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return new Tensor(tensor.dtype, shape, out);
}
