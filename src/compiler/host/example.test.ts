import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ServingError } from "../../errors.js";
import { ExampleSchema } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import type { FeatureSchema } from "../../proto/gen/tensorflow/core/example/feature_pb.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import {
  attr,
  attrShapes,
  attrStrings,
  f32,
  i64,
  makeNode,
  nums,
  runTensors,
  scalarStr,
  shapeOf,
  str,
  texts,
} from "./host.test-helpers.js";

type FeatureInit = MessageInitShape<typeof FeatureSchema>;
const floats = (...value: number[]): FeatureInit => ({ kind: { case: "floatList", value: { value } } });
const ints = (...value: number[]): FeatureInit => ({
  kind: { case: "int64List", value: { value: value.map(BigInt) } },
});
const bytesList = (...value: string[]): FeatureInit => ({
  kind: { case: "bytesList", value: { value: value.map((s) => new TextEncoder().encode(s)) } },
});

function example(feature: Record<string, FeatureInit>): Uint8Array {
  return toBinary(ExampleSchema, create(ExampleSchema, { features: { feature } }));
}
const serialized = (...examples: Uint8Array[]) => new Tensor(DataType.DT_STRING, [examples.length], examples);
const empty = () => str([], [0]);

/** A ParseExampleV2 node: sparse keys and types, dense (key, type, shape) and ragged (key, type, split type). */
function v2(
  sparse: [string, DataType][],
  dense: [string, DataType, number[]][],
  ragged: [string, DataType, DataType][] = [],
) {
  const node = makeNode("ParseExampleV2", {
    num_sparse: attr.int(sparse.length),
    sparse_types: attr.types(sparse.map(([, t]) => t)),
    Tdense: attr.types(dense.map(([, t]) => t)),
    dense_shapes: attrShapes(dense.map(([, , s]) => s)),
    ragged_value_types: attr.types(ragged.map(([, t]) => t)),
    ragged_split_types: attr.types(ragged.map(([, , s]) => s)),
  });
  const keys = [str(sparse.map(([k]) => k)), str(dense.map(([k]) => k)), str(ragged.map(([k]) => k))];
  return { node, keys };
}

describe("ParseExampleV2 on a batch", () => {
  const a = example({
    age: ints(34),
    scores: floats(0.5, 1.5),
    name: bytesList("ann"),
    tags: bytesList("x", "y"),
    ids: ints(7, 8, 9),
    weights: floats(1, 2, 3),
  });
  const b = example({ age: ints(56), ids: ints(4), weights: floats(0.25) });

  it("fills dense (with defaults), sparse and ragged outputs in TF's output order", () => {
    const { node, keys } = v2(
      [
        ["ids", DataType.DT_INT64],
        ["tags", DataType.DT_STRING],
      ],
      [
        ["age", DataType.DT_INT64, []],
        ["scores", DataType.DT_FLOAT, [2]],
        ["name", DataType.DT_STRING, [1]],
      ],
      [["weights", DataType.DT_FLOAT, DataType.DT_INT64]],
    );
    const defaults = [i64([], [0]), f32([-1, -2]), str(["?"])];
    const out = runTensors(node, [serialized(a, b), empty(), ...keys, ...defaults]);
    assert.equal(out.length, 2 * 3 + 3 + 2);
    const [idsIdx, tagsIdx, idsVal, tagsVal, idsShape, tagsShape, age, scores, name, weights, splits] = out;
    // sparse "ids": example 0 has 3 values, example 1 has 1.
    assert.deepEqual(shapeOf(idsIdx), [4, 2]);
    assert.deepEqual(nums(idsIdx), [0, 0, 0, 1, 0, 2, 1, 0]);
    assert.deepEqual(nums(idsVal), [7, 8, 9, 4]);
    assert.deepEqual(nums(idsShape), [2, 3]);
    assert.equal(idsIdx!.dtype, DataType.DT_INT64);
    // sparse "tags": only example 0.
    assert.deepEqual(nums(tagsIdx), [0, 0, 0, 1]);
    assert.deepEqual(texts(tagsVal), ["x", "y"]);
    assert.deepEqual(nums(tagsShape), [2, 2]);
    // dense: [batch, ...dense_shape]; missing "scores"/"name" in b take the defaults.
    assert.deepEqual(shapeOf(age), [2]);
    assert.deepEqual(nums(age), [34, 56]);
    assert.deepEqual(shapeOf(scores), [2, 2]);
    assert.deepEqual(nums(scores), [0.5, 1.5, -1, -2]);
    assert.deepEqual(shapeOf(name), [2, 1]);
    assert.deepEqual(texts(name), ["ann", "?"]);
    // ragged: flat values and row splits.
    assert.deepEqual(nums(weights), [1, 2, 3, 0.25]);
    assert.deepEqual(nums(splits), [0, 3, 4]);
    assert.equal(splits!.dtype, DataType.DT_INT64);
  });

  it("pads a variable-length dense feature (dense_shape [-1]) with its default", () => {
    const { node, keys } = v2([], [["ids", DataType.DT_INT64, [-1]]]);
    const [ids] = runTensors(node, [serialized(a, b, example({})), empty(), ...keys, i64([-1], [])]);
    assert.deepEqual(shapeOf(ids), [3, 3]);
    assert.deepEqual(nums(ids), [7, 8, 9, 4, -1, -1, -1, -1, -1]);
  });

  it("says which required feature is missing, as TF does", () => {
    const { node, keys } = v2([], [["height", DataType.DT_FLOAT, []]]);
    assert.throws(() => runTensors(node, [serialized(a), empty(), ...keys, f32([], [0])]), {
      message: "Name: <unknown>, Feature: height (data type: float) is required but could not be found.",
    });
    // With names, the example's name replaces <unknown>.
    assert.throws(() => runTensors(node, [serialized(a), str(["ex0"]), ...keys, f32([], [0])]), {
      message: "Name: ex0, Feature: height (data type: float) is required but could not be found.",
    });
  });

  it("rejects a dense feature of the wrong length or type", () => {
    const { node, keys } = v2([], [["scores", DataType.DT_FLOAT, [3]]]);
    assert.throws(() => runTensors(node, [serialized(a), empty(), ...keys, f32([], [0])]), {
      message:
        "Name: <unknown>, Key: scores, Index: 0.  Number of float values != expected.  Values size: 2 but output shape: [3]",
    });
    const wrong = v2([], [["age", DataType.DT_FLOAT, []]]);
    assert.throws(() => runTensors(wrong.node, [serialized(a), empty(), ...wrong.keys, f32([], [0])]), {
      message:
        "Name: <unknown>, Key: age, Index: 0.  Data types don't match. Data type: int64 but expected type: float",
    });
  });

  it("rejects bytes that are not an Example with INVALID_ARGUMENT", () => {
    const { node, keys } = v2([], [["age", DataType.DT_INT64, []]]);
    assert.throws(
      () => runTensors(node, [serialized(Uint8Array.of(0x0a, 0x05, 0x01)), empty(), ...keys, i64([0], [])]),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.INVALID_ARGUMENT &&
        e.message.startsWith("Could not parse example input, value: '"),
    );
  });

  it("returns empty sparse tensors for an empty batch", () => {
    const { node, keys } = v2([["ids", DataType.DT_INT64]], [["age", DataType.DT_INT64, []]]);
    const out = runTensors(node, [str([], [0]), empty(), ...keys, i64([0], [])]);
    assert.deepEqual(shapeOf(out[0]), [0, 2]);
    assert.deepEqual(nums(out[2]), [0, 0]);
    assert.deepEqual(shapeOf(out[3]), [0]);
  });
});

describe("ParseExampleV2 on a scalar (one Example)", () => {
  const one = example({ age: ints(3), tags: bytesList("p", "q", "r"), weights: floats(4) });

  it("has no batch dimension: dense as dense_shape, sparse of rank 1, ragged splits [0, n]", () => {
    const { node, keys } = v2(
      [["tags", DataType.DT_STRING]],
      [
        ["age", DataType.DT_INT64, []],
        ["scale", DataType.DT_FLOAT, [2]],
      ],
      [["weights", DataType.DT_FLOAT, DataType.DT_INT32]],
    );
    const out = runTensors(node, [
      new Tensor(DataType.DT_STRING, [], [one]),
      empty(),
      ...keys,
      i64([], [0]),
      f32([1, 2]),
    ]);
    const [idx, vals, shape, age, scale, weights, splits] = out;
    assert.deepEqual(shapeOf(idx), [3, 1]);
    assert.deepEqual(nums(idx), [0, 1, 2]);
    assert.deepEqual(texts(vals), ["p", "q", "r"]);
    assert.deepEqual(nums(shape), [3]);
    assert.deepEqual(shapeOf(age), []);
    assert.deepEqual(nums(age), [3]);
    assert.deepEqual(nums(scale), [1, 2]);
    assert.deepEqual(nums(weights), [4]);
    assert.deepEqual(nums(splits), [0, 1]);
    assert.equal(splits!.dtype, DataType.DT_INT32);
  });

  it("reports a missing required feature without a name", () => {
    const { node, keys } = v2([], [["height", DataType.DT_FLOAT, []]]);
    assert.throws(
      () => runTensors(node, [new Tensor(DataType.DT_STRING, [], [one]), empty(), ...keys, f32([], [0])]),
      {
        message: "Feature: height (data type: float) is required but could not be found.",
      },
    );
  });
});

describe("ParseExample (V1)", () => {
  it("takes one scalar key input per feature", () => {
    const node = makeNode("ParseExample", {
      Nsparse: attr.int(1),
      Ndense: attr.int(1),
      sparse_types: attr.types([DataType.DT_FLOAT]),
      Tdense: attr.types([DataType.DT_STRING]),
      dense_shapes: attrShapes([[]]),
    });
    const batch = serialized(example({ w: floats(1.25), s: bytesList("hi") }), example({}));
    const out = runTensors(node, [batch, empty(), scalarStr("w"), scalarStr("s"), scalarStr("none")]);
    assert.deepEqual(nums(out[0]), [0, 0]);
    assert.deepEqual(nums(out[1]), [1.25]);
    assert.deepEqual(nums(out[2]), [2, 1]);
    assert.deepEqual(texts(out[3]), ["hi", "none"]);
  });

  it("requires a vector of serialized Examples", () => {
    const node = makeNode("ParseExample", {
      Nsparse: attr.int(0),
      Ndense: attr.int(0),
      sparse_types: attr.types([]),
      Tdense: attr.types([]),
      dense_shapes: attrShapes([]),
    });
    assert.throws(() => runTensors(node, [scalarStr(""), empty()]), {
      message: "Expected serialized to be a vector, got shape: []",
    });
  });
});

describe("ParseSingleExample", () => {
  it("parses one Example with keys given as attrs", () => {
    const node = makeNode("ParseSingleExample", {
      num_sparse: attr.int(1),
      sparse_keys: attrStrings(["ids"]),
      dense_keys: attrStrings(["x"]),
      sparse_types: attr.types([DataType.DT_INT64]),
      Tdense: attr.types([DataType.DT_FLOAT]),
      dense_shapes: attrShapes([[2]]),
    });
    const bytes = example({ ids: ints(5, 6), x: floats(0.5, -0.5) });
    const out = runTensors(node, [new Tensor(DataType.DT_STRING, [], [bytes]), f32([], [0])]);
    assert.deepEqual(nums(out[0]), [0, 1]);
    assert.deepEqual(shapeOf(out[0]), [2, 1]);
    assert.deepEqual(nums(out[1]), [5, 6]);
    assert.deepEqual(nums(out[2]), [2]);
    assert.deepEqual(nums(out[3]), [0.5, -0.5]);
  });
});
