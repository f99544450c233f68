// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// a magic string, a version, a header that is a Python dict literal, then the raw array data.
import { invalidArgument } from "../errors.js";
import { DataType, dtypeName, fixedDType } from "./dtype.js";
import { numElements, Tensor, tensorFromBytes, tensorToBytes } from "./tensor.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
/** numpy pads the header so that the first dimension can grow to this many digits in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/** How one element of a numeric descr is stored: the tensor dtype and the byte order. */
interface NumericDescr {
  readonly kind: "numeric";
  readonly dtype: DataType;
  readonly bigEndian: boolean;
  /** Bytes of each byte-swapped unit (half the element size for complex numbers). */
  readonly swapUnit: number;
}

interface StringDescr {
  readonly kind: "bytes" | "unicode";
  /** Characters per element: bytes for |S, UTF-32 code units for <U. */
  readonly length: number;
  readonly bigEndian: boolean;
}

type Descr = NumericDescr | StringDescr;

/** The numeric dtypes by numpy type character and item size. */
const NUMERIC: Record<string, Record<number, DataType>> = {
  f: { 2: DataType.DT_HALF, 4: DataType.DT_FLOAT, 8: DataType.DT_DOUBLE },
  i: { 1: DataType.DT_INT8, 2: DataType.DT_INT16, 4: DataType.DT_INT32, 8: DataType.DT_INT64 },
  u: { 1: DataType.DT_UINT8, 2: DataType.DT_UINT16, 4: DataType.DT_UINT32, 8: DataType.DT_UINT64 },
  b: { 1: DataType.DT_BOOL },
  c: { 8: DataType.DT_COMPLEX64, 16: DataType.DT_COMPLEX128 },
};

/** The descr np.save writes for each dtype we can write (single-byte types have no byte order: "|"). */
const WRITE_DESCR: Partial<Record<DataType, string>> = {
  [DataType.DT_HALF]: "<f2",
  [DataType.DT_FLOAT]: "<f4",
  [DataType.DT_DOUBLE]: "<f8",
  [DataType.DT_INT8]: "|i1",
  [DataType.DT_INT16]: "<i2",
  [DataType.DT_INT32]: "<i4",
  [DataType.DT_INT64]: "<i8",
  [DataType.DT_UINT8]: "|u1",
  [DataType.DT_UINT16]: "<u2",
  [DataType.DT_UINT32]: "<u4",
  [DataType.DT_UINT64]: "<u8",
  [DataType.DT_BOOL]: "|b1",
  [DataType.DT_COMPLEX64]: "<c8",
  [DataType.DT_COMPLEX128]: "<c16",
};

/**
 * Reads a NumPy `.npy` file (format 1.0, 2.0 or 3.0) into a Tensor.
 *
 * Numeric descrs `<f2 <f4 <f8 <i1..<i8 <u1..<u8 |b1 <c8 <c16` in either byte order (big-endian data is
 * byte-swapped); `|S<n>` and `<U<n>` arrays become DT_STRING (trailing NULs stripped, as numpy does;
 * `U` text is UTF-8 encoded). Fortran-order arrays are transposed to row-major. Object arrays
 * (pickles), structured, datetime and void dtypes are an INVALID_ARGUMENT. Bytes after the array data
 * are ignored, as np.load does.
 *
 * @example
 * const t = readNpy(await readFile("x.npy")); // e.g. DT_FLOAT [2, 2]
 */
export function readNpy(input: Uint8Array): Tensor {
  // A plain Uint8Array view: a Buffer's slice() would not copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const { header, dataOffset } = readHeader(bytes);
  const fields = parseHeader(header);
  const descr = parseDescr(fields.descr);
  const { shape, fortranOrder } = fields;
  const count = numElements(shape);
  const itemSize = descrItemSize(descr);
  const byteLength = count * itemSize;
  if (bytes.byteLength - dataOffset < byteLength) {
    throw invalidArgument(
      `.npy data is truncated: shape (${shape.join(", ")}) of ${fields.descr} needs ${byteLength} bytes, the file has ${bytes.byteLength - dataOffset}`,
    );
  }
  const data = bytes.subarray(dataOffset, dataOffset + byteLength);
  const tensor =
    descr.kind === "numeric" ? readNumeric(descr, shape, data) : readStrings(descr, shape, count, data);
  return fortranOrder && shape.length > 1 ? fromFortranOrder(tensor) : tensor;
}

/**
 * Writes a Tensor as NumPy's np.save does: format 1.0 (2.0 when the header is too long), C order,
 * little-endian, header padded so the data starts on a 64-byte boundary. DT_STRING becomes
 * `|S<longest>` (at least |S1), each value NUL-padded; values that end in NUL bytes lose them when read
 * back, as in numpy. Dtypes numpy has no type for (bfloat16, quantized, float8...) are an INVALID_ARGUMENT.
 *
 * @example
 * await writeFile("y.npy", writeNpy(new Tensor(DataType.DT_FLOAT, [2], new Float32Array([1, 2]))));
 */
export function writeNpy(t: Tensor): Uint8Array {
  let descr: string;
  let data: Uint8Array;
  if (t.dtype === DataType.DT_STRING) {
    const values = t.strings;
    const length = Math.max(1, ...values.map((v) => v.byteLength));
    descr = `|S${length}`;
    data = new Uint8Array(values.length * length);
    values.forEach((v, i) => {
      data.set(v, i * length);
    });
  } else {
    const found = WRITE_DESCR[t.dtype];
    if (found === undefined) {
      throw invalidArgument(`cannot write ${dtypeName(t.dtype)} to .npy: NumPy has no such dtype`);
    }
    descr = found;
    data = tensorToBytes(t);
  }
  const header = encodeHeader(descr, t.shape);
  const out = new Uint8Array(header.byteLength + data.byteLength);
  out.set(header);
  out.set(data, header.byteLength);
  return out;
}

/** numpy's _write_array_header: the dict repr with sorted keys, growth padding, alignment and "\n". */
function encodeHeader(descr: string, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const withLength = (lengthBytes: number): { prefix: number; total: number } => {
    const prefix = MAGIC.length + 2 + lengthBytes;
    const hlen = dict.length + 1;
    const padlen = ARRAY_ALIGN - ((prefix + hlen) % ARRAY_ALIGN);
    return { prefix, total: hlen + padlen };
  };
  let version = 1;
  let { prefix, total } = withLength(2);
  if (total > 0xffff) {
    version = 2;
    ({ prefix, total } = withLength(4));
  }
  const out = new Uint8Array(prefix + total).fill(0x20);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total, true);
  else view.setUint32(8, total, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out[out.length - 1] = 0x0a;
  return out;
}

/** Python's repr of a shape tuple: "()", "(3,)", "(2, 2)". */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

function readHeader(bytes: Uint8Array): { header: string; dataOffset: number } {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    const zip = bytes[0] === 0x50 && bytes[1] === 0x4b;
    throw invalidArgument(
      zip
        ? "this is an .npz archive (a zip of .npy files), which is not supported: save one array with np.save"
        : "not a .npy file: it does not start with \\x93NUMPY",
    );
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw invalidArgument(`unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.byteLength < 8 + lengthBytes) throw invalidArgument(".npy header is truncated");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (bytes.byteLength < start + headerLength) throw invalidArgument(".npy header is truncated");
  const raw = bytes.subarray(start, start + headerLength);
  // 1.0 and 2.0 headers are latin1; 3.0 allows UTF-8 (for unicode structured field names).
  const header = major === 3 ? new TextDecoder("utf-8", { fatal: true }).decode(raw) : latin1(raw);
  return { header, dataOffset: start + headerLength };
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

// --- The header: a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }

type HeaderValue = string | number | boolean | null | HeaderValue[] | { tuple: HeaderValue[] };

interface HeaderFields {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(header: string): HeaderFields {
  const fail = (why: string): never => {
    throw invalidArgument(`cannot parse .npy header ${JSON.stringify(header.trim())}: ${why}`);
  };
  let pos = 0;
  const skipSpace = () => {
    while (pos < header.length && /\s/.test(header[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (header[pos] !== ch) fail(`expected '${ch}' at offset ${pos}`);
    pos++;
  };
  const parseSequence = (close: string): HeaderValue[] => {
    const items: HeaderValue[] = [];
    for (;;) {
      skipSpace();
      if (header[pos] === close) {
        pos++;
        return items;
      }
      items.push(parseValue());
      skipSpace();
      if (header[pos] === ",") pos++;
      else if (header[pos] !== close) fail(`expected ',' or '${close}' at offset ${pos}`);
    }
  };
  const parseValue = (): HeaderValue => {
    skipSpace();
    const ch = header[pos];
    if (ch === "'" || ch === '"') {
      const end = header.indexOf(ch, pos + 1);
      if (end < 0) fail("unterminated string");
      const s = header.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    if (ch === "(") {
      pos++;
      return { tuple: parseSequence(")") };
    }
    if (ch === "[") {
      pos++;
      return parseSequence("]");
    }
    const word = /^(?:-?\d+L?|True|False|None)/.exec(header.slice(pos));
    if (!word) return fail(`unexpected ${JSON.stringify(header.slice(pos, pos + 10))}`);
    pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number.parseInt(word[0], 10);
  };

  expect("{");
  const fields = new Map<string, HeaderValue>();
  for (;;) {
    skipSpace();
    if (header[pos] === "}") {
      pos++;
      break;
    }
    const key = parseValue();
    if (typeof key !== "string") fail("dict keys must be strings");
    expect(":");
    fields.set(key as string, parseValue());
    skipSpace();
    if (header[pos] === ",") pos++;
    else if (header[pos] !== "}") fail(`expected ',' or '}' at offset ${pos}`);
  }
  skipSpace();
  if (pos !== header.length) fail("trailing characters after the dict");
  const keys = [...fields.keys()].sort();
  if (keys.join() !== "descr,fortran_order,shape") {
    fail(`the keys must be descr, fortran_order and shape, got ${keys.join(", ")}`);
  }
  const descr = fields.get("descr")!;
  const fortranOrder = fields.get("fortran_order")!;
  const shape = fields.get("shape")!;
  if (typeof descr !== "string") {
    throw invalidArgument(
      `unsupported .npy dtype ${JSON.stringify(descr)}: structured arrays are not supported`,
    );
  }
  if (typeof fortranOrder !== "boolean") fail("fortran_order is not a bool");
  if (
    shape === null ||
    typeof shape !== "object" ||
    !("tuple" in shape) ||
    !shape.tuple.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    return fail("shape is not a tuple of non-negative ints");
  }
  return { descr, fortranOrder: fortranOrder as boolean, shape: shape.tuple as number[] };
}

function parseDescr(descr: string): Descr {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) throw invalidArgument(`unsupported .npy dtype '${descr}'`);
  const [, order, type, size] = m as unknown as [string, string, string, string];
  const bigEndian = order === ">";
  const n = size === "" ? Number.NaN : Number.parseInt(size, 10);
  if (type === "O") {
    throw invalidArgument(
      `.npy holds an object array ('${descr}', pickled Python objects), which cannot be read safely; save a numeric or bytes (|S) array instead`,
    );
  }
  if (type === "S" || type === "a") return { kind: "bytes", length: Number.isNaN(n) ? 0 : n, bigEndian };
  if (type === "U") return { kind: "unicode", length: Number.isNaN(n) ? 0 : n, bigEndian };
  const dtype = NUMERIC[type]?.[n];
  if (dtype === undefined) {
    const why =
      type === "M" || type === "m"
        ? "datetime and timedelta arrays are not supported"
        : type === "V"
          ? "void (raw or structured) arrays are not supported"
          : type === "f" && n === 16
            ? "long double (float128) arrays are not supported"
            : "not a supported dtype";
    throw invalidArgument(`unsupported .npy dtype '${descr}': ${why}`);
  }
  const lanes = type === "c" ? 2 : 1;
  return { kind: "numeric", dtype, bigEndian, swapUnit: n / lanes };
}

function descrItemSize(descr: Descr): number {
  if (descr.kind === "numeric") return fixedDType(descr.dtype)!.byteSize;
  return descr.kind === "bytes" ? descr.length : descr.length * 4;
}

function readNumeric(descr: NumericDescr, shape: readonly number[], data: Uint8Array): Tensor {
  if (descr.bigEndian && descr.swapUnit > 1) {
    const swapped = new Uint8Array(data.byteLength);
    const unit = descr.swapUnit;
    for (let i = 0; i < data.byteLength; i += unit) {
      for (let j = 0; j < unit; j++) swapped[i + j] = data[i + unit - 1 - j]!;
    }
    return tensorFromBytes(descr.dtype, shape, swapped);
  }
  // Copy so that the tensor owns its memory rather than viewing the caller's buffer.
  const tensor = tensorFromBytes(descr.dtype, shape, data.slice());
  if (descr.dtype === DataType.DT_BOOL) {
    const values = tensor.values as Uint8Array;
    for (let i = 0; i < values.length; i++) if (values[i]! > 1) values[i] = 1;
  }
  return tensor;
}

function readStrings(descr: StringDescr, shape: readonly number[], count: number, data: Uint8Array): Tensor {
  const values: Uint8Array[] = [];
  if (descr.kind === "bytes") {
    const n = descr.length;
    for (let i = 0; i < count; i++) {
      let end = (i + 1) * n;
      while (end > i * n && data[end - 1] === 0) end--;
      values.push(data.slice(i * n, end));
    }
    return new Tensor(DataType.DT_STRING, shape, values);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const encoder = new TextEncoder();
  const n = descr.length;
  for (let i = 0; i < count; i++) {
    const codes: number[] = [];
    for (let j = 0; j < n; j++) codes.push(view.getUint32((i * n + j) * 4, !descr.bigEndian));
    while (codes.length > 0 && codes[codes.length - 1] === 0) codes.pop();
    let text = "";
    for (const code of codes) {
      if (code > 0x10ffff) {
        throw invalidArgument(`.npy unicode array holds an invalid code point 0x${code.toString(16)}`);
      }
      text += String.fromCodePoint(code);
    }
    values.push(encoder.encode(text));
  }
  return new Tensor(DataType.DT_STRING, shape, values);
}

/** Reorders a tensor whose values were read in Fortran (column-major) order into row-major order. */
function fromFortranOrder(t: Tensor): Tensor {
  const shape = t.shape;
  const count = t.size;
  // For each row-major index, the column-major position of the same element.
  const source = new Array<number>(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let offset = 0;
    let stride = 1;
    for (let axis = 0; axis < shape.length; axis++) {
      offset += index[axis]! * stride;
      stride *= shape[axis]!;
    }
    source[flat] = offset;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      if (index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  if (t.dtype === DataType.DT_STRING) {
    const strings = t.strings;
    return new Tensor(
      t.dtype,
      shape,
      source.map((s) => strings[s]!),
    );
  }
  const values = t.values;
  const lanes = fixedDType(t.dtype)!.lanes;
  const out = new (values.constructor as { new (n: number): typeof values })(values.length);
  for (let flat = 0; flat < count; flat++) {
    for (let lane = 0; lane < lanes; lane++) {
      (out as unknown as unknown[])[flat * lanes + lane] = (values as unknown as unknown[])[
        source[flat]! * lanes + lane
      ];
    }
  }
  return new Tensor(t.dtype, shape, out);
}
