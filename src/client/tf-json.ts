// TF Serving's JSON dialect for the REST client: it writes and reads the bare tokens NaN, Infinity and
// -Infinity, and int64 values as plain JSON numbers beyond 2^53, neither of which JSON.parse/stringify
// handle. Reading keeps such integers exact as bigints.
import { invalidArgument } from "../errors.js";
import { DataType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";

/** A JSON value as TF Serving writes it; integers a double cannot hold exactly are bigints. */
export type TfJson = null | boolean | number | bigint | string | TfJson[] | { [key: string]: TfJson };

/** A number as TF's JSON: the bare tokens for non-finite values, else JS's shortest form. */
export function jsonNumber(n: number): string {
  if (Number.isFinite(n)) return String(n);
  return Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
}

/**
 * A number that TF Serving's classify/regress reader must see as a float (it reads `2` as int64 and
 * `2.0` as float): integers get a `.0`.
 */
export function jsonFloat(n: number): string {
  const text = jsonNumber(n);
  return Number.isFinite(n) && /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/** The shortest decimal that reads back as the same float32 (fewer digits than a double's form). */
function float32Text(x: number): string {
  if (!Number.isFinite(x)) return jsonNumber(x);
  for (let digits = 1; digits < 10; digits++) {
    const text = x.toPrecision(digits);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(x);
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A byte string as JSON: a JSON string when it is valid UTF-8, else `{"b64": …}`. */
export function jsonBytes(bytes: Uint8Array): string {
  try {
    return JSON.stringify(fatalUtf8.decode(bytes));
  } catch {
    return `{"b64":"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}"}`;
  }
}

/**
 * A tensor as nested JSON lists (TF Serving's columnar `inputs` value); complex, half and bfloat16
 * tensors have no JSON form in TF Serving and are an INVALID_ARGUMENT.
 *
 * @example
 * tensorJson(new Tensor(DataType.DT_FLOAT, [1, 2], new Float32Array([1, 0.1]))); // "[[1,0.1]]"
 */
export function tensorJson(tensor: Tensor): string {
  const element = elementWriter(tensor);
  const parts: string[] = [];
  let pos = 0;
  const write = (depth: number): void => {
    if (depth === tensor.shape.length) {
      parts.push(element(pos++));
      return;
    }
    parts.push("[");
    const size = tensor.shape[depth] ?? 0;
    for (let i = 0; i < size; i++) {
      if (i > 0) parts.push(",");
      write(depth + 1);
    }
    parts.push("]");
  };
  write(0);
  return parts.join("");
}

function elementWriter(tensor: Tensor): (i: number) => string {
  switch (tensor.dtype) {
    case DataType.DT_STRING: {
      const strings = tensor.strings;
      return (i) => jsonBytes(strings[i] as Uint8Array);
    }
    case DataType.DT_FLOAT: {
      const values = tensor.values as Float32Array;
      return (i) => float32Text(values[i] as number);
    }
    case DataType.DT_DOUBLE: {
      const values = tensor.values as Float64Array;
      return (i) => jsonNumber(values[i] as number);
    }
    case DataType.DT_BOOL: {
      const values = tensor.values as Uint8Array;
      return (i) => (values[i] ? "true" : "false");
    }
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT64: {
      const values = tensor.values;
      return (i) => String(values[i]);
    }
    default:
      throw invalidArgument(`TF Serving's REST API cannot carry ${DataType[tensor.dtype]} tensors; use gRPC`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;

/**
 * Parses TF Serving's JSON: standard JSON plus NaN / Infinity / -Infinity; an integer a double cannot
 * hold exactly becomes a bigint.
 *
 * @example
 * parseTfJson('{"outputs": [NaN, 9007199254740993]}'); // { outputs: [NaN, 9007199254740993n] }
 */
export function parseTfJson(text: string): TfJson {
  let i = 0;
  const fail = (what: string): never => {
    throw invalidArgument(`malformed JSON from the server: ${what} at offset ${i}`);
  };
  const skip = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 10 || c === 13 || c === 9; c = text.charCodeAt(++i));
  };
  const literal = <T extends TfJson>(word: string, value: T): T => {
    if (!text.startsWith(word, i)) fail(`unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
    i += word.length;
    return value;
  };
  const string = (): string => {
    const start = i;
    for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    if (i >= text.length) fail("unterminated string");
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): TfJson => {
    skip();
    const c = text[i];
    if (c === "{") {
      i++;
      const out: { [key: string]: TfJson } = {};
      skip();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') fail("expected a key");
        const key = string();
        skip();
        if (text[i++] !== ":") fail("expected ':'");
        out[key] = value();
        skip();
        const sep = text[i++];
        if (sep === "}") return out;
        if (sep !== ",") fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const out: TfJson[] = [];
      skip();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        skip();
        const sep = text[i++];
        if (sep === "]") return out;
        if (sep !== ",") fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true", true);
    if (c === "f") return literal("false", false);
    if (c === "n") return literal("null", null);
    if (c === "N") return literal("NaN", Number.NaN);
    if (c === "I") return literal("Infinity", Number.POSITIVE_INFINITY);
    if (c === "-" && text[i + 1] === "I") return literal("-Infinity", Number.NEGATIVE_INFINITY);
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail("unexpected character");
    i += m[0].length;
    const n = Number(m[0]);
    return Number.isSafeInteger(n) || !/^-?\d+$/.test(m[0]) ? n : BigInt(m[0]);
  };
  const result = value();
  skip();
  if (i < text.length) fail("trailing characters");
  return result;
}
