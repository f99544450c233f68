import { invalidArgument } from "../../errors.js";
import { type DataType, dtypeName } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";

/** One stored piece of a partitioned tensor: its values and where it starts in the full tensor. */
export interface TensorPart {
  /** Index of the piece's first element along each dimension; its extent is the part's shape. */
  readonly start: readonly number[];
  readonly tensor: Tensor;
}

/**
 * A variable saved in slices (TF1 partitioned variables): the bundle holds a
 * full-tensor entry listing the slices, and one entry per slice under an
 * OrderedCode key. Each slice extent is written explicitly ("start,length"),
 * as TF's Python SaveSliceInfo spells it.
 *
 * @example
 * new PartitionedTensor(DataType.DT_FLOAT, [4, 2], [
 *   { start: [0, 0], tensor: top },    // shape [2, 2]
 *   { start: [2, 0], tensor: bottom }, // shape [2, 2]
 * ]);
 */
export class PartitionedTensor {
  constructor(
    readonly dtype: DataType,
    readonly shape: readonly number[],
    readonly parts: readonly TensorPart[],
  ) {
    if (shape.length === 0) throw invalidArgument("a scalar cannot be partitioned");
    if (parts.length === 0) throw invalidArgument("a partitioned tensor needs at least one part");
    for (const { start, tensor } of parts) {
      if (tensor.dtype !== dtype) {
        throw invalidArgument(
          `part of dtype ${dtypeName(tensor.dtype)} in a ${dtypeName(dtype)} partitioned tensor`,
        );
      }
      const fits =
        start.length === shape.length &&
        tensor.shape.length === shape.length &&
        start.every((s, d) => Number.isSafeInteger(s) && s >= 0 && s + tensor.shape[d]! <= shape[d]!);
      if (!fits) {
        throw invalidArgument(
          `part at [${start}] of shape [${tensor.shape}] does not fit in shape [${shape}]`,
        );
      }
    }
  }
}
