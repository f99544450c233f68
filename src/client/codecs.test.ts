// The client's value conversions without a server: plain values ⇄ Tensor, TF's JSON dialect, tf.Examples.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { exampleJson, exampleProto } from "./examples.js";
import { codeForHttpStatus } from "./rest-client.js";
import { tensorToArray, toTensor } from "./tensors.js";
import { jsonFloat, parseTfJson, tensorJson } from "./tf-json.js";

describe("client tensors", () => {
  it("infers shape from nesting and dtype from the values or the hint", () => {
    const t = toTensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(t.dtype, DataType.DT_FLOAT);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(toTensor([5, 6], DataType.DT_INT64).values, new BigInt64Array([5n, 6n]));
    assert.deepEqual(toTensor(7).shape, []);
    assert.equal(toTensor([[true]]).dtype, DataType.DT_BOOL);
    assert.deepEqual(toTensor(["a", "bc"]).strings, [new Uint8Array([97]), new Uint8Array([98, 99])]);
    assert.equal(toTensor(new Int32Array([1, 2])).dtype, DataType.DT_INT32);
    assert.deepEqual(toTensor([[], []]).shape, [2, 0]);
  });

  it("rejects ragged lists and values the dtype cannot hold", () => {
    const invalid = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT);
    invalid(() => toTensor([[1, 2], [3]]));
    invalid(() => toTensor([[1], 2] as never));
    invalid(() => toTensor([1.5], DataType.DT_INT32));
    invalid(() => toTensor(["a"], DataType.DT_FLOAT));
  });

  it("turns tensors back into nested arrays", () => {
    assert.deepEqual(
      tensorToArray(
        toTensor([
          [1, 2],
          [3, 4],
        ]),
      ),
      [
        [1, 2],
        [3, 4],
      ],
    );
    assert.deepEqual(tensorToArray(toTensor([true, false])), [true, false]);
    assert.deepEqual(tensorToArray(toTensor([["x"]])), [["x"]]);
    assert.equal(tensorToArray(toTensor(2.5)), 2.5);
    assert.deepEqual(tensorToArray(new Tensor(DataType.DT_HALF, [1], new Uint16Array([0x3c00]))), [1]);
  });
});

describe("client JSON", () => {
  it("reads NaN/Infinity tokens and keeps big int64 exact", () => {
    assert.deepEqual(
      parseTfJson('{"outputs": [NaN, Infinity, -Infinity, 9007199254740993, 1.5e3, "s\\"q"]}'),
      {
        outputs: [
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          9007199254740993n,
          1500,
          's"q',
        ],
      },
    );
    assert.throws(() => parseTfJson("[1,"), ServingError);
  });

  it("writes tensors with TF's tokens and the shortest float32 text", () => {
    assert.equal(tensorJson(toTensor([[0.1, Number.NaN, 3]])), "[[0.1,NaN,3]]");
    assert.equal(tensorJson(toTensor([2n ** 62n])), "[4611686018427387904]");
    assert.equal(tensorJson(toTensor([new Uint8Array([0xff]), "ok"])), '[{"b64":"/w=="},"ok"]');
    assert.equal(jsonFloat(2), "2.0");
    assert.equal(jsonFloat(-Infinity), "-Infinity");
  });

  it("maps HTTP statuses back to codes", () => {
    assert.equal(codeForHttpStatus(404), Code.NOT_FOUND);
    assert.equal(codeForHttpStatus(400), Code.INVALID_ARGUMENT);
    assert.equal(codeForHttpStatus(504), Code.DEADLINE_EXCEEDED);
    assert.equal(codeForHttpStatus(502), Code.INTERNAL);
  });
});

describe("client tf.Examples", () => {
  it("numbers are floats, bigints and booleans int64s, strings bytes", () => {
    assert.equal(
      exampleJson({ x: 1, n: 2n, b: true, s: "a", f: { floatList: [3] }, i: { int64List: [4] } }),
      '{"x":[1.0],"n":[2],"b":[1],"s":["a"],"f":[3.0],"i":[4]}',
    );
    const proto = create(ExampleSchema, exampleProto({ x: [1, 2], tag: ["a"] }));
    const feature = proto.features?.feature;
    assert.deepEqual(feature?.x?.kind, { case: "floatList", value: feature?.x?.kind.value });
    assert.deepEqual(feature?.x?.kind.case === "floatList" && feature.x.kind.value.value, [1, 2]);
    assert.equal(feature?.tag?.kind.case, "bytesList");
  });
});
