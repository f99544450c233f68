// TF Serving's JSON error messages (util/json_tensor.cc), shared by the predict and classify/regress
// codecs: "JSON Value: <v> Type: <t> is not of expected type: <dtype>", the lossy-decimal error, the
// base64 object errors, the whole-document FormatError.

import { invalidArgument, ServingError } from "../../errors.js";
import { type DataType, tfTypeName } from "../../tensor/dtype.js";
import { decodeBase64, type JsonReader, JsonSyntaxError, Kind, kindName } from "./json-reader.js";
import { formatFloat32, formatFloat64 } from "./json-writer.js";

/** rapidjson's Value::IsFloat() range: doubles in it print through float in JsonValueToString. */
const RAPIDJSON_FLOAT_RANGE = 3.4028234e38;

/** JsonValueToString of the number token just read by r.readNumber(). */
export function numberText(r: JsonReader): string {
  if (r.numIsInt) return r.numBig !== undefined ? r.numBig.toString() : String(r.numValue);
  const v = r.exactValue();
  return v >= -RAPIDJSON_FLOAT_RANGE && v <= RAPIDJSON_FLOAT_RANGE ? formatFloat32(v) : formatFloat64(v);
}

/** Consumes the value at r.pos (of the given kind) and returns its text for a message. */
export function consumeValueText(r: JsonReader, kind: Kind): string {
  r.skipWs();
  const start = r.pos;
  if (kind === Kind.Number) {
    r.readNumber();
    return numberText(r);
  }
  r.skipValue();
  return r.text(start, r.pos);
}

/** "JSON Value: v Type: T is not of expected type: dtype" for the value at r.pos (consumed). */
export function typeError(r: JsonReader, kind: Kind, dtype: DataType): ServingError {
  const text = consumeValueText(r, kind);
  return invalidArgument(
    `JSON Value: ${text} Type: ${kindName(kind)} is not of expected type: ${tfTypeName(dtype)}`,
  );
}

/** The same, for the number token just read. */
export function numberTypeError(r: JsonReader, dtype: DataType): ServingError {
  return invalidArgument(
    `JSON Value: ${numberText(r)} Type: Number is not of expected type: ${tfTypeName(dtype)}`,
  );
}

/** LossyDecimalError for the number token just read. */
export function lossyError(r: JsonReader, target: string): ServingError {
  return invalidArgument(
    `Cannot convert JSON value: ${numberText(r)} to ${target} without loss of precision.`,
  );
}

/** FormatError(doc, ...): the whole document's text, then the complaint. */
export function formatError(r: JsonReader, message: string): ServingError {
  return invalidArgument(`JSON Value: ${r.text(0, r.end)} ${message}`);
}

/**
 * Re-raises an error from one item with TF's wrapping ("Failed to process element: 3 of 'instances'
 * list. Error: INVALID_ARGUMENT: ..."). Syntax errors pass through unchanged.
 */
export function wrapItemError(error: unknown, prefix: string): unknown {
  if (error instanceof JsonSyntaxError || !(error instanceof ServingError)) return error;
  return invalidArgument(`${prefix}${error.codeName}: ${error.message}`);
}

/**
 * Checks the document is a non-empty JSON object; when it is some other value, validates it all
 * first (a syntax error wins, as rapidjson parses before json_tensor.cc looks) and then complains.
 */
export function expectTopLevelObject(r: JsonReader): void {
  const c = r.skipWs();
  if (c === -1) r.fail("The document is empty.");
  if (c !== 123) {
    r.skipValue();
    r.finish();
    throw formatError(r, "Is not object");
  }
}

/** Reads `{"b64": "..."}` at r.pos (a '{') as bytes, with TF's errors for other objects and bad base64. */
export function readBase64Object(r: JsonReader): Uint8Array {
  const start = r.pos;
  if (!r.isBase64Object()) {
    r.skipValue();
    throw invalidArgument(`JSON Value: ${r.text(start, r.pos)} not formatted correctly for base64 data`);
  }
  r.beginObject();
  r.skipKey();
  r.skipWs();
  const encoded = r.readStringBinary();
  r.skipKey(); // the closing '}'
  const bytes = decodeBase64(encoded);
  if (!bytes) throw invalidArgument("Unable to base64 decode");
  return bytes;
}

/**
 * Runs `parse` on the value at r.pos. A semantic error (not a syntax error) is caught: the value is
 * skipped (validated) from its start and the error returned, so the caller can keep checking the rest
 * of the document first, as TF Serving parses the whole body before interpreting it.
 */
export function guarded<T>(
  r: JsonReader,
  parse: () => T,
): { ok: true; value: T } | { ok: false; error: unknown } {
  r.skipWs();
  const start = r.pos;
  const depth = r.depth;
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    if (error instanceof JsonSyntaxError || !(error instanceof ServingError)) throw error;
    r.rewind(start, depth);
    r.skipValue();
    return { ok: false, error };
  }
}
