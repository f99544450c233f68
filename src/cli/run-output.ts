// Output of `ts-serving run`: results printed as saved_model_cli prints them (`str()` of a NumPy
// array, with NumPy 2's default print options), or saved as one .npy per output key.
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { strides as rowMajorStrides } from "../compiler/host/util.js";
import { invalidArgument, ServingError } from "../errors.js";
import { DataType, dtypeName } from "../tensor/dtype.js";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../tensor/half.js";
import { writeNpy } from "../tensor/npy.js";
import { Tensor } from "../tensor/tensor.js";

/** NumPy's default print options (np.get_printoptions()). */
const PRECISION = 8;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 75;

/** Output keys in the order saved_model_cli uses: sorted by code point. */
function sortedKeys(outputs: ReadonlyMap<string, Tensor>): string[] {
  return [...outputs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The text saved_model_cli run prints for the outputs: `Result for output key <key>:\n<str(array)>\n`
 * per key, keys sorted.
 *
 * @example
 * formatRunOutputs(new Map([["y", new Tensor(DataType.DT_FLOAT, [2, 1], new Float32Array([2.5, 3]))]]));
 * // "Result for output key y:\n[[2.5]\n [3. ]]\n"
 */
export function formatRunOutputs(outputs: ReadonlyMap<string, Tensor>): string {
  return sortedKeys(outputs)
    .map((key) => `Result for output key ${key}:\n${formatNumpy(outputs.get(key)!)}\n`)
    .join("");
}

/**
 * Saves each output as `<outdir>/<key>.npy` (creating outdir), like saved_model_cli run --outdir.
 * Refuses, before writing anything, when a file exists and `overwrite` is not set. bfloat16 outputs are
 * saved as float32 (NumPy has no bfloat16). Returns the lines to print:
 * `Output <key> is saved to <path>`.
 */
export async function saveRunOutputs(
  outputs: ReadonlyMap<string, Tensor>,
  outdir: string,
  options: { overwrite?: boolean } = {},
): Promise<string> {
  const keys = sortedKeys(outputs);
  for (const key of keys) {
    if (key === "" || key === "." || key === ".." || /[/\\\0]/.test(key)) {
      throw invalidArgument(`output key ${JSON.stringify(key)} cannot be used as a file name in --outdir`);
    }
  }
  const paths = keys.map((key) => join(outdir, `${key}.npy`));
  if (!options.overwrite) {
    const existing = paths.find((p) => existsSync(p));
    if (existing !== undefined) {
      throw invalidArgument(
        `Output file ${existing} already exists. Add "--overwrite" flag to overwrite existing output files.`,
      );
    }
  }
  await mkdir(outdir, { recursive: true });
  const lines: string[] = [];
  for (const [i, key] of keys.entries()) {
    let tensor = outputs.get(key)!;
    if (tensor.dtype === DataType.DT_BFLOAT16) {
      const bits = tensor.values;
      const floats = Float32Array.from(bits as Uint16Array, (b) => bfloat16ToFloat(b));
      tensor = new Tensor(DataType.DT_FLOAT, tensor.shape, floats);
    }
    try {
      await writeFile(paths[i]!, writeNpy(tensor), { flag: options.overwrite ? "w" : "wx" });
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") {
        throw invalidArgument(
          `Output file ${paths[i]} already exists. Add "--overwrite" flag to overwrite existing output files.`,
        );
      }
      throw ServingError.from(error);
    }
    lines.push(`Output ${key} is saved to ${paths[i]}\n`);
  }
  return lines.join("");
}

// --- str(ndarray) -------------------------------------------------------------------------------

/** How a dtype's elements are formatted. */
type Kind =
  | { type: "float"; format: FloatType }
  | { type: "complex"; format: FloatType }
  | { type: "int" }
  | { type: "bool" }
  | { type: "bytes" };

type Element = number | bigint | boolean | Uint8Array | [number, number];

/**
 * What `str(array)` prints in NumPy 2 with the default print options: `[[2.5]\n [3. ]]`, `[b'a' b'b']`,
 * `...` summaries above 1000 elements, lines wrapped at 75 columns; a scalar prints as its value.
 * DT_STRING values print as Python bytes literals, as TF returns them (object arrays of bytes).
 *
 * @example
 * formatNumpy(new Tensor(DataType.DT_FLOAT, [3], new Float32Array([1, 0.5, 100]))); // "[  1.    0.5 100. ]"
 */
export function formatNumpy(t: Tensor): string {
  const kind = kindOf(t.dtype);
  const element = elementReader(t, kind);
  if (t.shape.length === 0) return formatScalar(element(0), kind);
  if (t.size === 0) return "[]";

  const summarize = t.size > THRESHOLD;
  const strides = rowMajorStrides(t.shape);
  const shown = summarize ? shownIndices(t.shape, strides) : undefined;
  const values = shown ? shown.map(element) : Array.from({ length: t.size }, (_, i) => element(i));
  const format = formatterFor(kind, values);

  const recurse = (axis: number, offset: number, hangingIndent: string, currWidth: number): string => {
    if (axis === t.shape.length) return format(element(offset));
    const nextHangingIndent = `${hangingIndent} `;
    const nextWidth = currWidth - 1;
    const length = t.shape[axis]!;
    const stride = strides[axis]!;
    const showSummary = summarize && 2 * EDGE_ITEMS < length;
    const leading = showSummary ? EDGE_ITEMS : 0;
    const trailing = showSummary ? EDGE_ITEMS : length;
    const axesLeft = t.shape.length - axis;
    let s = "";
    if (axesLeft === 1) {
      const elemWidth = currWidth - 1; // max(len(separator.rstrip()), len("]"))
      let line = hangingIndent;
      const extend = (word: string) => {
        if (line.length + word.length > elemWidth && line.length > hangingIndent.length) {
          s += `${line.trimEnd()}\n`;
          line = hangingIndent;
        }
        line += word;
      };
      for (let i = 0; i < leading; i++) {
        extend(recurse(axis + 1, offset + i * stride, nextHangingIndent, nextWidth));
        line += " ";
      }
      if (showSummary) {
        extend("...");
        line += " ";
      }
      for (let i = trailing; i > 1; i--) {
        extend(recurse(axis + 1, offset + (length - i) * stride, nextHangingIndent, nextWidth));
        line += " ";
      }
      extend(recurse(axis + 1, offset + (length - 1) * stride, nextHangingIndent, nextWidth));
      s += line;
    } else {
      const lineSep = "\n".repeat(axesLeft - 1);
      for (let i = 0; i < leading; i++) {
        s += hangingIndent + recurse(axis + 1, offset + i * stride, nextHangingIndent, nextWidth) + lineSep;
      }
      if (showSummary) s += `${hangingIndent}...${lineSep}`;
      for (let i = trailing; i > 1; i--) {
        s +=
          hangingIndent +
          recurse(axis + 1, offset + (length - i) * stride, nextHangingIndent, nextWidth) +
          lineSep;
      }
      s += hangingIndent + recurse(axis + 1, offset + (length - 1) * stride, nextHangingIndent, nextWidth);
    }
    return `[${s.slice(hangingIndent.length)}]`;
  };
  return recurse(0, 0, " ", LINE_WIDTH);
}

/** Flat indices of the elements a summarized print shows (numpy's _leading_trailing). */
function shownIndices(shape: readonly number[], strides: readonly number[]): number[] {
  let offsets = [0];
  for (const [axis, length] of shape.entries()) {
    const keep =
      length > 2 * EDGE_ITEMS
        ? [
            ...Array.from({ length: EDGE_ITEMS }, (_, i) => i),
            ...Array.from({ length: EDGE_ITEMS }, (_, i) => length - EDGE_ITEMS + i),
          ]
        : Array.from({ length }, (_, i) => i);
    offsets = offsets.flatMap((o) => keep.map((i) => o + i * strides[axis]!));
  }
  return offsets;
}

function kindOf(dtype: DataType): Kind {
  switch (dtype) {
    case DataType.DT_HALF:
      return { type: "float", format: FLOAT16 };
    case DataType.DT_BFLOAT16:
      return { type: "float", format: BFLOAT16 };
    case DataType.DT_FLOAT:
      return { type: "float", format: FLOAT32 };
    case DataType.DT_DOUBLE:
      return { type: "float", format: FLOAT64 };
    case DataType.DT_COMPLEX64:
      return { type: "complex", format: FLOAT32 };
    case DataType.DT_COMPLEX128:
      return { type: "complex", format: FLOAT64 };
    case DataType.DT_BOOL:
      return { type: "bool" };
    case DataType.DT_STRING:
      return { type: "bytes" };
    case DataType.DT_INT8:
    case DataType.DT_INT16:
    case DataType.DT_INT32:
    case DataType.DT_INT64:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
    case DataType.DT_UINT32:
    case DataType.DT_UINT64:
    case DataType.DT_QINT8:
    case DataType.DT_QUINT8:
    case DataType.DT_QINT16:
    case DataType.DT_QUINT16:
    case DataType.DT_QINT32:
      return { type: "int" };
    default:
      throw invalidArgument(`cannot print ${dtypeName(dtype)} values`);
  }
}

function elementReader(t: Tensor, kind: Kind): (i: number) => Element {
  if (kind.type === "bytes") {
    const strings = t.strings;
    return (i) => strings[i]!;
  }
  const values = t.values;
  switch (kind.type) {
    case "bool":
      return (i) => values[i] !== 0;
    case "int":
      return (i) => values[i]!;
    case "complex":
      return (i) => [values[2 * i] as number, values[2 * i + 1] as number];
    case "float":
      if (t.dtype === DataType.DT_HALF) return (i) => halfToFloat(values[i] as number);
      if (t.dtype === DataType.DT_BFLOAT16) return (i) => bfloat16ToFloat(values[i] as number);
      return (i) => values[i] as number;
  }
}

/** str() of a NumPy scalar (what str() of a 0-d array prints). */
function formatScalar(value: Element, kind: Kind): string {
  switch (kind.type) {
    case "bool":
      return value ? "True" : "False";
    case "int":
      return String(value);
    case "bytes":
      return bytesRepr(value as Uint8Array);
    case "float":
      return floatScalarStr(value as number, kind.format, false);
    case "complex": {
      const [re, im] = value as [number, number];
      // Like Python's complex repr: parts without a trailing ".0", no parentheses for a +0 real part.
      const imag = `${floatScalarStr(im, kind.format, true, Trim.DptZeros)}j`;
      if (re === 0 && !Object.is(re, -0)) return imag.startsWith("+") ? imag.slice(1) : imag;
      return `(${floatScalarStr(re, kind.format, false, Trim.DptZeros)}${imag})`;
    }
  }
}

/**
 * numpy's float scalar str: positional for zero and from 1e-4 up to a cutoff that depends on the type
 * (1e3 for float16, 1e6 for float32, 1e16 for float64), else scientific.
 */
function floatScalarStr(
  x: number,
  format: FloatType,
  sign: boolean,
  positionalTrim: Trim = Trim.LeaveOneZero,
): string {
  if (!Number.isFinite(x)) {
    if (Number.isNaN(x)) return sign ? "+nan" : "nan";
    return x < 0 ? "-inf" : sign ? "+inf" : "inf";
  }
  const abs = Math.abs(x);
  const parts = decompose(x, format);
  if (abs === 0 || (abs < format.scalarCutoff && abs >= 1e-4)) {
    return formatPositional(parts, { sign, precision: -1, minDigits: -1, trim: positionalTrim });
  }
  return formatScientific(parts, { sign, precision: -1, minDigits: -1, trim: Trim.DptZeros });
}

/** Python's repr of a bytes object: b'abc', b"it's", b'\x00\n'. */
export function bytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let s = "";
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === quote || ch === "\\") s += `\\${ch}`;
    else if (b === 0x09) s += "\\t";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x0d) s += "\\r";
    else if (b < 0x20 || b >= 0x7f) s += `\\x${b.toString(16).padStart(2, "0")}`;
    else s += ch;
  }
  return `b${quote}${s}${quote}`;
}

function formatterFor(kind: Kind, values: readonly Element[]): (value: Element) => string {
  switch (kind.type) {
    case "bool":
      return (v) => (v ? " True" : "False");
    case "bytes":
      return (v) => bytesRepr(v as Uint8Array);
    case "int": {
      let max = values[0] as number | bigint;
      let min = max;
      for (const v of values as (number | bigint)[]) {
        if (v > max) max = v;
        if (v < min) min = v;
      }
      const width = Math.max(String(max).length, String(min).length);
      return (v) => String(v).padStart(width, " ");
    }
    case "float": {
      const format = new FloatingFormat(values as number[], kind.format, "-");
      return (v) => format.format(v as number);
    }
    case "complex": {
      const pairs = values as [number, number][];
      const real = new FloatingFormat(
        pairs.map(([re]) => re),
        kind.format,
        "-",
      );
      const imag = new FloatingFormat(
        pairs.map(([, im]) => im),
        kind.format,
        "+",
      );
      return (v) => {
        const [re, im] = v as [number, number];
        const i = imag.format(im);
        const end = i.trimEnd().length;
        return `${real.format(re)}${i.slice(0, end)}j${i.slice(end)}`;
      };
    }
  }
}

// --- numpy's FloatingFormat (floatmode "maxprec", precision 8, suppress=False) -------------------

/** A binary floating-point format: widths, rounding of a double to it, and np.finfo(...).precision. */
interface FloatType {
  readonly mantissaBits: number;
  readonly exponentBits: number;
  readonly round: (x: number) => number;
  readonly decimalPrecision: number;
  /** Where str() of a scalar switches to scientific notation. */
  readonly scalarCutoff: number;
}

const FLOAT16: FloatType = {
  mantissaBits: 10,
  exponentBits: 5,
  round: (x) => halfToFloat(floatToHalf(x)),
  decimalPrecision: 3,
  scalarCutoff: 1e3,
};
const BFLOAT16: FloatType = {
  mantissaBits: 7,
  exponentBits: 8,
  round: (x) => bfloat16ToFloat(floatToBfloat16(x)),
  decimalPrecision: 2,
  scalarCutoff: 1e2,
};
const FLOAT32: FloatType = {
  mantissaBits: 23,
  exponentBits: 8,
  round: Math.fround,
  decimalPrecision: 6,
  scalarCutoff: 1e6,
};
const FLOAT64: FloatType = {
  mantissaBits: 52,
  exponentBits: 11,
  round: (x) => x,
  decimalPrecision: 15,
  scalarCutoff: 1e16,
};

class FloatingFormat {
  private readonly expFormat: boolean = false;
  private readonly padLeft: number;
  private readonly padRight: number;
  private readonly precision: number;
  private readonly minDigits: number;
  private readonly trim: Trim;
  private readonly expSize: number;

  constructor(
    data: readonly number[],
    private readonly type: FloatType,
    private readonly sign: "-" | "+",
  ) {
    const finite = data.filter((x) => Number.isFinite(x));
    const absNonZero = finite.filter((x) => x !== 0).map((x) => Math.abs(x));
    if (absNonZero.length > 0) {
      const max = Math.max(...absNonZero);
      const min = Math.min(...absNonZero);
      // numpy compares in the array's dtype (NEP 50: Python floats are cast to it).
      const cutoff = type.round(10 ** Math.min(8, type.decimalPrecision));
      const ratio = type.round(max / min);
      this.expFormat = max >= cutoff || min < type.round(0.0001) || ratio > 1000;
    }
    const withSign = sign === "+";
    if (finite.length === 0) {
      this.padLeft = 0;
      this.padRight = 0;
      this.trim = Trim.Zeros;
      this.expSize = -1;
      this.precision = PRECISION;
      this.minDigits = -1;
    } else if (this.expFormat) {
      const strs = finite.map((x) =>
        formatScientific(decompose(x, type), {
          sign: withSign,
          precision: PRECISION,
          minDigits: -1,
          trim: Trim.Zeros,
        }),
      );
      const mantissas = strs.map((s) => s.slice(0, s.indexOf("e")));
      const exponents = strs.map((s) => s.slice(s.indexOf("e") + 1));
      this.expSize = Math.max(...exponents.map((e) => e.length)) - 1;
      this.trim = Trim.None;
      this.precision = Math.max(...mantissas.map((m) => m.length - m.indexOf(".") - 1));
      this.minDigits = this.precision;
      this.padLeft = Math.max(...mantissas.map((m) => m.indexOf(".")));
      this.padRight = this.expSize + 2 + this.precision;
    } else {
      const strs = finite.map((x) =>
        formatPositional(decompose(x, type), {
          sign: withSign,
          precision: PRECISION,
          minDigits: -1,
          trim: Trim.Zeros,
        }),
      );
      this.padLeft = Math.max(...strs.map((s) => s.indexOf(".")));
      this.padRight = Math.max(...strs.map((s) => s.length - s.indexOf(".") - 1));
      this.expSize = -1;
      this.precision = PRECISION;
      this.trim = Trim.Zeros;
      this.minDigits = 0;
    }
    if (finite.length !== data.length) {
      const negInf = sign !== "-" || data.some((x) => x === -Infinity);
      const offset = this.padRight + 1;
      this.padLeft = Math.max(this.padLeft, 3 - offset, 3 + (negInf ? 1 : 0) - offset);
    }
  }

  format(x: number): string {
    if (!Number.isFinite(x)) {
      const ret = Number.isNaN(x)
        ? `${this.sign === "+" ? "+" : ""}nan`
        : `${x < 0 ? "-" : this.sign === "+" ? "+" : ""}inf`;
      return " ".repeat(Math.max(0, this.padLeft + this.padRight + 1 - ret.length)) + ret;
    }
    const parts = decompose(x, this.type);
    const options = {
      sign: this.sign === "+",
      precision: this.precision,
      minDigits: this.minDigits,
      trim: this.trim,
      padLeft: this.padLeft,
    };
    return this.expFormat
      ? formatScientific(parts, { ...options, expDigits: this.expSize })
      : formatPositional(parts, { ...options, padRight: this.padRight });
  }
}

// --- Dragon4 (numpy's dragon4.c, "unique" digit mode) -----------------------------------------

/** numpy's trim modes: 'k' keeps trailing zeros, '.' trims them, '0' leaves one, '-' drops the point too. */
enum Trim {
  None,
  Zeros,
  LeaveOneZero,
  DptZeros,
}

/** A finite float as mantissa * 2^exponent, with what Dragon4 needs to find its shortest digits. */
interface FloatParts {
  readonly negative: boolean;
  readonly mantissa: bigint;
  readonly exponent: number;
  readonly mantissaBit: number;
  readonly unequalMargins: boolean;
}

const scratch64 = new Float64Array(1);
const scratchBits = new BigUint64Array(scratch64.buffer);

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Splits a finite value of `type` (held exactly in a double) the way numpy's Dragon4_PrintFloat_* do. */
function decompose(x: number, type: FloatType): FloatParts {
  const negative = x < 0 || Object.is(x, -0);
  scratch64[0] = Math.abs(x);
  const bits = scratchBits[0]!;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0 && fraction === 0n) {
    return { negative, mantissa: 0n, exponent: 0, mantissaBit: 0, unequalMargins: false };
  }
  // x = m * 2^e exactly.
  const m = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = biased === 0 ? -1074 : biased - 1075;
  const bias = 2 ** (type.exponentBits - 1) - 1;
  const unbiased = bitLength(m) - 1 + e;
  const mbits = type.mantissaBits;
  if (unbiased >= 1 - bias) {
    const exponent = unbiased - mbits;
    const mantissa = shift(m, e - exponent);
    return {
      negative,
      mantissa,
      exponent,
      mantissaBit: mbits,
      unequalMargins: unbiased !== 1 - bias && mantissa === 1n << BigInt(mbits),
    };
  }
  const exponent = 1 - bias - mbits;
  const mantissa = shift(m, e - exponent);
  return { negative, mantissa, exponent, mantissaBit: bitLength(mantissa) - 1, unequalMargins: false };
}

function shift(n: bigint, by: number): bigint {
  return by >= 0 ? n << BigInt(by) : n >> BigInt(-by);
}

const LOG10_2 = 0.3010299956639812; // log10(2) as a double, as in dragon4.c

/**
 * Dragon4 in numpy's unique mode: the shortest digits that identify the value among its neighbours,
 * cut off at `cutoffMax` digits (counted past the point, or in total) and printing at least `cutoffMin`.
 * Returns the digits and the decimal exponent of the first one.
 */
function dragon4(
  parts: FloatParts,
  cutoffMode: "fraction" | "total",
  cutoffMax: number,
  cutoffMin: number,
): { digits: string; exponent: number } {
  const { mantissa, exponent, mantissaBit, unequalMargins } = parts;
  if (mantissa === 0n) return { digits: "0", exponent: 0 };
  const isEven = mantissa % 2n === 0n;
  let scale: bigint;
  let value: bigint;
  let marginLow: bigint;
  if (unequalMargins) {
    if (exponent > 0) {
      value = mantissa << BigInt(exponent + 2);
      scale = 4n;
      marginLow = 1n << BigInt(exponent);
    } else {
      value = mantissa << 2n;
      scale = 1n << BigInt(-exponent + 2);
      marginLow = 1n;
    }
  } else if (exponent > 0) {
    value = mantissa << BigInt(exponent + 1);
    scale = 2n;
    marginLow = 1n << BigInt(exponent);
  } else {
    value = mantissa << 1n;
    scale = 1n << BigInt(-exponent + 1);
    marginLow = 1n;
  }
  const marginHigh = () => (unequalMargins ? marginLow * 2n : marginLow);

  let digitExponent = Math.ceil((mantissaBit + exponent) * LOG10_2 - 0.69);
  if (cutoffMax >= 0 && cutoffMode === "fraction" && digitExponent <= -cutoffMax) {
    digitExponent = -cutoffMax + 1;
  }
  if (digitExponent > 0) {
    scale *= 10n ** BigInt(digitExponent);
  } else if (digitExponent < 0) {
    const pow10 = 10n ** BigInt(-digitExponent);
    value *= pow10;
    marginLow *= pow10;
  }
  if (value >= scale) {
    digitExponent += 1;
  } else {
    value *= 10n;
    marginLow *= 10n;
  }

  let cutoffMaxExponent = digitExponent - 16384;
  if (cutoffMax >= 0) {
    const desired = cutoffMode === "total" ? digitExponent - cutoffMax : -cutoffMax;
    if (desired > cutoffMaxExponent) cutoffMaxExponent = desired;
  }
  let cutoffMinExponent = digitExponent;
  if (cutoffMin >= 0) {
    const desired = cutoffMode === "total" ? digitExponent - cutoffMin : -cutoffMin;
    if (desired < cutoffMinExponent) cutoffMinExponent = desired;
  }
  let outExponent = digitExponent - 1;

  const digits: number[] = [];
  let low = false;
  let high = false;
  let outputDigit = 0;
  for (;;) {
    digitExponent -= 1;
    outputDigit = Number(value / scale);
    value %= scale;
    const valueHigh = value + marginHigh();
    low = isEven ? value <= marginLow : value < marginLow;
    high = isEven ? valueHigh >= scale : valueHigh > scale;
    if (((low || high) && digitExponent <= cutoffMinExponent) || digitExponent === cutoffMaxExponent) break;
    digits.push(outputDigit);
    value *= 10n;
    marginLow *= 10n;
  }

  let roundDown = low;
  if (low === high) {
    const twice = value * 2n;
    roundDown = twice < scale;
    if (twice === scale) roundDown = (outputDigit & 1) === 0;
  }
  if (roundDown) {
    digits.push(outputDigit);
  } else if (outputDigit === 9) {
    for (;;) {
      if (digits.length === 0) {
        digits.push(1);
        outExponent += 1;
        break;
      }
      const last = digits.pop()!;
      if (last !== 9) {
        digits.push(last + 1);
        break;
      }
    }
  } else {
    digits.push(outputDigit + 1);
  }
  return { digits: digits.join(""), exponent: outExponent };
}

interface FormatOptions {
  sign: boolean;
  precision: number;
  minDigits: number;
  trim: Trim;
  padLeft?: number;
  padRight?: number;
  expDigits?: number;
}

/** numpy's FormatPositional (fractional cutoff, unique digits). */
function formatPositional(parts: FloatParts, options: FormatOptions): string {
  const { precision, minDigits, trim } = options;
  const signChar = parts.negative ? "-" : options.sign ? "+" : "";
  const { digits, exponent } = dragon4(parts, "fraction", precision, minDigits);
  let body: string;
  let wholeDigits: number;
  let fractionDigits = 0;
  if (exponent >= 0) {
    wholeDigits = exponent + 1;
    if (digits.length <= wholeDigits) {
      body = digits + "0".repeat(wholeDigits - digits.length);
    } else {
      fractionDigits = digits.length - wholeDigits;
      body = `${digits.slice(0, wholeDigits)}.${digits.slice(wholeDigits)}`;
    }
  } else {
    const fractionZeros = -(exponent + 1);
    body = `0.${"0".repeat(fractionZeros)}${digits}`;
    fractionDigits = fractionZeros + digits.length;
    wholeDigits = 1;
  }
  if (trim !== Trim.DptZeros && fractionDigits === 0) body += ".";
  const desiredFractionDigits = Math.max(0, minDigits);
  if (trim === Trim.LeaveOneZero) {
    if (fractionDigits === 0) {
      body += "0";
      fractionDigits++;
    }
  } else if (trim === Trim.None && desiredFractionDigits > fractionDigits) {
    body += "0".repeat(desiredFractionDigits - fractionDigits);
    fractionDigits = desiredFractionDigits;
  }
  if (trim !== Trim.None && fractionDigits > 0) {
    while (body.endsWith("0")) {
      body = body.slice(0, -1);
      fractionDigits--;
    }
    if (body.endsWith(".")) {
      if (trim === Trim.LeaveOneZero) {
        body += "0";
        fractionDigits++;
      } else if (trim === Trim.DptZeros) {
        body = body.slice(0, -1);
      }
    }
  }
  const padRight = options.padRight ?? -1;
  if (padRight >= fractionDigits) {
    if (trim === Trim.DptZeros && fractionDigits === 0) body += " ";
    body += " ".repeat(padRight - fractionDigits);
  }
  const padLeft = options.padLeft ?? -1;
  const left = padLeft - (wholeDigits + signChar.length);
  return (left > 0 ? " ".repeat(left) : "") + signChar + body;
}

/** numpy's FormatScientific (unique digits, precision counted after the first digit). */
function formatScientific(parts: FloatParts, options: FormatOptions): string {
  const { precision, minDigits, trim } = options;
  const signChar = parts.negative ? "-" : options.sign ? "+" : "";
  const padLeft = options.padLeft ?? -1;
  const leftChars = 1 + signChar.length;
  const pad = padLeft > leftChars ? " ".repeat(padLeft - leftChars) : "";
  const { digits, exponent } = dragon4(
    parts,
    "total",
    precision < 0 ? -1 : precision + 1,
    minDigits < 0 ? -1 : minDigits + 1,
  );
  let body = digits[0]!;
  let fractionDigits = digits.length - 1;
  if (fractionDigits > 0) body += `.${digits.slice(1)}`;
  if (trim !== Trim.DptZeros && fractionDigits === 0) body += ".";
  const addDigits = Math.max(0, minDigits);
  if (trim === Trim.LeaveOneZero) {
    if (fractionDigits === 0) {
      body += "0";
      fractionDigits++;
    }
  } else if (trim === Trim.None && addDigits > fractionDigits) {
    body += "0".repeat(addDigits - fractionDigits);
    fractionDigits = addDigits;
  }
  if (trim !== Trim.None && fractionDigits > 0) {
    while (body.endsWith("0")) {
      body = body.slice(0, -1);
      fractionDigits--;
    }
    if (trim === Trim.LeaveOneZero && body.endsWith(".")) {
      body += "0";
      fractionDigits++;
    }
  }
  let expDigits = options.expDigits ?? -1;
  if (expDigits > 5) expDigits = 5;
  if (expDigits < 0) expDigits = 2;
  const exponentText = String(Math.abs(exponent)).padStart(expDigits, "0");
  return `${pad}${signChar}${body}e${exponent >= 0 ? "+" : "-"}${exponentText}`;
}
