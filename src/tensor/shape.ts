import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors.js";
import {
  type TensorShapeProto,
  TensorShapeProtoSchema,
} from "../proto/gen/tensorflow/core/framework/tensor_shape_pb.js";

/** A shape as signatures declare it: -1 for an unknown dimension, null for an unknown rank. */
export type PartialShape = number[] | null;

/**
 * Reads a TensorShapeProto. An absent proto is a scalar (protobuf's default, as TF reads it).
 *
 * @example
 * shapeFromProto(create(TensorShapeProtoSchema, { dim: [{ size: -1n }, { size: 3n }] })); // [-1, 3]
 * shapeFromProto(create(TensorShapeProtoSchema, { unknownRank: true })); // null
 */
export function shapeFromProto(proto?: TensorShapeProto): PartialShape {
  if (!proto) return [];
  if (proto.unknownRank) return null;
  return proto.dim.map(({ size }) => {
    if (size < -1n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalidArgument(`invalid dimension size ${size} in tensor shape`);
    }
    return Number(size);
  });
}

/**
 * Writes a shape as a TensorShapeProto; null becomes `unknown_rank: true`.
 *
 * @example
 * shapeToProto([2, -1]); // { dim: [{ size: 2n }, { size: -1n }] }
 */
export function shapeToProto(dims: readonly number[] | null): TensorShapeProto {
  if (dims === null) return create(TensorShapeProtoSchema, { unknownRank: true });
  return create(TensorShapeProtoSchema, { dim: dims.map((d) => ({ size: BigInt(d) })) });
}

/**
 * Reads the shape of an actual tensor: an unknown rank or a -1 dimension is an INVALID_ARGUMENT.
 *
 * @example
 * concreteShapeFromProto(create(TensorShapeProtoSchema, { dim: [{ size: 2n }] })); // [2]
 */
export function concreteShapeFromProto(proto?: TensorShapeProto): number[] {
  const dims = shapeFromProto(proto);
  if (dims === null) throw invalidArgument("a tensor's shape cannot have an unknown rank");
  if (dims.includes(-1)) {
    throw invalidArgument(`a tensor's shape cannot have unknown dimensions: ${formatShape(dims)}`);
  }
  return dims;
}

/**
 * Formats a shape as saved_model_cli prints it: "(-1, 1)", "(3)", "()" for a scalar, "unknown_rank".
 *
 * @example
 * formatShape([-1, 1]); // "(-1, 1)"
 * formatShape(null); // "unknown_rank"
 */
export function formatShape(dims: readonly number[] | null): string {
  return dims === null ? "unknown_rank" : `(${dims.join(", ")})`;
}
