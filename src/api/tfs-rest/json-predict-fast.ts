// The common predict request, parsed by the engine's native JSON.parse: a small body (up to 64 KiB)
// carrying one float input as plain nested lists of numbers, `{"instances": [[0.1, 0.2], ...]}` or
// `{"inputs": [[0.1, 0.2], ...]}`.
//
// It gives exactly what the exact reader (json-predict.ts) gives for such a body: JSON.parse rounds each
// number correctly to a double, as the reader does, and storing it in a Float32Array rounds it once more,
// as TF does. Anything it cannot vouch for — other dtypes, several inputs, objects, strings, an integer
// token that might not fit the dtype, a -0 that might be the integer 0, a key sent twice, non-ASCII bytes, any error at all — returns
// undefined, and the exact reader decides, with TF Serving's messages.

import { isAscii } from "node:buffer";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { baseDType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";

/** The parsed request, as parsePredictRequest returns it. */
export interface FastPredictRequest {
  signatureName?: string;
  format: "row" | "columnar";
  inputs: Map<string, Tensor>;
}

const FLT_MAX = 3.4028234663852886e38;
/** Integers beyond these may have been integer tokens the dtype cannot hold exactly (TF rejects those). */
const FLOAT_EXACT_INT = 16777215;
const DOUBLE_EXACT_INT = Number.MAX_SAFE_INTEGER;
/** Deeper tensors are rare; they take the exact reader. */
const MAX_RANK = 8;
/**
 * Larger bodies take the exact reader, which streams numbers straight into typed arrays: JSON.parse
 * would build a JS array element per number first (several times the memory of the tensor). The
 * fast path is for the small requests whose fixed costs dominate.
 */
export const MAX_FAST_BODY_BYTES = 64 * 1024;

interface FloatInput {
  readonly alias: string;
  readonly dtype: DataType;
}

/** Per SignatureDef (immutable once loaded): its one float input, or null. */
const floatInputs = new WeakMap<SignatureDef, FloatInput | null>();

/** The one float input of a signature, or undefined. */
function floatInput(sig: SignatureDef): FloatInput | undefined {
  let found = floatInputs.get(sig);
  if (found === undefined) {
    const aliases = Object.keys(sig.inputs);
    const alias = aliases.length === 1 ? (aliases[0] ?? "") : "";
    const dtype = baseDType(sig.inputs[alias]?.dtype ?? DataType.DT_INVALID);
    found = dtype === DataType.DT_FLOAT || dtype === DataType.DT_DOUBLE ? { alias, dtype } : null;
    floatInputs.set(sig, found);
  }
  return found ?? undefined;
}

/** Whether `"key"` occurs exactly once in the text (so JSON.parse cannot have dropped a duplicate). */
function once(text: string, quotedKey: string): boolean {
  const at = text.indexOf(quotedKey);
  return at >= 0 && text.indexOf(quotedKey, at + quotedKey.length) < 0;
}

/**
 * Parses `body` when it is the common float case (see the top of this file); undefined means "use the
 * exact reader". `resolve` maps `signature_name` (undefined when absent) to its SignatureDef, or throws.
 */
export function parseFloatPredictFast(
  body: string | Uint8Array,
  resolve: (signatureName: string | undefined) => SignatureDef,
  maxDepth: number,
): FastPredictRequest | undefined {
  if (body.length > MAX_FAST_BODY_BYTES) return undefined;
  let text: string;
  if (typeof body === "string") {
    if (!/^[\x20-\x7e\t\n\r]*$/.test(body)) return undefined;
    text = body;
  } else {
    if (!isAscii(body)) return undefined;
    text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const request = json as Record<string, unknown>;
  let value: unknown;
  let format: "row" | "columnar" | undefined;
  let signatureName: string | undefined;
  for (const key in request) {
    if (key === "instances" || key === "inputs") {
      const row = key === "instances";
      if (format !== undefined || !once(text, row ? '"instances"' : '"inputs"')) return undefined;
      format = row ? "row" : "columnar";
      value = request[key];
    } else if (key === "signature_name") {
      const name = request[key];
      if (typeof name !== "string" || !once(text, '"signature_name"')) return undefined;
      signatureName = name;
    } else {
      return undefined;
    }
  }
  if (format === undefined) return undefined;
  let sig: SignatureDef;
  try {
    sig = resolve(signatureName);
  } catch {
    return undefined;
  }
  const input = floatInput(sig);
  if (!input) return undefined;
  const shape = format === "row" ? rowShape(value) : denseShape(value);
  // The body nests one object and then one array per dimension.
  if (!shape || shape.length > MAX_RANK || shape.length + 1 > maxDepth) return undefined;
  let size = 1;
  for (const d of shape) size *= d;
  const float = input.dtype === DataType.DT_FLOAT;
  const data = float ? new Float32Array(size) : new Float64Array(size);
  const filled = fill(value, shape, 0, data, 0, float ? FLOAT_EXACT_INT : DOUBLE_EXACT_INT, float);
  if (filled !== size) return undefined;
  const inputs = new Map<string, Tensor>();
  inputs.set(input.alias, new Tensor(input.dtype, shape, data));
  return signatureName === undefined ? { format, inputs } : { signatureName, format, inputs };
}

/** Row format: a non-empty list of items; the shape is [items, ...the first item's shape]. */
function rowShape(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const item = denseShape(value[0]);
  return item ? [value.length, ...item] : undefined;
}

/** The shape along the first element at each depth (checked against every list by `fill`). */
function denseShape(value: unknown): number[] | undefined {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    if (v.length === 0 || shape.length === MAX_RANK) return undefined; // (and stops a runaway nest)
    shape.push(v.length);
    v = v[0];
  }
  return typeof v === "number" ? shape : undefined;
}

/**
 * Writes the numbers of `value` (expected to have `shape` from `dim` on) into `out` from `at`; returns
 * the next index, or -1 for anything the exact reader must judge (ragged lists, non-numbers, integers
 * past `maxInt`, floats past float32 range).
 */
function fill(
  value: unknown,
  shape: readonly number[],
  dim: number,
  out: Float32Array | Float64Array,
  at: number,
  maxInt: number,
  float: boolean,
): number {
  if (!Array.isArray(value) || value.length !== shape[dim]) return -1;
  if (dim === shape.length - 1) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== "number") return -1;
      if (Number.isInteger(v) ? v > maxInt || v < -maxInt : float && (v > FLT_MAX || v < -FLT_MAX)) {
        return -1;
      }
      // -0 may have been the integer token "-0", which TF reads as 0 ("-0.0" stays -0).
      if (v === 0 && 1 / v < 0) return -1;
      out[at++] = v;
    }
    return at;
  }
  for (let i = 0; i < value.length && at >= 0; i++) {
    at = fill(value[i], shape, dim + 1, out, at, maxInt, float);
  }
  return at;
}
