// JSON output as TF Serving writes it: rapidjson's PrettyWriter layout (4-space indent, with the
// kFormatSingleLineArray switches json_tensor.cc makes), and its number text:
//   - float/double via WriteDecimal: absl::StrCat's 6 significant digits (printf "%g") when that text
//     reads back to the same value, else "%.9g" (float) / "%.17g" (double); ".0" appended when the text
//     has neither '.' nor 'e' ("3.0", but "9e+06"); NaN / Infinity / -Infinity as bare tokens;
//   - integers (int64/uint64 too) as plain JSON numbers, exact;
//   - strings with rapidjson's escapes (", \, control characters; \u00XX in upper-case hex), other
//     bytes raw.
// Text is written as bytes into a growable buffer, numbers straight from their values (the common
// float32 case without building a string per element); the result is decoded once at the end.

import { Buffer, isUtf8 } from "node:buffer";

const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** A growable byte buffer that JSON text is written into. */
export class ByteSink {
  buf: Uint8Array = new Uint8Array(1024);
  len = 0;
  /** Whether only ASCII has been written (then the text decodes as latin1, which is faster). */
  ascii = true;
  /** A PrettyJsonWriter's per-level state, kept here so that a recycled sink brings them along. */
  readonly levelIsArray: number[] = [];
  readonly levelCounts: number[] = [];

  /** Makes room for n more bytes. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(c: number): void {
    if (this.len === this.buf.length) this.reserve(1);
    this.buf[this.len++] = c;
  }

  /** Writes an ASCII string. */
  text(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let o = this.len;
    for (let i = 0; i < n; i++) buf[o++] = s.charCodeAt(i);
    this.len = o;
  }

  /** Writes a non-negative integer below 2^31 with exactly `digits` digits. */
  digits(n: number, digits: number): void {
    this.reserve(digits);
    const buf = this.buf;
    let o = this.len + digits;
    this.len = o;
    for (let i = 0; i < digits; i++) {
      const q = (n / 10) | 0;
      buf[--o] = 48 + n - q * 10;
      n = q;
    }
  }

  /** Writes a safe integer (|v| ≤ 2^53) in decimal. */
  integer(v: number): void {
    if (v < 0) {
      this.byte(45);
      v = -v;
    }
    if (v >= 1e9) {
      const high = Math.floor(v / 1e9);
      this.integer(high);
      this.digits(v - high * 1e9, 9);
      return;
    }
    let n = 1;
    while (n < 9 && v >= POW10[n]!) n++;
    this.digits(v, n);
  }

  spaces(n: number): void {
    this.reserve(n);
    this.buf.fill(32, this.len, this.len + n);
    this.len += n;
  }

  toString(): string {
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.len);
    return b.toString(this.ascii ? "latin1" : "utf8");
  }
}

// ---------------------------------------------------------------------------------------------------
// Numbers

/** 10^k for k in [−400, 400], correctly rounded (0 / Infinity outside double range). */
const POW10_WIDE = Float64Array.from({ length: 801 }, (_, i) => Number(`1e${i - 400}`));

/** a·10^k, correctly rounded when |k| ≤ 22, within a couple of ulps otherwise. */
function scale(a: number, k: number): number {
  if (k >= 0) return k <= 22 ? a * POW10[k]! : a * POW10_WIDE[k + 400]!;
  return k >= -22 ? a / POW10[-k]! : a / POW10_WIDE[400 - k]!;
}

/** n·10^k (n a non-negative integer below 2^53) correctly rounded to a double. */
function decimalToDouble(n: number, k: number): number {
  if (k >= 0 && k <= 22) return n * POW10[k]!;
  if (k < 0 && k >= -22) return n / POW10[-k]!;
  return Number(`${n}e${k}`);
}

const scratchF64 = new Float64Array(1);
const scratchU32 = new Uint32Array(scratchF64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/** A positive finite double as mant·2^exp with mant odd. */
function decompose(x: number): { mant: bigint; exp: number } {
  scratchF64[0] = x;
  const hi = scratchU32[HI]!;
  const lo = scratchU32[LO]!;
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp = -1074;
  if (biased !== 0) {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  while ((mant & 1n) === 0n) {
    mant >>= 1n;
    exp++;
  }
  return { mant, exp };
}

/** Sign of n·10^k − x, exactly (x a positive finite double). */
function compareDecimal(n: number, k: number, x: number): number {
  const { mant, exp } = decompose(x);
  let left = BigInt(n);
  let right = mant;
  if (k >= 0) left *= 10n ** BigInt(k);
  else right *= 10n ** BigInt(-k);
  if (exp >= 0) right <<= BigInt(exp);
  else left <<= BigInt(-exp);
  return left > right ? 1 : left < right ? -1 : 0;
}

/** Whether the decimal n·10^k, read as a float32 (correctly rounded, as absl::SimpleAtof does), is a. */
function float32RoundTrips(n: number, k: number, a: number): boolean {
  const d = decimalToDouble(n, k);
  let f = Math.fround(d);
  if (f !== d && Number.isFinite(f)) {
    // Rounding the double to float32 is a second rounding; it can only go wrong when the double sits
    // exactly halfway between two floats. Then the exact decimal decides.
    const g = 2 * d - f;
    if (Math.fround(g) === g) {
      const side = compareDecimal(n, k, d);
      if (side !== 0) f = side > 0 === g > f ? g : f;
    }
  }
  return f === a;
}

/**
 * `%.{P}e`-style digits of a positive finite double, rounded half-to-even on its exact value as
 * printf/absl do (toExponential rounds half up, so exact ties are detected and corrected).
 */
function exactDigits(a: number, precision: number): { digits: string; exp: number } {
  const t = a.toExponential(precision - 1);
  const e = t.indexOf("e");
  let digits = precision > 1 ? t[0] + t.slice(2, e) : t.slice(0, e);
  let exp = Number(t.slice(e + 1));
  if (isTie(a, precision, exp)) {
    const u = a.toExponential(precision);
    const ue = u.indexOf("e");
    const all = u[0] + u.slice(2, ue);
    if ((all.charCodeAt(precision - 1) - 48) % 2 === 0) {
      digits = all.slice(0, precision);
      exp = Number(u.slice(ue + 1));
    }
  }
  return { digits, exp };
}

/** Whether a's exact decimal expansion has precision+1 significant digits ending in 5 (a rounding tie). */
function isTie(a: number, precision: number, exp10: number): boolean {
  const { mant, exp } = decompose(a);
  if (exp < 0) return -exp + exp10 + 1 === precision + 1; // a binary fraction's expansion ends in 5
  if (a < 2 ** 53 && precision + 1 > 16) return false; // an integer below 2^53 has at most 16 digits
  return isIntegerTie(mant << BigInt(exp), precision);
}

function isIntegerTie(value: bigint, precision: number): boolean {
  const s = value.toString().replace(/0+$/, "");
  return s.length === precision + 1 && s.endsWith("5");
}

/** Writes digits (a P-digit integer, or a digit string) in printf "%g" layout plus TF's ".0". */
function writeG(sink: ByteSink, digits: string, exp: number, precision: number): void {
  let nd = digits.length;
  while (nd > 1 && digits.charCodeAt(nd - 1) === 48) nd--;
  if (exp < -4 || exp >= precision) {
    sink.byte(digits.charCodeAt(0));
    if (nd > 1) {
      sink.byte(46);
      sink.text(digits.slice(1, nd));
    }
    sink.byte(101);
    sink.byte(exp < 0 ? 45 : 43);
    const e = Math.abs(exp);
    sink.digits(e, e < 100 ? 2 : 3);
  } else if (exp >= 0) {
    if (nd <= exp + 1) {
      sink.text(digits.slice(0, nd));
      for (let i = nd; i <= exp; i++) sink.byte(48);
      sink.byte(46);
      sink.byte(48);
    } else {
      sink.text(digits.slice(0, exp + 1));
      sink.byte(46);
      sink.text(digits.slice(exp + 1, nd));
    }
  } else {
    sink.byte(48);
    sink.byte(46);
    for (let i = -1; i > exp; i--) sink.byte(48);
    sink.text(digits.slice(0, nd));
  }
}

/** writeG for an integer n with exactly `precision` digits (no string built unless needed). */
function writeGInt(sink: ByteSink, n: number, exp: number, precision: number): void {
  let nd = precision;
  n |= 0;
  while (nd > 1 && n % 10 === 0) {
    n = (n / 10) | 0;
    nd--;
  }
  if (exp < -4 || exp >= precision) {
    const lead = Math.floor(n / POW10[nd - 1]!);
    sink.byte(48 + lead);
    if (nd > 1) {
      sink.byte(46);
      sink.digits(n - lead * POW10[nd - 1]!, nd - 1);
    }
    sink.byte(101);
    sink.byte(exp < 0 ? 45 : 43);
    const e = Math.abs(exp);
    sink.digits(e, e < 100 ? 2 : 3);
  } else if (exp >= 0) {
    if (nd <= exp + 1) {
      sink.digits(n, nd);
      for (let i = nd; i <= exp; i++) sink.byte(48);
      sink.byte(46);
      sink.byte(48);
    } else {
      const div = POW10[nd - exp - 1]!;
      const head = Math.floor(n / div);
      sink.digits(head, exp + 1);
      sink.byte(46);
      sink.digits(n - head * div, nd - exp - 1);
    }
  } else {
    sink.byte(48);
    sink.byte(46);
    for (let i = -1; i > exp; i--) sink.byte(48);
    sink.digits(n, nd);
  }
}

/** floor(log10(a)) for a positive finite double, exactly (from its binary exponent and one compare). */
function decimalExponent(a: number): number {
  scratchF64[0] = a;
  const biased = (scratchU32[HI]! >>> 20) & 0x7ff;
  if (biased === 0) return Math.floor(Math.log10(a)); // subnormal double
  const e = Math.floor((biased - 1023) * 0.3010299956639812);
  return a >= POW10_WIDE[e + 401]! ? e + 1 : e;
}

/** Returns true when v was NaN/±Infinity/±0 and has been written. */
function writeSpecial(sink: ByteSink, v: number): boolean {
  if (Number.isNaN(v)) sink.text("NaN");
  else if (v === Number.POSITIVE_INFINITY) sink.text("Infinity");
  else if (v === Number.NEGATIVE_INFINITY) sink.text("-Infinity");
  else if (v === 0) sink.text(Object.is(v, -0) ? "-0.0" : "0.0");
  else return false;
  return true;
}

/** Rounded digits of a·10^k as an integer, or -1 when a is too close to a rounding tie to trust doubles. */
function roundScaled(s: number): number {
  const fl = Math.floor(s);
  const frac = s - fl;
  if (frac > 0.5 - 4e-6 && frac < 0.5 + 4e-6) return -1;
  return frac > 0.5 ? fl + 1 : fl;
}

/** Writes a float32 value (given as a JS number) as TF Serving's WriteDecimal<float>; see formatFloat32. */
export function writeFloat32(sink: ByteSink, v: number): void {
  if (writeSpecial(sink, v)) return;
  let a = v;
  if (v < 0) {
    sink.byte(45);
    a = -v;
  }
  // absl::StrCat: six significant digits (ties are irrelevant: a tie never reads back to a float).
  let exp = decimalExponent(a);
  let s = scale(a, 5 - exp);
  while (s >= 999999.5) s = scale(a, 5 - ++exp);
  while (s < 99999.5) s = scale(a, 5 - --exp);
  const n6 = Math.round(s);
  if (float32RoundTrips(n6, exp - 5, a)) {
    writeGInt(sink, n6, exp, 6);
    return;
  }
  // "%.9g" (max_digits10 of float).
  for (;;) {
    s = scale(a, 8 - exp);
    if (roundScaled(s) < 0) break;
    if (s >= 999999999.5) exp++;
    else if (s < 99999999.5) exp--;
    else {
      writeGInt(sink, roundScaled(s), exp, 9);
      return;
    }
  }
  const exact = exactDigits(a, 9);
  writeG(sink, exact.digits, exact.exp, 9);
}

/** Writes a double as TF Serving's WriteDecimal<double>: "%g" when it round-trips, else "%.17g". */
export function writeFloat64(sink: ByteSink, v: number): void {
  if (writeSpecial(sink, v)) return;
  let a = v;
  if (v < 0) {
    sink.byte(45);
    a = -v;
  }
  if (a > 1e-300 && a < 1e300) {
    let exp = decimalExponent(a);
    let s = scale(a, 5 - exp);
    while (s >= 999999.5) s = scale(a, 5 - ++exp);
    while (s < 99999.5) s = scale(a, 5 - --exp);
    const n6 = Math.round(s);
    if (decimalToDouble(n6, exp - 5) === a) {
      writeGInt(sink, n6, exp, 6);
      return;
    }
  } else {
    const six = exactDigits(a, 6);
    if (Number(`${six.digits}e${six.exp - 5}`) === a) {
      writeG(sink, six.digits, six.exp, 6);
      return;
    }
  }
  const exact = exactDigits(a, 17);
  writeG(sink, exact.digits, exact.exp, 17);
}

const scratchSink = new ByteSink();

function formatWith(write: (sink: ByteSink, v: number) => void, v: number): string {
  scratchSink.len = 0;
  write(scratchSink, v);
  return Buffer.from(scratchSink.buf.buffer, 0, scratchSink.len).toString("latin1");
}

/**
 * The text TF Serving writes for a float32 value (`v` is rounded to float32 first).
 *
 * @example
 * formatFloat32(3); // "3.0"
 * formatFloat32(9000000); // "9e+06"
 * formatFloat32(0.1); // "0.1"
 * formatFloat32(1 / 3); // "0.333333343"
 */
export function formatFloat32(v: number): string {
  return formatWith(writeFloat32, Math.fround(v));
}

/**
 * The text TF Serving writes for a double.
 *
 * @example
 * formatFloat64(0.1); // "0.1"
 * formatFloat64(0.1 + 0.2); // "0.30000000000000004"
 */
export function formatFloat64(v: number): string {
  return formatWith(writeFloat64, v);
}

// ---------------------------------------------------------------------------------------------------
// Strings

const HEX = "0123456789ABCDEF";

/** The letter rapidjson writes after the backslash for its short escapes; 0: written as \u00XX. */
const SHORT_ESCAPES = new Uint8Array(128);
for (const [c, e] of [
  [34, '"'],
  [92, "\\"],
  [8, "b"],
  [9, "t"],
  [10, "n"],
  [12, "f"],
  [13, "r"],
] as const) {
  SHORT_ESCAPES[c] = e.charCodeAt(0);
}

/** Writes UTF-8 bytes as a JSON string with rapidjson's escaping (other bytes are copied raw). */
export function writeJsonString(sink: ByteSink, bytes: Uint8Array): void {
  const n = bytes.length;
  sink.reserve(n + 2);
  sink.byte(34);
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c >= 0x20 && c !== 34 && c !== 92) {
      if (c >= 0x80) sink.ascii = false;
      sink.byte(c);
      continue;
    }
    sink.byte(92);
    const short = SHORT_ESCAPES[c]!;
    if (short !== 0) sink.byte(short);
    else sink.text(`u00${HEX[c >> 4]}${HEX[c & 15]}`);
  }
  sink.byte(34);
}

const encoder = new TextEncoder();

/** Printable ASCII with no quote or backslash: its JSON string text is the text itself. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return false;
  }
  return true;
}

/** UTF-8 bytes of a JS string (lone surrogates become U+FFFD). */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Whether bytes are well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}

/** Standard base64 with padding (absl::Base64Escape). */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

// ---------------------------------------------------------------------------------------------------
// The pretty writer

// Responses are written synchronously, one at a time, so one buffer can serve them all: a fresh 1 KiB
// typed array per response showed up in REST profiles (allocation + GC). Big buffers are not kept.
const MAX_SPARE_BYTES = 1 << 20;
let spareSink: ByteSink | undefined = new ByteSink();

function takeSink(): ByteSink {
  const sink = spareSink;
  if (!sink) return new ByteSink();
  spareSink = undefined;
  sink.len = 0;
  sink.ascii = true;
  sink.levelIsArray.length = 0;
  sink.levelCounts.length = 0;
  return sink;
}

/**
 * rapidjson::PrettyWriter, as TF Serving configures it: 4-space indentation; `singleLineArrays`
 * mirrors SetFormatOptions(kFormatSingleLineArray), which json_tensor.cc toggles per row.
 */
export class PrettyJsonWriter {
  readonly sink = takeSink();
  singleLineArrays = false;
  /** Per open level: 1 for an array, 0 for an object. */
  private readonly isArray: number[] = this.sink.levelIsArray;
  /** Per open level: values written (an object counts names and values). */
  private readonly counts: number[] = this.sink.levelCounts;

  /** PrettyPrefix: the separator and indentation before the next value or name. */
  prefix(): void {
    const d = this.counts.length;
    if (d === 0) return;
    const count = this.counts[d - 1]!;
    const sink = this.sink;
    if (this.isArray[d - 1]) {
      if (count > 0) {
        sink.byte(44);
        if (this.singleLineArrays) sink.byte(32);
      }
      if (!this.singleLineArrays) {
        sink.byte(10);
        sink.spaces(4 * d);
      }
    } else {
      if (count > 0) {
        if (count % 2 === 0) {
          sink.byte(44);
          sink.byte(10);
        } else {
          sink.byte(58);
          sink.byte(32);
        }
      } else {
        sink.byte(10);
      }
      if (count % 2 === 0) sink.spaces(4 * d);
    }
    this.counts[d - 1] = count + 1;
  }

  startObject(): void {
    this.prefix();
    this.isArray.push(0);
    this.counts.push(0);
    this.sink.byte(123);
  }

  endObject(): void {
    this.isArray.pop();
    if (this.counts.pop()! > 0) {
      this.sink.byte(10);
      this.sink.spaces(4 * this.counts.length);
    }
    this.sink.byte(125);
  }

  startArray(): void {
    this.prefix();
    this.isArray.push(1);
    this.counts.push(0);
    this.sink.byte(91);
  }

  endArray(): void {
    this.isArray.pop();
    if (this.counts.pop()! > 0 && !this.singleLineArrays) {
      this.sink.byte(10);
      this.sink.spaces(4 * this.counts.length);
    }
    this.sink.byte(93);
  }

  /** An object member name (a JS string, written as UTF-8). */
  key(name: string): void {
    this.string(name);
  }

  /** A string value from JS text (written as UTF-8). */
  string(text: string): void {
    this.prefix();
    // Keys such as "predictions" need no escapes and no encoding: written as they are.
    if (isPlainAscii(text)) {
      this.sink.byte(34);
      this.sink.text(text);
      this.sink.byte(34);
    } else {
      writeJsonString(this.sink, utf8Bytes(text));
    }
  }

  /** A string value from its bytes. */
  stringBytes(bytes: Uint8Array): void {
    this.prefix();
    writeJsonString(this.sink, bytes);
  }

  /** A value already in JSON text form (ASCII: numbers, true/false). */
  raw(text: string): void {
    this.prefix();
    this.sink.text(text);
  }

  float32(v: number): void {
    this.prefix();
    writeFloat32(this.sink, v);
  }

  float64(v: number): void {
    this.prefix();
    writeFloat64(this.sink, v);
  }

  /** `{"b64": "<base64>"}`, as TF Serving writes bytes. */
  base64Object(bytes: Uint8Array): void {
    this.startObject();
    this.key("b64");
    this.prefix();
    this.sink.byte(34);
    this.sink.text(encodeBase64(bytes));
    this.sink.byte(34);
    this.endObject();
  }

  /** The text written; the writer must not be used afterwards (its buffer is recycled). */
  toString(): string {
    const text = this.sink.toString();
    if (this.sink.buf.length <= MAX_SPARE_BYTES) spareSink = this.sink;
    return text;
  }
}
