// tf.Example feature objects for classify/regress: one normal form, then either the protobuf Example
// (gRPC) or TF Serving's REST JSON, where the number's spelling carries the kind (2 = int64, 2.0 = float).
import type { MessageInitShape } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors.js";
import type { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import { jsonBytes, jsonFloat } from "./tf-json.js";
import type { Example, FeatureValue } from "./types.js";

/** A feature in normal form. */
export type NormalFeature =
  | { readonly kind: "float"; readonly values: readonly number[] }
  | { readonly kind: "int64"; readonly values: readonly bigint[] }
  | { readonly kind: "bytes"; readonly values: readonly Uint8Array[] };

const utf8 = new TextEncoder();

const toBigInt = (v: number | bigint): bigint => {
  if (typeof v === "bigint") return v;
  if (!Number.isInteger(v)) throw invalidArgument(`int64 feature value ${v} is not an integer`);
  return BigInt(v);
};
const toBytes = (v: string | Uint8Array): Uint8Array => (typeof v === "string" ? utf8.encode(v) : v);

/**
 * One feature value in normal form: numbers are floats, bigints and booleans int64s, strings and
 * Uint8Arrays bytes; `{ floatList }`, `{ int64List }`, `{ bytesList }` say it explicitly.
 *
 * @example
 * normalFeature(1.5); // { kind: "float", values: [1.5] }
 * normalFeature({ int64List: [3] }); // { kind: "int64", values: [3n] }
 */
export function normalFeature(value: FeatureValue): NormalFeature {
  if (value instanceof Float32Array) return { kind: "float", values: Array.from(value) };
  if (value instanceof BigInt64Array) return { kind: "int64", values: Array.from(value) };
  if (value instanceof Uint8Array) return { kind: "bytes", values: [value] };
  if (typeof value === "object" && !Array.isArray(value)) {
    if ("floatList" in value) return { kind: "float", values: Array.from(value.floatList) };
    if ("int64List" in value) return { kind: "int64", values: Array.from(value.int64List, toBigInt) };
    if ("bytesList" in value) return { kind: "bytes", values: value.bytesList.map(toBytes) };
  }
  const list: readonly unknown[] = Array.isArray(value) ? value : [value];
  const first = list[0];
  const all = <T>(check: (v: unknown) => v is T, kind: string): T[] => {
    if (!list.every(check)) throw invalidArgument(`a feature list mixes ${kind} with other kinds of values`);
    return list as T[];
  };
  if (first === undefined || typeof first === "number") {
    return { kind: "float", values: all((v): v is number => typeof v === "number", "numbers") };
  }
  if (typeof first === "bigint") {
    return { kind: "int64", values: all((v): v is bigint => typeof v === "bigint", "bigints") };
  }
  if (typeof first === "boolean") {
    const flags = all((v): v is boolean => typeof v === "boolean", "booleans");
    return { kind: "int64", values: flags.map((b) => (b ? 1n : 0n)) };
  }
  const bytes = all(
    (v): v is string | Uint8Array => typeof v === "string" || v instanceof Uint8Array,
    "bytes",
  );
  return { kind: "bytes", values: bytes.map(toBytes) };
}

/**
 * An Example object as the protobuf `tensorflow.Example` init shape.
 *
 * @example
 * create(ExampleSchema, exampleProto({ x: 1 })); // features.feature.x.floatList.value = [1]
 */
export function exampleProto(example: Example): MessageInitShape<typeof ExampleSchema> {
  const feature: NonNullable<NonNullable<MessageInitShape<typeof ExampleSchema>["features"]>["feature"]> = {};
  for (const [name, value] of Object.entries(example)) {
    const f = normalFeature(value);
    feature[name] =
      f.kind === "float"
        ? { kind: { case: "floatList", value: { value: [...f.values] } } }
        : f.kind === "int64"
          ? { kind: { case: "int64List", value: { value: [...f.values] } } }
          : { kind: { case: "bytesList", value: { value: [...f.values] } } };
  }
  return { features: { feature } };
}

/**
 * An Example object as TF Serving's REST JSON object (`{"x":[1.0],"tag":["a"]}`): floats always
 * carry a decimal point or exponent, int64s never do, bytes are strings or `{"b64": …}`.
 *
 * @example
 * exampleJson({ x: 1, n: 2n }); // '{"x":[1.0],"n":[2]}'
 */
export function exampleJson(example: Example): string {
  const fields = Object.entries(example).map(([name, value]) => {
    const f = normalFeature(value);
    const items =
      f.kind === "float"
        ? f.values.map(jsonFloat)
        : f.kind === "int64"
          ? f.values.map(String)
          : f.values.map(jsonBytes);
    return `${JSON.stringify(name)}:[${items.join(",")}]`;
  });
  return `{${fields.join(",")}}`;
}
