import type { TensorSliceProto } from "../../proto/gen/tensorflow/core/framework/tensor_slice_pb.js";
import { FormatError } from "../table/format.js";
import type { SliceExtent } from "./ordered-code.js";

/** A stored slice resolved against the full shape: where it starts and how big it is per dimension. */
export interface ResolvedSlice {
  /** As encoded in the slice's key: length -1 for a whole dimension. */
  readonly extents: SliceExtent[];
  readonly starts: number[];
  readonly lengths: number[];
}

/** Resolves a TensorSliceProto (an extent without a length is the whole dimension). */
export function resolveSlice(proto: TensorSliceProto, fullShape: readonly number[]): ResolvedSlice {
  if (proto.extent.length !== fullShape.length) {
    throw new FormatError(`slice of rank ${proto.extent.length} for a tensor of rank ${fullShape.length}`);
  }
  const extents: SliceExtent[] = [];
  const starts: number[] = [];
  const lengths: number[] = [];
  proto.extent.forEach((extent, d) => {
    const dim = fullShape[d]!;
    const start = Number(extent.start);
    if (extent.hasLength.case === undefined) {
      extents.push({ start: 0, length: -1 });
      starts.push(0);
      lengths.push(dim);
      return;
    }
    const length = Number(extent.hasLength.value);
    if (start < 0 || length < 0 || start + length > dim) {
      throw new FormatError(`slice extent ${start},${length} out of range for dimension ${d} of size ${dim}`);
    }
    extents.push({ start, length });
    starts.push(start);
    lengths.push(length);
  });
  return { extents, starts, lengths };
}

/** TF's TensorSlice::DebugString: "start,length" or "-" per dimension, joined by ":". */
export const sliceSpec = (extents: readonly SliceExtent[]): string =>
  extents.map((e) => (e.length < 0 ? "-" : `${e.start},${e.length}`)).join(":");

/** Throws unless the slices tile the full shape exactly: no overlaps, no gaps. */
export function checkSlicesCoverShape(slices: readonly ResolvedSlice[], fullShape: readonly number[]): void {
  let covered = 0;
  for (const [i, a] of slices.entries()) {
    covered += a.lengths.reduce((n, d) => n * d, 1);
    for (const b of slices.slice(i + 1)) {
      const overlap = a.starts.every(
        (start, d) => start < b.starts[d]! + b.lengths[d]! && b.starts[d]! < start + a.lengths[d]!,
      );
      if (overlap)
        throw new FormatError(`slices ${sliceSpec(a.extents)} and ${sliceSpec(b.extents)} overlap`);
    }
  }
  const total = fullShape.reduce((n, d) => n * d, 1);
  if (covered !== total) {
    throw new FormatError(`slices cover ${covered} of ${total} elements`);
  }
}

/**
 * Copies a slice's row-major elements into the full tensor's storage: one contiguous
 * run per innermost row. Works on byte arrays (elementSize bytes) or string arrays (1).
 */
export function copySliceInto<T extends Uint8Array | Uint8Array[]>(
  full: T,
  fullShape: readonly number[],
  slice: ResolvedSlice,
  source: T,
  elementSize: number,
): void {
  const rank = fullShape.length;
  const rowLength = slice.lengths[rank - 1]! * elementSize;
  const rows = slice.lengths.slice(0, -1).reduce((n, d) => n * d, 1);
  if (rowLength === 0 || rows === 0) return;
  // Element strides of the full tensor.
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * fullShape[d + 1]!;
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  for (let row = 0; row < rows; row++) {
    let offset = slice.starts[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) offset += (slice.starts[d]! + index[d]!) * strides[d]!;
    const from = row * rowLength;
    const to = offset * elementSize;
    if (Array.isArray(full)) {
      for (let i = 0; i < rowLength; i++) full[to + i] = (source as Uint8Array[])[from + i]!;
    } else {
      (full as Uint8Array).set((source as Uint8Array).subarray(from, from + rowLength), to);
    }
    // Advance the row index like an odometer over the slice's outer dimensions.
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < slice.lengths[d]!) break;
      index[d] = 0;
    }
  }
}
