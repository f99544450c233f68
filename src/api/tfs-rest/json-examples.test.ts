import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../../errors.js";
import type { Example } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import type { Feature } from "../../proto/gen/tensorflow/core/example/feature_pb.js";
import { ClassificationResultSchema } from "../../proto/gen/tensorflow_serving/apis/classification_pb.js";
import { RegressionResultSchema } from "../../proto/gen/tensorflow_serving/apis/regression_pb.js";
import { parseClassifyRegressRequest, writeClassifyResponse, writeRegressResponse } from "./json-examples.js";

/** A feature as plain data: ["bytes", ...strings] / ["float", ...numbers] / ["int64", ...bigints] / []. */
function plain(feature: Feature | undefined): unknown[] {
  const kind = feature?.kind;
  switch (kind?.case) {
    case "bytesList":
      return ["bytes", ...kind.value.value.map((b) => Buffer.from(b).toString("latin1"))];
    case "floatList":
      return ["float", ...kind.value.value];
    case "int64List":
      return ["int64", ...kind.value.value];
    default:
      return [];
  }
}

function features(example: Example | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, f] of Object.entries(example?.features?.feature ?? {})) out[name] = plain(f);
  return out;
}

function rejects(body: string, message: string | RegExp): void {
  assert.throws(
    () => parseClassifyRegressRequest(body),
    (e: unknown) => {
      assert.ok(e instanceof ServingError, String(e));
      assert.equal(e.code, Code.INVALID_ARGUMENT);
      if (typeof message === "string") assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

describe("classify/regress request", () => {
  it("maps integers to int64, decimals to float, strings to bytes (RequestNoContext)", () => {
    const { input, signatureName } = parseClassifyRegressRequest(`{
      "examples": [
        { "names": [ "foo", "bar" ], "ratings": [ 8.0, 9.0 ], "age": 20 },
        { "names": [ "baz" ], "ratings": 6.0 }
      ]}`);
    assert.equal(signatureName, undefined);
    assert.equal(input.kind.case, "exampleList");
    const examples = input.kind.value!.examples;
    assert.equal(examples.length, 2);
    assert.deepEqual(features(examples[0]), {
      names: ["bytes", "foo", "bar"],
      ratings: ["float", 8, 9],
      age: ["int64", 20n],
    });
    assert.deepEqual(features(examples[1]), { names: ["bytes", "baz"], ratings: ["float", 6] });
  });

  it("uses example_list_with_context with a context (RequestWithContextAndSignature)", () => {
    const { input, signatureName } = parseClassifyRegressRequest(`{
      "signature_name": "custom_signture",
      "context": { "query": "pizza", "location": [ "sfo" ] },
      "examples": [
        { "names": [ "foo", "bar" ], "ratings": [ 8.0, 9.0, NaN, Infinity ], "age": 20 },
        { "names": [ "baz", { "b64": "aGVsbG8=" } ], "ratings": 6.0, "intboolmix": [ 1, true, false ] },
        { "names": "bar", "ratings": -Infinity }
      ]}`);
    assert.equal(signatureName, "custom_signture");
    assert.equal(input.kind.case, "exampleListWithContext");
    if (input.kind.case !== "exampleListWithContext") return;
    assert.deepEqual(features(input.kind.value.context), {
      query: ["bytes", "pizza"],
      location: ["bytes", "sfo"],
    });
    const [a, b, c] = input.kind.value.examples;
    assert.deepEqual(features(a), {
      names: ["bytes", "foo", "bar"],
      ratings: ["float", 8, 9, Number.NaN, Infinity],
      age: ["int64", 20n],
    });
    assert.deepEqual(features(b), {
      names: ["bytes", "baz", "hello"],
      ratings: ["float", 6],
      intboolmix: ["int64", 1n, 1n, 0n],
    });
    assert.deepEqual(features(c), { names: ["bytes", "bar"], ratings: ["float", -Infinity] });
  });

  it("keeps int64 features exact, stores floats as float32, and accepts empty lists", () => {
    const { input } = parseClassifyRegressRequest(
      '{"examples": [{"big": [-9223372036854775808, 9223372036854775807], "f": [0.1, 1e2], "none": []}]}',
    );
    assert.deepEqual(features(input.kind.value!.examples[0]), {
      big: ["int64", -(2n ** 63n), 2n ** 63n - 1n],
      f: ["float", Math.fround(0.1), 100],
      none: [],
    });
  });

  it("reports TF Serving's errors (JsonErrors)", () => {
    rejects(
      '{"signature_name": [ "hello" ], "examples": [ { "names": [ "foo", "bar" ] } ]}',
      /'signature_name' key must be a string value\.$/,
    );
    rejects(
      '{"context": [ { "names": [ "foo", "bar" ] } ]}',
      "Example must be JSON object but got JSON Array",
    );
    rejects(
      '{"examples": { "names": [ "foo", "bar" ] } }',
      /Expecting 'examples' value to be an list\/array$/,
    );
    rejects(
      '{"examples": [ [ { "names": [ "foo", "bar" ] } ] ]}',
      "Example must be JSON object but got JSON Array",
    );
    rejects(
      '{"examples": [ { "names": [ 10, null ] } ]}',
      "Feature: names has element with unexpected JSON type: Null",
    );
    rejects(
      '{"examples": [ { "names": [ 10, 10.0 ] } ]}',
      "Unexpected element type in feature: names expecting type: int64",
    );
    rejects(
      '{"examples": [ { "names": [ 1.5, 2 ] } ]}',
      "Unexpected element type in feature: names expecting type: float",
    );
    rejects(
      '{"examples": [ { "names": [ "a", 2 ] } ]}',
      "Unexpected element type in feature: names expecting type: bytes",
    );
    rejects(
      '{"examples": [ { "names": [ 10, { "test": 10 } ] } ]}',
      "Feature: names has element with unexpected JSON type: Object",
    );
    rejects(
      '{"examples": [ { "names": [ [10], 20 ] } ]}',
      "Feature: names has element with unexpected JSON type: Array",
    );
    rejects(
      '{"examples": [ { "names": [ 20, 18446744073709551603 ] } ]}',
      "Feature: names has uint64 element. Only int64 is supported.",
    );
    rejects(
      '{"examples": [ { "names": 1.7976931348623157e+308 } ]}',
      "Cannot convert JSON value: 1.7976931348623157e+308 to float without loss of precision.",
    );
    rejects('{"examples": [ { "b": {"b64": "!!"} } ]}', "Unable to base64 decode");
    rejects('{"examples": []}', `JSON Value: {"examples": []} 'examples' value is an empty array`);
    rejects(
      '{"signature_name": "x"}',
      `JSON Value: {"signature_name": "x"} When method is classify, key 'examples' is expected and was not found`,
    );
    rejects('{"examples": [{"a": 1}], "x": [}', "JSON Parse error: Invalid value. at offset: 31");
    rejects("", "JSON Parse error: The document is empty");
  });

  it("checks context before examples, whatever their order", () => {
    rejects('{"examples": [{"a": null}], "context": 5}', "Example must be JSON object but got JSON Number");
  });

  it("keeps a feature named __proto__ as a plain entry", () => {
    const { input } = parseClassifyRegressRequest('{"examples": [{"__proto__": [1], "x": "y"}]}');
    const feature = input.kind.value!.examples[0]!.features!.feature;
    assert.deepEqual(Object.keys(feature), ["__proto__", "x"]);
    assert.equal(Object.getPrototypeOf(feature), Object.getPrototypeOf({}));
  });
});

describe("classify/regress response", () => {
  it("writes classifications as lists of [label, score] pairs, as TF Serving does", () => {
    const result = create(ClassificationResultSchema, {
      classifications: [
        {
          classes: [
            { label: "car", score: 0.2 },
            { label: "bike", score: 0.7 },
            { label: "bus", score: 0.1 },
          ],
        },
        {
          classes: [
            { label: "car", score: 0.7 },
            { label: "bike", score: 0.1 },
            { label: "bus", score: 0.2 },
          ],
        },
      ],
    });
    assert.equal(
      writeClassifyResponse(result),
      '{\n    "results": [[["car", 0.2], ["bike", 0.7], ["bus", 0.1]], [["car", 0.7], ["bike", 0.1], ["bus", 0.2]]\n    ]\n}',
    );
    const scoresOnly = create(ClassificationResultSchema, {
      classifications: [{ classes: [{ score: 1 / 3 }] }, {}],
    });
    assert.equal(writeClassifyResponse(scoresOnly), '{\n    "results": [[["", 0.333333343]], []\n    ]\n}');
  });

  it("writes regressions as one list of values", () => {
    const result = create(RegressionResultSchema, {
      regressions: [{ value: 0.2 }, { value: 0.9 }, { value: 1 }],
    });
    assert.equal(writeRegressResponse(result), '{\n    "results": [0.2, 0.9, 1.0]\n}');
    const nonFinite = create(RegressionResultSchema, {
      regressions: [0.2, Infinity, 1, -Infinity, Number.NaN].map((value) => ({ value })),
    });
    assert.equal(
      writeRegressResponse(nonFinite),
      '{\n    "results": [0.2, Infinity, 1.0, -Infinity, NaN]\n}',
    );
  });

  it("refuses empty results", () => {
    assert.throws(
      () => writeClassifyResponse(create(ClassificationResultSchema)),
      /Cannot convert empty ClassificationResults to JSON/,
    );
    assert.throws(
      () => writeRegressResponse(create(RegressionResultSchema)),
      /Cannot convert empty RegressionResults to JSON/,
    );
  });
});
