import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { TensorShapeProtoSchema } from "../proto/gen/tensorflow/core/framework/tensor_shape_pb.js";
import { concreteShapeFromProto, formatShape, shapeFromProto, shapeToProto } from "./shape.js";

const dims = (...sizes: bigint[]) => create(TensorShapeProtoSchema, { dim: sizes.map((size) => ({ size })) });

const isInvalidArgument = (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT;

describe("shapeFromProto", () => {
  it("reads dims, keeping -1 for unknown ones", () => {
    assert.deepEqual(shapeFromProto(dims(-1n, 3n)), [-1, 3]);
    assert.deepEqual(shapeFromProto(dims(0n, 2n, 0n)), [0, 2, 0]);
  });

  it("reads an empty proto or none as a scalar", () => {
    assert.deepEqual(shapeFromProto(create(TensorShapeProtoSchema)), []);
    assert.deepEqual(shapeFromProto(undefined), []);
  });

  it("reads unknown_rank as null", () => {
    assert.equal(shapeFromProto(create(TensorShapeProtoSchema, { unknownRank: true })), null);
  });

  it("rejects sizes below -1 or beyond safe integers", () => {
    assert.throws(() => shapeFromProto(dims(-2n)), isInvalidArgument);
    assert.throws(() => shapeFromProto(dims(2n ** 60n)), isInvalidArgument);
  });
});

describe("shapeToProto", () => {
  it("writes dims as bigints and null as unknown_rank, and survives the wire", () => {
    const p = shapeToProto([-1, 4]);
    assert.deepEqual(
      p.dim.map((d) => d.size),
      [-1n, 4n],
    );
    assert.equal(p.unknownRank, false);
    assert.equal(shapeToProto(null).unknownRank, true);
    for (const shape of [[], [0], [-1, 1], [2, 3, 4], null]) {
      const wire = fromBinary(TensorShapeProtoSchema, toBinary(TensorShapeProtoSchema, shapeToProto(shape)));
      assert.deepEqual(shapeFromProto(wire), shape);
    }
  });
});

describe("concreteShapeFromProto", () => {
  it("accepts known shapes", () => {
    assert.deepEqual(concreteShapeFromProto(dims(2n, 0n)), [2, 0]);
    assert.deepEqual(concreteShapeFromProto(undefined), []);
  });

  it("rejects unknown rank and -1 dims with INVALID_ARGUMENT", () => {
    assert.throws(() => concreteShapeFromProto(shapeToProto(null)), isInvalidArgument);
    assert.throws(
      () => concreteShapeFromProto(dims(3n, -1n)),
      (e: unknown) => isInvalidArgument(e) && (e as Error).message.includes("(3, -1)"),
    );
  });
});

describe("formatShape", () => {
  it("prints like saved_model_cli", () => {
    assert.equal(formatShape([-1, 1]), "(-1, 1)");
    assert.equal(formatShape([-1]), "(-1)");
    assert.equal(formatShape([]), "()");
    assert.equal(formatShape([2, 3, 4]), "(2, 3, 4)");
    assert.equal(formatShape(null), "unknown_rank");
  });
});
