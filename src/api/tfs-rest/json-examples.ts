// The classify/regress half of TF Serving's REST JSON codec (util/json_tensor.cc
// FillClassifyRegressRequestFromJson, MakeJsonFromClassificationResult / ...RegressionResult).
//
// Request: {"signature_name": s?, "context": {...}?, "examples": [{...}, ...]}; each example object
// becomes a tf.Example whose features are scalars or flat lists of one kind: JSON integers (and
// true/false) → int64_list, numbers with a '.' or exponent (NaN/Infinity too) → float_list, strings and
// {"b64": ...} → bytes_list. `2` and `2.0` are different kinds; mixing kinds in a list is an error.
// With `context` the input is example_list_with_context, else example_list.
//
// Response: {"results": [[[label, score], ...], ...]} (classify: one list of [label, score] pairs per
// example) or {"results": [value, ...]} (regress), in TF Serving's exact layout and float text.

import { create } from "@bufbuild/protobuf";
import { invalidArgument, type ServingError } from "../../errors.js";
import { type Example, ExampleSchema } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import {
  type Feature,
  FeatureSchema,
  FeaturesSchema,
} from "../../proto/gen/tensorflow/core/example/feature_pb.js";
import type { ClassificationResult } from "../../proto/gen/tensorflow_serving/apis/classification_pb.js";
import { type Input, InputSchema } from "../../proto/gen/tensorflow_serving/apis/input_pb.js";
import type { RegressionResult } from "../../proto/gen/tensorflow_serving/apis/regression_pb.js";
import {
  consumeValueText,
  expectTopLevelObject,
  formatError,
  guarded,
  lossyError,
  readBase64Object,
} from "./json-messages.js";
import { JsonReader, type JsonReaderOptions, Kind, kindName } from "./json-reader.js";
import { PrettyJsonWriter } from "./json-writer.js";

export interface ClassifyRegressRequestJson {
  /** `signature_name` as sent (absent → undefined). */
  signatureName?: string;
  /** example_list, or example_list_with_context when `context` was given. */
  input: Input;
}

const FLT_MAX = 3.4028234663852886e38;
const MAX_INT64 = 2n ** 63n - 1n;

type FeatureKind = "bytes" | "float" | "int64";

/** One feature's values as they are read (AddValueToFeature). */
class FeatureValues {
  kind: FeatureKind | undefined;
  readonly bytes: Uint8Array[] = [];
  readonly floats: number[] = [];
  readonly ints: bigint[] = [];

  constructor(readonly name: string) {}

  private expect(kind: FeatureKind): void {
    if (this.kind === undefined) this.kind = kind;
    else if (this.kind !== kind) {
      throw invalidArgument(`Unexpected element type in feature: ${this.name} expecting type: ${this.kind}`);
    }
  }

  add(r: JsonReader): void {
    const kind = r.peekKind();
    switch (kind) {
      case Kind.True:
      case Kind.False:
        this.expect("int64");
        this.ints.push(r.readLiteral() ? 1n : 0n);
        return;
      case Kind.String:
        this.expect("bytes");
        this.bytes.push(r.readStringBytes());
        return;
      case Kind.Object:
        if (!r.isBase64Object()) throw this.unexpected(r, kind);
        this.expect("bytes");
        this.bytes.push(readBase64Object(r));
        return;
      case Kind.Number:
        r.readNumber();
        if (!r.numIsInt) {
          this.expect("float");
          const v = r.exactValue();
          if ((v > FLT_MAX || v < -FLT_MAX) && Number.isFinite(v)) throw lossyError(r, "float");
          this.floats.push(Math.fround(v));
        } else {
          this.expect("int64");
          const big = r.numBig;
          if (big !== undefined && big > MAX_INT64) {
            throw invalidArgument(`Feature: ${this.name} has uint64 element. Only int64 is supported.`);
          }
          this.ints.push(big ?? BigInt(r.numValue));
        }
        return;
      default:
        throw this.unexpected(r, kind);
    }
  }

  private unexpected(r: JsonReader, kind: Kind): ServingError {
    consumeValueText(r, kind);
    return invalidArgument(`Feature: ${this.name} has element with unexpected JSON type: ${kindName(kind)}`);
  }

  toFeature(): Feature {
    switch (this.kind) {
      case "bytes":
        return create(FeatureSchema, { kind: { case: "bytesList", value: { value: this.bytes } } });
      case "float":
        return create(FeatureSchema, { kind: { case: "floatList", value: { value: this.floats } } });
      case "int64":
        return create(FeatureSchema, { kind: { case: "int64List", value: { value: this.ints } } });
      default:
        return create(FeatureSchema);
    }
  }
}

/** MakeExampleFromJsonObject: one JSON object → tf.Example (a repeated name keeps its last value). */
function readExample(r: JsonReader): Example {
  const kind = r.peekKind();
  if (kind !== Kind.Object) {
    consumeValueText(r, kind);
    throw invalidArgument(`Example must be JSON object but got JSON ${kindName(kind)}`);
  }
  const features = create(FeaturesSchema);
  r.beginObject();
  for (let name = r.nextKey(); name !== undefined; name = r.nextKey()) {
    const values = new FeatureValues(name);
    if (r.peekKind() === Kind.Array) {
      r.beginArray();
      while (r.nextElement()) values.add(r);
    } else {
      values.add(r);
    }
    // defineProperty: a feature named "__proto__" must stay a plain map entry.
    Object.defineProperty(features.feature, name, {
      value: values.toFeature(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return create(ExampleSchema, { features });
}

function readExamples(r: JsonReader): Example[] {
  if (r.peekKind() !== Kind.Array) throw formatError(r, "Expecting 'examples' value to be an list/array");
  r.beginArray();
  const examples: Example[] = [];
  while (r.nextElement()) examples.push(readExample(r));
  if (examples.length === 0) throw formatError(r, "'examples' value is an empty array");
  return examples;
}

/**
 * Parses a classify or regress request body as TF Serving's REST API does.
 *
 * @example
 * const { input } = parseClassifyRegressRequest('{"examples": [{"x": 1.0, "tags": ["a", "b"]}]}');
 * // input.kind.case === "exampleList"; x → float_list [1], tags → bytes_list ["a", "b"]
 */
export function parseClassifyRegressRequest(
  body: string | Uint8Array,
  options: JsonReaderOptions = {},
): ClassifyRegressRequestJson {
  const r = new JsonReader(body, options);
  expectTopLevelObject(r);
  let sigSeen = false;
  let sigName: string | undefined;
  let sigBad = false;
  let context: ReturnType<typeof guarded<Example>> | undefined;
  let examples: ReturnType<typeof guarded<Example[]>> | undefined;
  r.beginObject();
  for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
    if (key === "signature_name" && !sigSeen) {
      sigSeen = true;
      if (r.peekKind() === Kind.String) sigName = r.readString();
      else {
        sigBad = true;
        r.skipValue();
      }
    } else if (key === "context" && !context) {
      context = guarded(r, () => readExample(r));
    } else if (key === "examples" && !examples) {
      examples = guarded(r, () => readExamples(r));
    } else {
      r.skipValue();
    }
  }
  r.finish();
  // TF's order: signature_name, then context, then examples.
  if (sigBad) throw formatError(r, "not formatted correctly. 'signature_name' key must be a string value.");
  if (context && !context.ok) throw context.error;
  if (!examples)
    throw formatError(r, "When method is classify, key 'examples' is expected and was not found");
  if (!examples.ok) throw examples.error;
  const input = context
    ? create(InputSchema, {
        kind: { case: "exampleListWithContext", value: { context: context.value, examples: examples.value } },
      })
    : create(InputSchema, { kind: { case: "exampleList", value: { examples: examples.value } } });
  return sigName === undefined ? { input } : { signatureName: sigName, input };
}

/**
 * Writes a ClassificationResult as TF Serving does: one list of [label, score] pairs per example.
 *
 * @example
 * writeClassifyResponse(result);
 * // '{\n    "results": [[["car", 0.2], ["bike", 0.7]], [["car", 0.7], ["bike", 0.1]]\n    ]\n}'
 */
export function writeClassifyResponse(result: ClassificationResult): string {
  if (result.classifications.length === 0) {
    throw invalidArgument("Cannot convert empty ClassificationResults to JSON");
  }
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key("results");
  w.startArray();
  for (const classifications of result.classifications) {
    w.singleLineArrays = true;
    w.startArray();
    for (const c of classifications.classes) {
      w.startArray();
      w.string(c.label);
      w.float32(Math.fround(c.score));
      w.endArray();
    }
    w.endArray();
    w.singleLineArrays = false;
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

/**
 * Writes a RegressionResult as TF Serving does: one value per example.
 *
 * @example
 * writeRegressResponse(result); // '{\n    "results": [0.2, 0.9, 1.0]\n}'
 */
export function writeRegressResponse(result: RegressionResult): string {
  if (result.regressions.length === 0)
    throw invalidArgument("Cannot convert empty RegressionResults to JSON");
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key("results");
  w.singleLineArrays = true;
  w.startArray();
  for (const r of result.regressions) w.float32(Math.fround(r.value));
  w.endArray();
  w.endObject();
  return w.toString();
}
