// The predict half of TF Serving's REST JSON codec (util/json_tensor.cc FillPredictRequestFromJson /
// MakeJsonFromTensors), reading numbers straight into typed arrays and writing text straight from them.
//
// Request: {"signature_name": s?, "instances": [...]} (row format: one item per batch row, the batch
// dimension is the item count) or {"inputs": ...} (columnar: each input's value is its whole tensor).
// Shapes follow the JSON nesting: the lengths along the first element at each depth, every other list
// the same (ragged → INVALID_ARGUMENT). Values convert to each input's signature dtype with TF's rules,
// and never lose anything silently (out-of-range ints, 1.5 for an int, int64 past 2^63−1 → errors).
//
// Response: row → {"predictions": [...]} (one output: its per-row values; several: one object per
// row), columnar → {"outputs": ...} (one output: its value; several: an object), in rapidjson's
// PrettyWriter layout, byte for byte as TF Serving writes it (multi-output objects in map order).

import { shapeDebugString } from "../../core/inference/index.js";
import { invalidArgument, type ServingError, unimplemented } from "../../errors.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { baseDType, type NumericArray, tfTypeName } from "../../tensor/dtype.js";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../../tensor/half.js";
import { Tensor } from "../../tensor/tensor.js";
import {
  consumeValueText,
  expectTopLevelObject,
  formatError,
  guarded,
  lossyError,
  numberTypeError,
  readBase64Object,
  typeError,
  wrapItemError,
} from "./json-messages.js";
import { parseFloatPredictFast } from "./json-predict-fast.js";
import { DEFAULT_MAX_DEPTH, JsonReader, type JsonReaderOptions, Kind } from "./json-reader.js";
import { isValidUtf8, PrettyJsonWriter, writeFloat32 } from "./json-writer.js";

export type PredictFormat = "row" | "columnar";

export interface PredictRequestJson {
  /** `signature_name` as sent (absent → undefined; TF treats "" like absent). */
  signatureName?: string;
  /** "row" for `instances`, "columnar" for `inputs`; the response must use the same. */
  format: PredictFormat;
  /** One tensor per signature input alias. */
  inputs: Map<string, Tensor>;
}

/**
 * The signature the request is for: a SignatureDef, or a resolver called with the request's
 * `signature_name` (undefined when absent; "" should also mean the default) that returns it or throws
 * (e.g. TF's INVALID_ARGUMENT `Serving signature name: "x" not found in signature def`).
 *
 * With a resolver, tensors met before `signature_name` are read for the default signature and read
 * again only if the named one is a different object, so return the same SignatureDef object each time.
 */
export type SignatureSource = SignatureDef | ((signatureName: string | undefined) => SignatureDef);

// ---------------------------------------------------------------------------------------------------
// Value storage

/** How values of a dtype are checked and stored. */
const Store = {
  F32: 0,
  F64: 1,
  Int: 2,
  I64: 3,
  U64: 4,
  Bool: 5,
  Half: 6,
  BF16: 7,
  String: 8,
  Unsupported: 9,
} as const;
type Store = (typeof Store)[keyof typeof Store];

/** The numeric typed arrays whose elements are JS numbers (64-bit integers are stored apart). */
type NumberArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

type NumberArrayCtor = new (length: number) => NumberArray;

interface DTypePlan {
  readonly store: Store;
  readonly ctor?: NumberArrayCtor;
  /** Int stores: accepted range. */
  readonly min?: number;
  readonly max?: number;
}

const FLT_MAX = 3.4028234663852886e38;
const HALF_MAX = 65504;
const BF16_MAX = bfloat16ToFloat(0x7f7f);
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_INT64 = 2n ** 63n - 1n;

const plans = new Map<DataType, DTypePlan>();

/** The reading plan of a dtype (one shared object per dtype: a Column is made per input per request). */
function planFor(dtype: DataType): DTypePlan {
  let plan = plans.get(dtype);
  if (plan === undefined) {
    plan = computePlan(dtype);
    plans.set(dtype, plan);
  }
  return plan;
}

function computePlan(dtype: DataType): DTypePlan {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return { store: Store.F32, ctor: Float32Array };
    case DataType.DT_DOUBLE:
      return { store: Store.F64, ctor: Float64Array };
    case DataType.DT_INT32:
      return { store: Store.Int, ctor: Int32Array, min: -(2 ** 31), max: 2 ** 31 - 1 };
    case DataType.DT_INT16:
      return { store: Store.Int, ctor: Int16Array, min: -(2 ** 15), max: 2 ** 15 - 1 };
    case DataType.DT_INT8:
      return { store: Store.Int, ctor: Int8Array, min: -128, max: 127 };
    case DataType.DT_UINT8:
      return { store: Store.Int, ctor: Uint8Array, min: 0, max: 255 };
    case DataType.DT_UINT16:
      return { store: Store.Int, ctor: Uint16Array, min: 0, max: 65535 };
    case DataType.DT_UINT32:
      return { store: Store.Int, ctor: Uint32Array, min: 0, max: 2 ** 32 - 1 };
    case DataType.DT_INT64:
      return { store: Store.I64 };
    case DataType.DT_UINT64:
      return { store: Store.U64 };
    case DataType.DT_BOOL:
      return { store: Store.Bool, ctor: Uint8Array };
    case DataType.DT_HALF:
      return { store: Store.Half, ctor: Uint16Array };
    case DataType.DT_BFLOAT16:
      return { store: Store.BF16, ctor: Uint16Array };
    case DataType.DT_STRING:
      return { store: Store.String };
    default:
      return { store: Store.Unsupported };
  }
}

const NO_NUMS = new Uint8Array(0);
const NO_BIGS = new BigInt64Array(0);
const NO_WORDS = new Uint32Array(0);

/** The values of one input tensor as they are read, in row-major order. */
class Column {
  readonly store: Store;
  private readonly plan: DTypePlan;
  private readonly min: number;
  private readonly max: number;
  /** Number-typed stores. */
  nums: NumberArray;
  /** 64-bit stores: the same memory as 32-bit words (little-endian) and as bigints. */
  words: Uint32Array;
  bigs: BigInt64Array | BigUint64Array;
  strings: Uint8Array[] = [];
  length = 0;
  capacity = 16;

  constructor(
    readonly alias: string,
    readonly dtype: DataType,
  ) {
    this.plan = planFor(dtype);
    this.store = this.plan.store;
    this.min = this.plan.min ?? 0;
    this.max = this.plan.max ?? 0;
    // Only the store in use gets memory: typed-array allocations are a visible per-request cost.
    this.nums = this.plan.ctor ? new this.plan.ctor(this.capacity) : NO_NUMS;
    if (this.store === Store.I64 || this.store === Store.U64) {
      this.bigs =
        this.store === Store.U64 ? new BigUint64Array(this.capacity) : new BigInt64Array(this.capacity);
      this.words = new Uint32Array(this.bigs.buffer);
    } else {
      this.bigs = NO_BIGS;
      this.words = NO_WORDS;
    }
  }

  /** Whether leaves are JSON numbers (the fast path applies). */
  get numeric(): boolean {
    return this.store <= Store.U64 || this.store === Store.Half || this.store === Store.BF16;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    if (this.store === Store.I64 || this.store === Store.U64) {
      const bigs = this.store === Store.U64 ? new BigUint64Array(capacity) : new BigInt64Array(capacity);
      new Uint32Array(bigs.buffer).set(this.words);
      this.bigs = bigs;
      this.words = new Uint32Array(bigs.buffer);
    } else if (this.plan.ctor) {
      const nums = new this.plan.ctor(capacity);
      nums.set(this.nums);
      this.nums = nums;
    }
    this.capacity = capacity;
  }

  /** Stores the number token just read, checked against the dtype. */
  pushNumber(r: JsonReader): void {
    if (this.length === this.capacity) this.grow();
    let v = r.numValue;
    if (r.numApprox && (this.store !== Store.F32 || !roundsLikeExact(v))) v = r.exactValue();
    switch (this.store) {
      case Store.F32:
        if (r.numIsInt ? r.numBig !== undefined || v > 16777215 || v < -16777215 : isBeyond(v, FLT_MAX)) {
          throw lossyError(r, "float");
        }
        this.nums[this.length++] = v;
        return;
      case Store.F64:
        if (r.numBig !== undefined && (r.numBig > MAX_SAFE_BIG || r.numBig < -MAX_SAFE_BIG)) {
          throw lossyError(r, "double");
        }
        this.nums[this.length++] = v;
        return;
      case Store.Int:
        if (!r.numIsInt || r.numBig !== undefined || v < this.min || v > this.max) {
          throw numberTypeError(r, this.dtype);
        }
        this.nums[this.length++] = v;
        return;
      case Store.I64:
      case Store.U64: {
        const big = r.numBig;
        const ok =
          r.numIsInt &&
          (this.store === Store.I64
            ? big === undefined || big <= MAX_INT64
            : big === undefined
              ? v >= 0
              : big >= 0n);
        if (!ok) throw numberTypeError(r, this.dtype);
        if (big !== undefined) {
          this.bigs[this.length++] = big;
        } else {
          const i = this.length++ * 2;
          this.words[i] = v >>> 0;
          this.words[i + 1] = Math.floor(v / 4294967296) >>> 0;
        }
        return;
      }
      case Store.Half:
        if (r.numIsInt ? r.numBig !== undefined || v > 2047 || v < -2047 : isBeyond(v, HALF_MAX)) {
          throw lossyError(r, "half");
        }
        this.nums[this.length++] = floatToHalf(v);
        return;
      case Store.BF16:
        if (r.numIsInt ? r.numBig !== undefined || v > 255 || v < -255 : isBeyond(v, BF16_MAX)) {
          throw lossyError(r, "bfloat16");
        }
        this.nums[this.length++] = floatToBfloat16(v);
        return;
      default:
        throw numberTypeError(r, this.dtype);
    }
  }

  /** Reads one non-list value at r.pos (of the given kind) into the column. */
  readLeaf(r: JsonReader, kind: Kind): void {
    switch (this.store) {
      case Store.String:
        if (kind === Kind.String) this.strings.push(r.readStringBytes());
        else if (kind === Kind.Object) this.strings.push(readBase64Object(r));
        else throw typeError(r, kind, this.dtype);
        this.length++;
        return;
      case Store.Bool:
        if (kind !== Kind.True && kind !== Kind.False) throw typeError(r, kind, this.dtype);
        if (this.length === this.capacity) this.grow();
        this.nums[this.length++] = r.readLiteral() ? 1 : 0;
        return;
      case Store.Unsupported:
        throw unsupported(r, kind, this.dtype);
      default:
        if (kind !== Kind.Number) throw typeError(r, kind, this.dtype);
        r.readNumber();
        this.pushNumber(r);
    }
  }

  toTensor(shape: number[]): Tensor {
    const n = this.length;
    switch (this.store) {
      case Store.String:
        return new Tensor(this.dtype, shape, this.strings);
      case Store.I64:
      case Store.U64:
        return new Tensor(this.dtype, shape, n === this.capacity ? this.bigs : this.bigs.slice(0, n));
      case Store.Unsupported:
        return Tensor.zeros(this.dtype, shape);
      default:
        return new Tensor(this.dtype, shape, n === this.capacity ? this.nums : this.nums.slice(0, n));
    }
  }
}

const scratchF32 = new Float32Array(1);
const scratchBits = new Uint32Array(scratchF32.buffer);
const FLT_MIN_NORMAL = 2 ** -126;
const MARGIN = 2 ** -48;
/** The float32 ulp for each biased exponent (bits >>> 23 of a positive normal float). */
const ULP32 = Float64Array.from({ length: 256 }, (_, e) => 2 ** (e - 150));

/**
 * Whether `v`, known only within 2^-50 (relative) of a decimal's exact value, rounds to the same float32
 * as that exact value: true unless v is that close to a float32 rounding boundary (or out of the
 * normal range, left to the exact path).
 */
function roundsLikeExact(v: number): boolean {
  const a = Math.abs(v);
  if (!(a >= FLT_MIN_NORMAL && a < 3.4e38)) return false;
  const f = Math.fround(a);
  scratchF32[0] = f;
  const bits = scratchBits[0]!;
  const ulp = ULP32[bits >>> 23]!;
  // Half the gap to the neighbouring float on v's side (a quarter below a power of two).
  const half = (bits & 0x7fffff) === 0 && a < f ? ulp / 4 : ulp / 2;
  return Math.abs(Math.abs(a - f) - half) > a * MARGIN;
}

function isBeyond(v: number, max: number): boolean {
  return (v > max || v < -max) && v !== Number.POSITIVE_INFINITY && v !== Number.NEGATIVE_INFINITY;
}

function unsupported(r: JsonReader, kind: Kind, dtype: DataType): ServingError {
  const text = consumeValueText(r, kind);
  return unimplemented(`Conversion of JSON Value: ${text} to type: ${tfTypeName(dtype)}`);
}

// ---------------------------------------------------------------------------------------------------
// Dense values

/** Shape inference for one JSON value, streaming: rank and per-level sizes as the first lists close. */
class DenseState {
  rank = -1;
  dims: number[] = [];

  reset(): void {
    this.rank = -1;
    this.dims.length = 0;
  }

  get size(): number {
    let n = 1;
    for (const d of this.dims) n *= d;
    return n;
  }
}

function isNumberStart(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 78 || c === 73;
}

/** Reads one JSON value as a dense tensor into `col`; its shape ends up in `st` (GetDenseTensorShape). */
function readDense(r: JsonReader, col: Column, st: DenseState): void {
  st.reset();
  readLevel(r, col, st, 0);
}

function readLevel(r: JsonReader, col: Column, st: DenseState, level: number): void {
  const kind = r.peekKind();
  if (kind !== Kind.Array) {
    if (st.rank < 0) st.rank = level;
    else if (level !== st.rank) {
      const text = consumeValueText(r, kind);
      throw invalidArgument(
        `JSON Value: ${text} found at incorrect level: ${level + 1} in the JSON DOM. Expected at level: ${st.rank}`,
      );
    }
    col.readLeaf(r, kind);
    return;
  }
  if (st.rank >= 0 && level >= st.rank) {
    throw invalidArgument(`Encountered list at unexpected level: ${level} expected < ${st.rank}`);
  }
  const dims = st.dims;
  while (dims.length <= level) dims.push(-1);
  const expected = dims[level]!;
  const numeric = col.numeric;
  const src = r.src;
  r.beginArray();
  let n = 0;
  while (r.nextElement()) {
    if (expected >= 0 && n >= expected) throw sizeError(r, n, level, expected, true);
    if (numeric && level + 1 === st.rank && isNumberStart(src.charCodeAt(r.pos))) {
      r.readNumber();
      col.pushNumber(r);
    } else {
      readLevel(r, col, st, level + 1);
    }
    n++;
  }
  if (expected < 0) {
    dims[level] = n;
    if (n === 0 && st.rank < 0) st.rank = level + 1;
  } else if (n !== expected) {
    throw sizeError(r, n, level, expected, false);
  }
}

/**
 * "Encountered list at unexpected size". When the list is too long (`atExtra`: positioned at its first
 * extra element), the rest of it is counted first, to report its full size as TF does.
 */
function sizeError(
  r: JsonReader,
  n: number,
  level: number,
  expected: number,
  atExtra: boolean,
): ServingError {
  let size = n;
  if (atExtra) {
    do {
      r.skipValue();
      size++;
    } while (r.nextElement());
  }
  return invalidArgument(
    `Encountered list at unexpected size: ${size} at level: ${level} expected size: ${expected}`,
  );
}

/** One input's items in row format: the first item's shape, which every other item must repeat. */
class RowInput {
  readonly st = new DenseState();
  first: number[] | undefined;
  firstSize = 0;

  constructor(readonly col: Column) {}

  /** AddInstanceItem: reads one item and checks it against the first. */
  readItem(r: JsonReader): void {
    readDense(r, this.col, this.st);
    const size = this.st.size;
    if (this.first === undefined) {
      this.first = this.st.dims.slice();
      this.firstSize = size;
    } else if (size !== this.firstSize) {
      throw invalidArgument(`Expecting tensor size: ${this.firstSize} but got: ${size}`);
    } else if (!sameDims(this.first, this.st.dims)) {
      throw invalidArgument(
        `Expecting shape ${shapeDebugString(this.first)} but got: ${shapeDebugString(this.st.dims)}`,
      );
    }
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface InputSpec {
  alias: string;
  dtype: DataType;
}

/** Name → position, sorted names and name → dtype of a signature's inputs, for the readers. */
interface SpecLookup {
  readonly index: ReadonlyMap<string, number>;
  readonly names: readonly string[];
  readonly dtypes: ReadonlyMap<string, DataType>;
}

// A SignatureDef is immutable once loaded, so what the readers derive from it is computed once per
// signature instead of per request (those Maps and arrays were part of the REST path's garbage).
const specsOf = new WeakMap<SignatureDef, InputSpec[]>();
const lookupOf = new WeakMap<readonly InputSpec[], SpecLookup>();

function inputSpecs(sig: SignatureDef): InputSpec[] {
  let specs = specsOf.get(sig);
  if (specs === undefined) {
    specs = Object.entries(sig.inputs).map(([alias, info]) => ({ alias, dtype: baseDType(info.dtype) }));
    specsOf.set(sig, specs);
  }
  return specs;
}

function specLookup(specs: readonly InputSpec[]): SpecLookup {
  let lookup = lookupOf.get(specs);
  if (lookup === undefined) {
    lookup = {
      index: new Map(specs.map((s, i) => [s.alias, i])),
      names: specs.map((s) => s.alias).sort(),
      dtypes: new Map(specs.map((s) => [s.alias, s.dtype])),
    };
    lookupOf.set(specs, lookup);
  }
  return lookup;
}

/** FillTensorMapFromInstancesList. */
function readRows(r: JsonReader, specs: InputSpec[]): Map<string, Tensor> {
  if (r.peekKind() !== Kind.Array) throw formatError(r, "Excepting 'instances' to be an list/array");
  r.beginArray();
  if (!r.nextElement()) throw formatError(r, "No values in 'instances' array");
  const objects = r.peekKind() === Kind.Object && !r.isBase64Object();
  if (!objects && specs.length > 1) {
    throw invalidArgument(
      "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map",
    );
  }
  const rows = specs.map((s) => new RowInput(new Column(s.alias, s.dtype)));
  const { index, names } = specLookup(specs);
  const seen = new Uint8Array(specs.length);
  const only = rows[0]!;
  const src = r.src;
  const col = only.col;
  // A plain list of numbers (the common `[1.0, 2.0, 5.0]`): once the first item is a scalar, numbers
  // are read without the per-item shape machinery (anything else still goes through it).
  let scalars = false;
  let count = 0;
  do {
    if (scalars && isNumberStart(src.charCodeAt(r.pos))) {
      try {
        r.readNumber();
        col.pushNumber(r);
      } catch (error) {
        throw wrapItemError(error, `Failed to process element: ${count} of 'instances' list. Error: `);
      }
      count++;
      continue;
    }
    const kind = r.peekKind();
    const isObject = kind === Kind.Object && !r.isBase64Object();
    if (objects) {
      if (!isObject) throw invalidArgument(`Expecting object but got list at item ${count} of input list`);
      readRowObject(r, count, rows, index, names, seen);
    } else {
      if (isObject)
        throw invalidArgument(`Expecting value/list but got object at item ${count} of input list`);
      try {
        only.readItem(r);
      } catch (error) {
        throw wrapItemError(error, `Failed to process element: ${count} of 'instances' list. Error: `);
      }
      if (count === 0) scalars = only.first?.length === 0 && col.numeric;
    }
    count++;
  } while (r.nextElement());
  const inputs = new Map<string, Tensor>();
  for (const row of rows) inputs.set(row.col.alias, row.col.toTensor([count, ...(row.first ?? [])]));
  return inputs;
}

function readRowObject(
  r: JsonReader,
  count: number,
  rows: RowInput[],
  index: ReadonlyMap<string, number>,
  names: readonly string[],
  seen: Uint8Array,
): void {
  const start = r.pos;
  seen.fill(0);
  let found = 0;
  r.beginObject();
  for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
    const prefix = `Failed to process element: ${count} key: ${key} of 'instances' list. Error: `;
    const i = index.get(key);
    if (i === undefined) {
      throw invalidArgument(`${prefix}INVALID_ARGUMENT: JSON object: does not have named input: ${key}`);
    }
    if (seen[i]) throw invalidArgument(`${prefix}INVALID_ARGUMENT: duplicate key: ${key}`);
    seen[i] = 1;
    found++;
    try {
      rows[i]!.readItem(r);
    } catch (error) {
      throw wrapItemError(error, prefix);
    }
  }
  if (found !== rows.length) {
    throw invalidArgument(
      `Failed to process element: ${count} of 'instances' list. JSON object: ${r.text(start, r.pos)} keys must be equal to: ${names.join(",")}`,
    );
  }
}

/** FillTensorMapFromInputsMap. */
function readColumns(r: JsonReader, specs: InputSpec[]): Map<string, Tensor> {
  const kind = r.peekKind();
  const inputs = new Map<string, Tensor>();
  const st = new DenseState();
  if (kind !== Kind.Object || r.isBase64Object()) {
    if (specs.length > 1) {
      throw invalidArgument(
        "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map",
      );
    }
    const spec = specs[0]!;
    const col = new Column(spec.alias, spec.dtype);
    readDense(r, col, st);
    inputs.set(spec.alias, col.toTensor(st.dims.slice()));
    return inputs;
  }
  const found = new Map<string, Tensor>();
  const { dtypes } = specLookup(specs);
  r.beginObject();
  for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
    const dtype = dtypes.get(key);
    if (dtype === undefined || found.has(key)) {
      r.skipValue(); // unknown names are ignored; a repeated name keeps its first value (FindMember)
      continue;
    }
    const col = new Column(key, dtype);
    readDense(r, col, st);
    found.set(key, col.toTensor(st.dims.slice()));
  }
  for (const spec of specs) {
    const tensor = found.get(spec.alias);
    if (!tensor) throw invalidArgument(`Missing named input: ${spec.alias} in 'inputs' object.`);
    inputs.set(spec.alias, tensor);
  }
  return inputs;
}

function readTensors(r: JsonReader, format: PredictFormat, specs: InputSpec[]): Map<string, Tensor> {
  return format === "row" ? readRows(r, specs) : readColumns(r, specs);
}

/**
 * Parses a predict request body into input tensors, as TF Serving's REST predict does.
 *
 * Errors are INVALID_ARGUMENT with TF Serving's messages (UNIMPLEMENTED for an input dtype JSON cannot
 * carry); a syntax error anywhere in the body wins over the others, then `signature_name`, the
 * signature lookup, and the instances/inputs checks, in TF's order.
 *
 * @example
 * const { format, inputs } = parsePredictRequest('{"instances": [1.0, 2.0, 5.0]}', signatureDef);
 * inputs.get("x"); // DT_FLOAT tensor of shape [3]
 */
export function parsePredictRequest(
  body: string | Uint8Array,
  signature: SignatureSource,
  options: JsonReaderOptions = {},
): PredictRequestJson {
  const fast = parseFloatPredictFast(
    body,
    typeof signature === "function" ? signature : () => signature,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
  );
  return fast ?? parsePredictRequestExact(body, signature, options);
}

/**
 * parsePredictRequest without the JSON.parse fast path (json-predict-fast.ts): every body, valid or
 * not, read by the exact reader.
 */
export function parsePredictRequestExact(
  body: string | Uint8Array,
  signature: SignatureSource,
  options: JsonReaderOptions = {},
): PredictRequestJson {
  const r = new JsonReader(body, options);
  expectTopLevelObject(r);

  const resolved = new Map<string | undefined, { sig?: SignatureDef; error?: unknown }>();
  const resolve = (name: string | undefined): { sig?: SignatureDef; error?: unknown } => {
    if (typeof signature !== "function") return { sig: signature };
    let entry = resolved.get(name);
    if (!entry) {
      try {
        entry = { sig: signature(name) };
      } catch (error) {
        entry = { error };
      }
      resolved.set(name, entry);
    }
    return entry;
  };

  let sigSeen = false;
  let sigName: string | undefined;
  let sigBad = false;
  let rowsAt = -1;
  let columnsAt = -1;
  let attempt:
    | { sig: SignatureDef; ok: true; inputs: Map<string, Tensor> }
    | { sig: SignatureDef; ok: false; error: unknown }
    | undefined;

  // Tensors are read where they appear when the signature is already known (or, with a resolver, is
  // presumably the default); a later signature_name naming another signature means a second read.
  const tryRead = (format: PredictFormat): void => {
    const { sig } = sigBad || (rowsAt >= 0 && columnsAt >= 0) ? {} : resolve(sigName);
    const specs = sig ? inputSpecs(sig) : [];
    if (!sig || specs.length === 0) {
      r.skipValue();
      return;
    }
    const result = guarded(r, () => readTensors(r, format, specs));
    attempt = result.ok ? { sig, ok: true, inputs: result.value } : { sig, ok: false, error: result.error };
  };

  r.beginObject();
  for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
    if (key === "signature_name" && !sigSeen) {
      sigSeen = true;
      if (r.peekKind() === Kind.String) sigName = r.readString();
      else {
        sigBad = true;
        r.skipValue();
      }
    } else if (key === "instances" && rowsAt < 0) {
      r.skipWs();
      rowsAt = r.pos;
      tryRead("row");
    } else if (key === "inputs" && columnsAt < 0) {
      r.skipWs();
      columnsAt = r.pos;
      tryRead("columnar");
    } else {
      r.skipValue();
    }
  }
  r.finish();

  if (sigBad) {
    throw formatError(r, "not formatted correctly. 'signature_name' key must be a string value.");
  }
  const { sig, error } = resolve(sigName);
  if (!sig) throw error;
  const specs = inputSpecs(sig);
  if (specs.length === 0) {
    throw invalidArgument(`Failed to get input map for signature: ${sigName ? sigName : "DEFAULT"}`);
  }
  if (rowsAt >= 0 && columnsAt >= 0) {
    throw formatError(
      r,
      "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ",
    );
  }
  if (rowsAt < 0 && columnsAt < 0) throw invalidArgument("Missing 'inputs' or 'instances' key");
  const format: PredictFormat = rowsAt >= 0 ? "row" : "columnar";
  let inputs: Map<string, Tensor>;
  if (attempt && attempt.sig === sig) {
    if (!attempt.ok) throw attempt.error;
    inputs = attempt.inputs;
  } else {
    r.rewind(rowsAt >= 0 ? rowsAt : columnsAt, 1);
    inputs = readTensors(r, format, specs);
  }
  return sigName === undefined ? { format, inputs } : { signatureName: sigName, format, inputs };
}

// ---------------------------------------------------------------------------------------------------
// Response

/** dtypes whose values can be written (TF's list, plus half/bfloat16/uint16). */
function isWritable(dtype: DataType): boolean {
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
    case DataType.DT_INT32:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
    case DataType.DT_BOOL:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16:
    case DataType.DT_STRING:
      return true;
    default:
      return false;
  }
}

/** Walks one output tensor's values in order, writing them as AddTensorValues does. */
class OutputCursor {
  offset = 0;
  readonly dtype: DataType;
  readonly asBytes: boolean;
  private readonly words: Uint32Array | undefined;

  constructor(
    readonly name: string,
    readonly tensor: Tensor,
  ) {
    this.dtype = baseDType(tensor.dtype);
    this.asBytes = this.dtype === DataType.DT_STRING && name.endsWith("_bytes");
    const data = tensor.data;
    this.words =
      data instanceof BigInt64Array || data instanceof BigUint64Array
        ? new Uint32Array(data.buffer, data.byteOffset, data.length * 2)
        : undefined;
  }

  /** AddTensorValues from dimension `dim`. */
  write(w: PrettyJsonWriter, dim: number): void {
    const shape = this.tensor.shape;
    const rank = shape.length;
    if (dim > rank - 1) {
      this.writeOne(w);
      return;
    }
    w.startArray();
    const n = shape[dim]!;
    if (dim === rank - 1) this.writeRun(w, n);
    else for (let i = 0; i < n; i++) this.write(w, dim + 1);
    w.endArray();
  }

  private writeRun(w: PrettyJsonWriter, n: number): void {
    const data = this.tensor.data;
    const sink = w.sink;
    let o = this.offset;
    if (data instanceof Float32Array && this.dtype === DataType.DT_FLOAT) {
      for (let i = 0; i < n; i++) {
        w.prefix();
        writeFloat32(sink, data[o++]!);
      }
    } else if (
      data instanceof Int32Array ||
      data instanceof Int16Array ||
      data instanceof Int8Array ||
      data instanceof Uint32Array ||
      (data instanceof Uint16Array && this.dtype === DataType.DT_UINT16) ||
      (data instanceof Uint8Array && this.dtype === DataType.DT_UINT8)
    ) {
      for (let i = 0; i < n; i++) {
        w.prefix();
        sink.integer(data[o++]!);
      }
    } else {
      for (let i = 0; i < n; i++) this.writeOne(w);
      return;
    }
    this.offset = o;
  }

  writeOne(w: PrettyJsonWriter): void {
    const i = this.offset++;
    const data = this.tensor.data;
    switch (this.dtype) {
      case DataType.DT_FLOAT:
        w.float32((data as Float32Array)[i]!);
        return;
      case DataType.DT_DOUBLE:
        w.float64((data as Float64Array)[i]!);
        return;
      case DataType.DT_HALF:
        w.float32(halfToFloat((data as Uint16Array)[i]!));
        return;
      case DataType.DT_BFLOAT16:
        w.float32(bfloat16ToFloat((data as Uint16Array)[i]!));
        return;
      case DataType.DT_BOOL:
        w.raw((data as Uint8Array)[i] ? "true" : "false");
        return;
      case DataType.DT_INT64:
      case DataType.DT_UINT64: {
        const words = this.words!;
        const lo = words[2 * i]!;
        const hi = words[2 * i + 1]!;
        const signedHi = this.dtype === DataType.DT_INT64 ? hi | 0 : hi;
        if (signedHi >= -0x200000 && signedHi < 0x200000) {
          w.prefix();
          w.sink.integer(signedHi * 4294967296 + lo);
        } else {
          w.raw((data as BigInt64Array | BigUint64Array)[i]!.toString());
        }
        return;
      }
      case DataType.DT_STRING: {
        const bytes = (data as Uint8Array[])[i]!;
        // TF writes non-`_bytes` strings raw, whatever the bytes; a JS string cannot carry invalid
        // UTF-8, so those are written as {"b64": ...} instead of being corrupted.
        if (this.asBytes || !isValidUtf8(bytes)) w.base64Object(bytes);
        else w.stringBytes(bytes);
        return;
      }
      default:
        w.prefix();
        w.sink.integer((data as NumberArray)[i]!);
    }
  }
}

function checkWritable(tensor: Tensor): void {
  const dtype = baseDType(tensor.dtype);
  if (tensor.size > 0 && !isWritable(dtype)) {
    throw invalidArgument(`Failed to write JSON value for tensor type: ${tfTypeName(dtype)}`);
  }
}

/**
 * Writes a predict response as TF Serving does (MakeJsonFromTensors): row format for `instances`
 * requests, columnar for `inputs`.
 *
 * @example
 * writePredictResponse(new Map([["y", yTensor]]), "row");
 * // '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}'
 */
export function writePredictResponse(outputs: ReadonlyMap<string, Tensor>, format: PredictFormat): string {
  if (outputs.size === 0) throw invalidArgument("Cannot convert empty tensor map to JSON");
  const cursors = [...outputs].map(([name, tensor]) => new OutputCursor(name, tensor));
  const multi = cursors.length > 1;
  const w = new PrettyJsonWriter();
  w.startObject();
  if (format === "row") {
    let batch = -1;
    for (const c of cursors) {
      const shape = c.tensor.shape;
      if (shape.length === 0) throw invalidArgument(`Tensor name: ${c.name} has no shape information `);
      if (batch >= 0 && batch !== shape[0]) {
        throw invalidArgument(
          `Tensor name: ${c.name} has inconsistent batch size: ${shape[0]} expecting: ${batch}`,
        );
      }
      batch = shape[0]!;
    }
    for (const c of cursors) checkWritable(c.tensor);
    w.key("predictions");
    w.startArray();
    for (let item = 0; item < batch; item++) {
      if (multi) w.startObject();
      w.singleLineArrays = true;
      for (const c of cursors) {
        if (multi) w.key(c.name);
        c.write(w, 1);
      }
      w.singleLineArrays = false;
      if (multi) w.endObject();
    }
    w.endArray();
  } else {
    for (const c of cursors) checkWritable(c.tensor);
    w.key("outputs");
    if (multi) w.startObject();
    for (const c of cursors) {
      if (multi) w.key(c.name);
      c.write(w, 0);
    }
    if (multi) w.endObject();
  }
  w.endObject();
  return w.toString();
}
