// Numbers ↔ strings as TF does them: AsString (as_string_op.cc, a printf format built from the attrs:
// "%[fill][width][.precision]{d,lld,f,e,g}") and StringToNumber (string_to_number_op.cc, TF's
// strings::safe_strto32/64 and safe_strtof/d). printf's %f/%e/%g are emulated exactly: the binary
// value is expanded to its exact decimal and rounded half-to-even, as glibc does.
import { invalidArgument } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { bfloat16ToFloat, halfToFloat } from "../../tensor/half.js";
import { Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import {
  attrBool,
  attrInt,
  attrString,
  attrType,
  input,
  stringInput,
  stringTensor,
  tfTypeName,
  utf8Encode,
} from "./util.js";

// ---------------------------------------------------------------------------------------------
// Exact decimals.

const view = new DataView(new ArrayBuffer(8));

/** |x| (finite) as digits / 10^scale exactly. */
export function exactDecimal(x: number): { digits: bigint; scale: number } {
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent: number;
  if (biased === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  if (mantissa === 0n) return { digits: 0n, scale: 0 };
  if (exponent >= 0) return { digits: mantissa << BigInt(exponent), scale: 0 };
  return { digits: mantissa * 5n ** BigInt(-exponent), scale: -exponent };
}

/** n / d rounded half to even (n, d > 0). */
function roundDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r2 = (n % d) * 2n;
  if (r2 > d || (r2 === d && q % 2n === 1n)) return q + 1n;
  return q;
}

/** printf("%.{p}f") digits of |x| (no sign). */
function fixedDigits(x: number, precision: number, alt: boolean): string {
  const { digits, scale } = exactDecimal(x);
  const n =
    scale <= precision
      ? digits * 10n ** BigInt(precision - scale)
      : roundDiv(digits, 10n ** BigInt(scale - precision));
  const s = n.toString().padStart(precision + 1, "0");
  if (precision === 0) return alt ? `${s}.` : s;
  return `${s.slice(0, s.length - precision)}.${s.slice(s.length - precision)}`;
}

/** The significant digits (precision + 1 of them) and decimal exponent of |x| as %e rounds it. */
function scientificParts(x: number, precision: number): { mantissa: string; exponent: number } {
  const { digits, scale } = exactDecimal(x);
  if (digits === 0n) return { mantissa: "0".repeat(precision + 1), exponent: 0 };
  const length = digits.toString().length;
  let exponent = length - 1 - scale;
  let n: bigint;
  if (length > precision + 1) {
    n = roundDiv(digits, 10n ** BigInt(length - precision - 1));
    if (n.toString().length > precision + 1) {
      n /= 10n;
      exponent += 1;
    }
  } else {
    n = digits * 10n ** BigInt(precision + 1 - length);
  }
  return { mantissa: n.toString(), exponent };
}

function scientificDigits(x: number, precision: number, alt: boolean): string {
  const { mantissa, exponent } = scientificParts(x, precision);
  const head = mantissa.slice(0, 1);
  const tail = mantissa.slice(1);
  const exp = `e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  return `${head}${tail.length > 0 || alt ? "." : ""}${tail}${exp}`;
}

function generalDigits(x: number, precision: number, alt: boolean): string {
  const p = precision === 0 ? 1 : precision;
  const { exponent } = scientificParts(x, p - 1);
  let s =
    p > exponent && exponent >= -4 ? fixedDigits(x, p - 1 - exponent, alt) : scientificDigits(x, p - 1, alt);
  if (!alt) {
    const e = s.indexOf("e");
    let body = e < 0 ? s : s.slice(0, e);
    const rest = e < 0 ? "" : s.slice(e);
    if (body.includes(".")) body = body.replace(/0+$/, "").replace(/\.$/, "");
    s = body + rest;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// printf.

export interface PrintfSpec {
  /** printf flags: any of "-", "+", " ", "0", "#". */
  flags: string;
  /** Minimum width, or -1. */
  width: number;
  /** Precision, or -1 (printf's default: 6 for f/e/g). */
  precision: number;
  conversion: "d" | "f" | "e" | "g";
}

function pad(body: string, sign: string, spec: PrintfSpec, zeroAllowed: boolean): string {
  const total = sign.length + body.length;
  if (spec.width <= total) return sign + body;
  const fill = spec.width - total;
  if (spec.flags.includes("-")) return sign + body + " ".repeat(fill);
  if (zeroAllowed && spec.flags.includes("0")) return sign + "0".repeat(fill) + body;
  return " ".repeat(fill) + sign + body;
}

function signOf(negative: boolean, spec: PrintfSpec): string {
  if (negative) return "-";
  if (spec.flags.includes("+")) return "+";
  if (spec.flags.includes(" ")) return " ";
  return "";
}

/** printf of a float or double (`negative` carries the sign bit, for -0 and -nan). */
export function printfFloat(x: number, negative: boolean, spec: PrintfSpec): string {
  const sign = signOf(negative, spec);
  if (!Number.isFinite(x)) return pad(Number.isNaN(x) ? "nan" : "inf", sign, spec, false);
  const precision = spec.precision < 0 ? 6 : spec.precision;
  const alt = spec.flags.includes("#");
  const body =
    spec.conversion === "e"
      ? scientificDigits(x, precision, alt)
      : spec.conversion === "g"
        ? generalDigits(x, precision, alt)
        : fixedDigits(x, precision, alt);
  return pad(body, sign, spec, true);
}

export function printfInt(v: bigint, spec: PrintfSpec): string {
  const negative = v < 0n;
  return pad((negative ? -v : v).toString(), signOf(negative, spec), spec, true);
}

// ---------------------------------------------------------------------------------------------
// AsString

const FLOAT_TYPES = new Set([
  DataType.DT_FLOAT,
  DataType.DT_DOUBLE,
  DataType.DT_COMPLEX64,
  DataType.DT_HALF,
  DataType.DT_BFLOAT16,
]);

/** The values of a float tensor as doubles, with their sign bits. */
function floatsOf(t: Tensor): { values: number[]; negative: boolean[] } {
  const data = t.data as Float32Array | Float64Array | Uint16Array;
  const values: number[] = [];
  const negative: boolean[] = [];
  for (let i = 0; i < data.length; i++) {
    const raw = data[i]!;
    let v: number;
    let neg: boolean;
    if (t.dtype === DataType.DT_HALF || t.dtype === DataType.DT_BFLOAT16) {
      v = t.dtype === DataType.DT_HALF ? halfToFloat(raw) : bfloat16ToFloat(raw);
      neg = (raw & 0x8000) !== 0;
    } else {
      v = raw;
      if (data instanceof Float32Array) {
        const bits = new Uint32Array(data.buffer, data.byteOffset + i * 4, 1)[0]!;
        neg = bits >>> 31 === 1;
      } else {
        const bits = new Uint32Array(data.buffer, data.byteOffset + i * 8 + 4, 1)[0]!;
        neg = bits >>> 31 === 1;
      }
    }
    values.push(v);
    negative.push(neg);
  }
  return { values, negative };
}

const asString: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const dtype = attrType(node, "T", t.dtype);
  const precision = attrInt(node, "precision", -1);
  const scientific = attrBool(node, "scientific", false);
  const shortest = attrBool(node, "shortest", false);
  const width = attrInt(node, "width", -1);
  const fill = attrString(node, "fill", "");
  const isFloat = FLOAT_TYPES.has(dtype);
  if (!isFloat) {
    if (scientific || shortest) {
      throw invalidArgument(`scientific and shortest format not supported for datatype ${tfTypeName(dtype)}`);
    }
    if (precision > -1) throw invalidArgument(`precision not supported for datatype ${tfTypeName(dtype)}`);
  }
  if (fill.length > 1) throw invalidArgument("Fill string must be one or fewer characters");
  if (scientific && shortest) throw invalidArgument("Cannot select both scientific and shortest notation");
  if (width > -1 && fill !== "" && !"-+ 0#".includes(fill)) {
    // TF pastes the fill into its printf format ("%x5d"), which only works for printf flags.
    throw invalidArgument(
      `fill '${fill}' is not a printf flag; only '', ' ', '0', '-', '+' and '#' are supported`,
    );
  }
  const spec: PrintfSpec = {
    flags: width > -1 ? fill : "",
    width,
    precision,
    conversion: isFloat ? (shortest ? "g" : scientific ? "e" : "f") : "d",
  };
  let out: string[];
  switch (t.dtype) {
    case DataType.DT_BOOL:
      out = Array.from(t.data as Uint8Array, (b) => (b ? "true" : "false"));
      break;
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE:
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: {
      const { values, negative } = floatsOf(t);
      out = values.map((v, i) => printfFloat(v, negative[i]!, spec));
      break;
    }
    case DataType.DT_COMPLEX64: {
      const { values, negative } = floatsOf(t);
      out = [];
      for (let i = 0; i < values.length; i += 2) {
        out.push(
          `(${printfFloat(values[i]!, negative[i]!, spec)},${printfFloat(values[i + 1]!, negative[i + 1]!, spec)})`,
        );
      }
      break;
    }
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_UINT64:
      out = Array.from(t.data as ArrayLike<number | bigint>, (v) => printfInt(BigInt(v), spec));
      break;
    case DataType.DT_STRING:
      return [t];
    default:
      throw invalidArgument(`Cannot encode input of type ${tfTypeName(t.dtype)}`);
  }
  return [stringTensor(t.shape, out.map(utf8Encode))];
};

// ---------------------------------------------------------------------------------------------
// Parsing numbers as TF's strings::safe_strto* do.

const SPACE = "[ \\t\\n\\v\\f\\r]*";
const INT_RE = new RegExp(`^${SPACE}(-?\\d+)${SPACE}$`);

/** safe_strto32/64: spaces, an optional '-', decimal digits, spaces; out of range fails. */
export function parseTfInt(text: string, bits: 32 | 64): bigint | undefined {
  const m = INT_RE.exec(text);
  if (!m) return undefined;
  const v = BigInt(m[1]!);
  const max = (1n << BigInt(bits - 1)) - 1n;
  return v > max || v < -max - 1n ? undefined : v;
}

const FLOAT_RE = new RegExp(
  `^${SPACE}([+-]?)(?:(inf)|(nan)|0x([0-9a-f]+)|(\\d+\\.?\\d*|\\.\\d+)(?:e([+-]?\\d+))?)${SPACE}$`,
  "i",
);

/** |value| as an exact rational num / den. */
interface Exact {
  num: bigint;
  den: bigint;
}

function compareExact(a: Exact, b: Exact): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function nextFloat32(x: number, up: boolean): number {
  f32[0] = x;
  u32[0] = u32[0]! + (up ? 1 : -1);
  return f32[0]!;
}

/** The float32 nearest to the exact value (ties to even), correcting double rounding. */
function roundToFloat32(exact: Exact, approx: number): number {
  const f = Math.fround(approx);
  if (f === approx) return f;
  let lo: number;
  let hi: number;
  if (f === Number.POSITIVE_INFINITY) {
    lo = 3.4028234663852886e38;
    hi = 2 ** 128;
  } else if (f > approx) {
    hi = f;
    lo = nextFloat32(f, false);
  } else {
    lo = f;
    hi = nextFloat32(f, true);
  }
  const mid = (lo + hi) / 2;
  if (mid !== approx) return f; // the double is not on a tie, so neither side changed
  const { digits, scale } = exactDecimal(mid);
  const cmp = compareExact(exact, { num: digits, den: 10n ** BigInt(scale) });
  if (cmp === 0) return f;
  return cmp < 0 ? lo : hi === 2 ** 128 ? Number.POSITIVE_INFINITY : hi;
}

/**
 * safe_strtof/safe_strtod (double-conversion with leading/trailing spaces, hex integers, "inf"/"nan"
 * in any case; inputs of 32 characters or more fail). Correctly rounded, also to float32.
 */
export function parseTfFloat(text: string, float32: boolean): number | undefined {
  if (text.length >= 32) return undefined;
  const m = FLOAT_RE.exec(text);
  if (!m) return undefined;
  const negative = m[1] === "-";
  let magnitude: number;
  if (m[2]) magnitude = Number.POSITIVE_INFINITY;
  else if (m[3]) return Number.NaN;
  else {
    let exact: Exact;
    if (m[4] !== undefined) {
      const n = BigInt(`0x${m[4]}`);
      exact = { num: n, den: 1n };
      magnitude = Number(n);
    } else {
      const [whole, frac = ""] = m[5]!.split(".");
      const exp = Number(m[6] ?? "0") - frac.length;
      const num = BigInt(`${whole}${frac}` || "0");
      exact =
        exp >= 0
          ? { num: num * 10n ** BigInt(Math.min(exp, 400)), den: 1n }
          : { num, den: 10n ** BigInt(Math.min(-exp, 800)) };
      magnitude = Number(`${m[5]!}e${m[6] ?? "0"}`);
    }
    if (float32 && Number.isFinite(magnitude)) magnitude = roundToFloat32(exact, magnitude);
  }
  if (float32) magnitude = Math.fround(magnitude);
  return negative ? -magnitude : magnitude;
}

const stringToNumber: HostKernel = (node, inputs) => {
  const t = stringInput(node, inputs, 0, "string_tensor");
  const outType = attrType(node, "out_type", DataType.DT_FLOAT);
  const fail = (s: Uint8Array) =>
    invalidArgument(
      `StringToNumberOp could not correctly convert string: ${Buffer.from(s).toString("latin1")}`,
    );
  const texts = t.strings.map((s) => Buffer.from(s).toString("latin1"));
  switch (outType) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE: {
      const float32 = outType === DataType.DT_FLOAT;
      const values = texts.map((s, i) => {
        const v = parseTfFloat(s, float32);
        if (v === undefined) throw fail(t.strings[i]!);
        return v;
      });
      return [new Tensor(outType, t.shape, float32 ? Float32Array.from(values) : Float64Array.from(values))];
    }
    case DataType.DT_INT32:
    case DataType.DT_INT64: {
      const bits = outType === DataType.DT_INT32 ? 32 : 64;
      const values = texts.map((s, i) => {
        const v = parseTfInt(s, bits);
        if (v === undefined) throw fail(t.strings[i]!);
        return v;
      });
      return [
        bits === 32
          ? new Tensor(outType, t.shape, Int32Array.from(values, Number))
          : new Tensor(outType, t.shape, BigInt64Array.from(values)),
      ];
    }
    default:
      throw invalidArgument(`StringToNumber does not support out_type ${tfTypeName(outType)}`);
  }
};

export const FORMAT_KERNELS: Readonly<Record<string, HostKernel>> = {
  AsString: asString,
  StringToNumber: stringToNumber,
};
