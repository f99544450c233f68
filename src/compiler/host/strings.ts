// String ops on byte strings, as TF's kernels compute them: string_join_op.cc, string_split_op.cc,
// reduce_join_op.cc, string_lower/upper_op.cc, string_strip_op.cc, substr_op.cc, string_length_op.cc,
// base64_ops.cc (+ tsl/platform/base64.cc).
import { Code, invalidArgument, ServingError } from "../../errors.js";
import { numElements } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import {
  attrBool,
  attrBytes,
  attrInt,
  attrString,
  broadcastIndex,
  broadcastShape,
  concatBytes,
  input,
  int32Tensor,
  int64Tensor,
  intValues,
  latin1,
  sameShape,
  strides,
  stringInput,
  stringTensor,
  tfShape,
  utf8Decode,
  utf8Encode,
} from "./util.js";

// ---------------------------------------------------------------------------------------------
// StringJoin

/** StringJoin: inputs of one shape, scalars repeated; elements joined with `separator`. */
const stringJoin: HostKernel = (node, inputs) => {
  const separator = attrBytes(node, "separator", new Uint8Array());
  const parts = inputs.map((_, i) => stringInput(node, inputs, i, "inputs"));
  let shape: readonly number[] = [];
  for (const t of parts) {
    if (t.rank === 0) continue;
    if (shape.length === 0) shape = t.shape;
    else if (!sameShape(shape, t.shape)) {
      throw invalidArgument(`Input shapes do not match: ${tfShape(shape)} vs. ${tfShape(t.shape)}`);
    }
  }
  const n = numElements(shape);
  const out = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const pieces: Uint8Array[] = [];
    parts.forEach((t, j) => {
      if (j > 0) pieces.push(separator);
      pieces.push(t.strings[t.rank === 0 ? 0 : i]!);
    });
    out[i] = concatBytes(pieces);
  }
  return [stringTensor(shape, out)];
};

// ---------------------------------------------------------------------------------------------
// Splitting (sparse outputs: indices [n,2], values [n], shape [batch, max tokens]).

function sparseOutputs(tokens: Uint8Array[][]): ReturnType<HostKernel> {
  const indices: bigint[] = [];
  const values: Uint8Array[] = [];
  let max = 0;
  tokens.forEach((row, i) => {
    max = Math.max(max, row.length);
    row.forEach((tok, j) => {
      indices.push(BigInt(i), BigInt(j));
      values.push(tok);
    });
  });
  return [
    int64Tensor([values.length, 2], indices),
    stringTensor([values.length], values),
    int64Tensor([2], [BigInt(tokens.length), BigInt(max)]),
  ];
}

/** str_util-style split on any byte of `delims`; an empty string yields no tokens. */
function splitOnAny(s: Uint8Array, delims: Uint8Array, skipEmpty: boolean): Uint8Array[] {
  if (s.length === 0) return [];
  if (delims.length === 0) return Array.from(s, (_, i) => s.subarray(i, i + 1));
  const out: Uint8Array[] = [];
  let from = 0;
  for (let i = 0; i <= s.length; i++) {
    if (i === s.length || delims.includes(s[i]!)) {
      if (!skipEmpty || i > from) out.push(s.subarray(from, i));
      from = i + 1;
    }
  }
  return out;
}

const vectorInput = (node: Parameters<HostKernel>[0], inputs: Parameters<HostKernel>[1]) => {
  const t = stringInput(node, inputs, 0, "input");
  if (t.rank !== 1) throw invalidArgument(`input must be a vector, got shape: ${tfShape(t.shape)}`);
  return t;
};

/** StringSplit: each byte of `delimiter` splits; an empty delimiter splits into bytes. */
const stringSplit: HostKernel = (node, inputs) => {
  const t = vectorInput(node, inputs);
  const d = stringInput(node, inputs, 1, "delimiter");
  if (d.rank !== 0) throw invalidArgument(`delimiter must be a scalar, got shape: ${tfShape(d.shape)}`);
  const skipEmpty = attrBool(node, "skip_empty", true);
  return sparseOutputs(t.strings.map((s) => splitOnAny(s, d.strings[0]!, skipEmpty)));
};

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

function indexOfBytes(s: Uint8Array, sep: Uint8Array, from: number): number {
  outer: for (let i = from; i + sep.length <= s.length; i++) {
    for (let j = 0; j < sep.length; j++) if (s[i + j] !== sep[j]) continue outer;
    return i;
  }
  return -1;
}

/** TF's SplitV2 (python str.split semantics, TF's maxsplit handling included). */
export function splitV2(s: Uint8Array, sep: Uint8Array, maxsplit: number): Uint8Array[] {
  if (maxsplit === 0) return [s];
  const out: Uint8Array[] = [];
  if (sep.length === 0) {
    let p = 0;
    while (p < s.length && isSpace(s[p]!)) p++;
    let splits = 0;
    while (p < s.length) {
      const start = p;
      while (p < s.length && !isSpace(s[p]!)) p++;
      out.push(s.subarray(start, p));
      while (p < s.length && isSpace(s[p]!)) p++;
      splits++;
      if (maxsplit > 0 && splits === maxsplit) {
        out.push(s.subarray(p));
        return out;
      }
    }
    return out;
  }
  let p = 0;
  let splits = 0;
  for (let at = indexOfBytes(s, sep, p); at >= 0; at = indexOfBytes(s, sep, p)) {
    out.push(s.subarray(p, at));
    p = at + sep.length;
    splits++;
    if (maxsplit > 0 && splits === maxsplit) break;
  }
  out.push(s.subarray(p));
  return out;
}

/** StringSplitV2: split on the whole `sep` (whitespace runs when empty), at most `maxsplit` times. */
const stringSplitV2: HostKernel = (node, inputs) => {
  const t = vectorInput(node, inputs);
  const sep = stringInput(node, inputs, 1, "sep");
  if (sep.rank !== 0) throw invalidArgument(`sep must be a scalar, got shape: ${tfShape(sep.shape)}`);
  const maxsplit = attrInt(node, "maxsplit", -1);
  return sparseOutputs(t.strings.map((s) => splitV2(s, sep.strings[0]!, maxsplit)));
};

// ---------------------------------------------------------------------------------------------
// ReduceJoin

/**
 * ReduceJoin over `reduction_indices`. Like TF, the reduced elements are visited with the *first*
 * listed axis varying fastest: reduce_join([["a","b"],["c","d"]], [0, 1]) == "acbd".
 */
const reduceJoin: HostKernel = (node, inputs) => {
  const t = stringInput(node, inputs, 0, "inputs");
  const axes = intValues(input(node, inputs, 1), "reduction_indices");
  const keepDims = attrBool(node, "keep_dims", false);
  const separator = attrBytes(node, "separator", new Uint8Array());
  const rank = t.rank;
  const reduced = new Array<boolean>(rank).fill(false);
  for (const a of axes) {
    if (a < -rank || a >= rank) {
      throw new ServingError(
        Code.OUT_OF_RANGE,
        `Invalid reduction dimension ${a} for input with ${rank} dimension(s)`,
      );
    }
    const axis = a < 0 ? a + rank : a;
    if (reduced[axis]) throw invalidArgument(`Duplicate reduction dimension ${a}`);
    reduced[axis] = true;
  }
  // The reduced dims from outer-most (varying slowest) to inner-most: the listed order reversed.
  const reducedDims = axes.map((a) => (a < 0 ? a + rank : a)).reverse();
  const keptDims = [...Array(rank).keys()].filter((d) => !reduced[d]);
  const st = strides(t.shape);
  const fullIndex = (linear: number, dims: number[]) => {
    let index = 0;
    let q = linear;
    for (let i = dims.length - 1; i >= 0; i--) {
      const d = dims[i]!;
      const size = t.shape[d]!;
      index += st[d]! * (q % size);
      q = Math.floor(q / size);
    }
    return index;
  };
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) {
    if (!reduced[d]) outShape.push(t.shape[d]!);
    else if (keepDims) outShape.push(1);
  }
  const outSize = numElements(outShape);
  const iterSize = reducedDims.reduce((n, d) => n * t.shape[d]!, 1);
  const out = new Array<Uint8Array>(outSize);
  for (let o = 0; o < outSize; o++) {
    const base = fullIndex(o, keptDims);
    const pieces: Uint8Array[] = [];
    for (let r = 0; r < iterSize; r++) {
      if (r > 0) pieces.push(separator);
      pieces.push(t.strings[base + fullIndex(r, reducedDims)]!);
    }
    out[o] = concatBytes(pieces);
  }
  return [stringTensor(outShape, out)];
};

// ---------------------------------------------------------------------------------------------
// Element-wise string maps.

const mapStrings =
  (f: (s: Uint8Array, node: Parameters<HostKernel>[0]) => Uint8Array): HostKernel =>
  (node, inputs) => {
    const t = stringInput(node, inputs, 0, "input");
    return [
      stringTensor(
        t.shape,
        t.strings.map((s) => f(s, node)),
      ),
    ];
  };

function caseMap(lower: boolean) {
  return (s: Uint8Array, node: Parameters<HostKernel>[0]): Uint8Array => {
    const encoding = attrString(node, "encoding", "");
    if (encoding === "") {
      // ASCII only (absl::AsciiStrToLower/Upper); other bytes unchanged.
      return s.map((c) =>
        lower ? (c >= 0x41 && c <= 0x5a ? c + 32 : c) : c >= 0x61 && c <= 0x7a ? c - 32 : c,
      );
    }
    if (encoding.toLowerCase() !== "utf-8") {
      throw invalidArgument(`only utf-8 or '' (no encoding) is supported, received ${encoding}`);
    }
    const text = utf8Decode(s);
    return utf8Encode(lower ? text.toLowerCase() : text.toUpperCase());
  };
}

/** StringStrip: leading and trailing ASCII whitespace removed. */
function strip(s: Uint8Array): Uint8Array {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s[a]!)) a++;
  while (b > a && isSpace(s[b - 1]!)) b--;
  return s.subarray(a, b);
}

const isTrailByte = (c: number): boolean => c >= 0x80 && c < 0xc0;

/** StringLength: bytes, or UTF-8 characters (non-continuation bytes) with unit UTF8_CHAR. */
const stringLength: HostKernel = (node, inputs) => {
  const t = stringInput(node, inputs, 0, "input");
  const unit = attrString(node, "unit", "BYTE");
  if (unit !== "BYTE" && unit !== "UTF8_CHAR")
    throw invalidArgument(`unit must be BYTE or UTF8_CHAR, got ${unit}`);
  const count = (s: Uint8Array) => {
    if (unit === "BYTE") return s.length;
    let n = 0;
    for (const c of s) if (!isTrailByte(c)) n++;
    return n;
  };
  return [int32Tensor(t.shape, t.strings.map(count))];
};

// ---------------------------------------------------------------------------------------------
// Substr

function forwardChars(s: Uint8Array, n: number, from: number): [ok: boolean, at: number] {
  let at = from;
  let counted = 0;
  while (counted < n && at < s.length) {
    do at++;
    while (at < s.length && isTrailByte(s[at]!));
    counted++;
  }
  return [counted === n, at];
}

function backChars(s: Uint8Array, n: number, from: number): [ok: boolean, at: number] {
  let at = from;
  let counted = 0;
  while (counted < n && at > 0) {
    do at--;
    while (isTrailByte(s[at]!) && at > 0);
    counted++;
  }
  return [counted === n, at];
}

/** [start, end) bytes of Substr(s, pos, len), or undefined when pos is out of range. */
function substrRange(s: Uint8Array, pos: number, len: number, utf8: boolean): [number, number] | undefined {
  if (!utf8) {
    const start = pos < 0 ? s.length + pos : pos;
    if (start < 0 || start > s.length) return undefined;
    const end = len < 0 ? s.length : Math.min(s.length, start + len);
    return [start, end];
  }
  if (pos >= 0) {
    const [ok, start] = forwardChars(s, pos, 0);
    if (!ok) return undefined;
    const [, end] = forwardChars(s, len, start);
    return [start, end];
  }
  const skip = Math.max(0, -pos - len);
  const [okEnd, end] = backChars(s, skip, s.length);
  if (!okEnd) return undefined;
  const [okStart, start] = backChars(s, -pos - skip, end);
  if (!okStart) return undefined;
  return [start, end];
}

const substr: HostKernel = (node, inputs) => {
  const t = stringInput(node, inputs, 0, "input");
  const posT = input(node, inputs, 1);
  const lenT = input(node, inputs, 2);
  const unit = attrString(node, "unit", "BYTE");
  if (unit !== "BYTE" && unit !== "UTF8_CHAR")
    throw invalidArgument(`unit must be BYTE or UTF8_CHAR, got ${unit}`);
  if (!sameShape(posT.shape, lenT.shape)) {
    throw invalidArgument(
      `pos and len should have the same shape, got: ${tfShape(posT.shape)} vs. ${tfShape(lenT.shape)}`,
    );
  }
  if (posT.size === 0) throw invalidArgument("received empty tensor pos_tensor");
  const pos = intValues(posT, "pos");
  const len = intValues(lenT, "len");
  let shape: readonly number[] = t.shape;
  let inAt = (k: number) => k;
  let posAt = (k: number) => (posT.rank === 0 ? 0 : k);
  if (posT.rank !== 0 && !sameShape(t.shape, posT.shape)) {
    const out = broadcastShape(t.shape, posT.shape);
    if (!out) throw invalidArgument(`Incompatible shapes: ${tfShape(t.shape)} vs. ${tfShape(posT.shape)}`);
    if (out.length > 2) {
      throw new ServingError(
        Code.UNIMPLEMENTED,
        `Substr broadcast not implemented for ${out.length} dimensions`,
      );
    }
    shape = out;
    inAt = broadcastIndex(out, t.shape);
    posAt = broadcastIndex(out, posT.shape);
  }
  const n = numElements(shape);
  const out = new Array<Uint8Array>(n);
  for (let k = 0; k < n; k++) {
    const s = t.strings[inAt(k)]!;
    const p = pos[posAt(k)]!;
    const range = substrRange(s, p, len[posAt(k)]!, unit === "UTF8_CHAR");
    if (!range) {
      throw invalidArgument(
        unit === "UTF8_CHAR"
          ? `pos ${p} out of range for string at index ${k}`
          : `pos ${p} out of range for string b'${latin1(s)}' at index ${k}`,
      );
    }
    out[k] = s.slice(range[0], range[1]);
  }
  return [stringTensor(shape, out)];
};

// ---------------------------------------------------------------------------------------------
// Base64, web-safe alphabet (tsl/platform/base64.cc).

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
const PAD = 0x3d;

export function base64Encode(s: Uint8Array, pad: boolean): Uint8Array {
  const out: number[] = [];
  const c = (i: number) => B64.charCodeAt(i);
  let i = 0;
  for (; i + 3 <= s.length; i += 3) {
    const [a, b, d] = [s[i]!, s[i + 1]!, s[i + 2]!];
    out.push(c(a >> 2), c(((a & 3) << 4) | (b >> 4)), c(((b & 15) << 2) | (d >> 6)), c(d & 63));
  }
  if (s.length - i === 2) {
    const [a, b] = [s[i]!, s[i + 1]!];
    out.push(c(a >> 2), c(((a & 3) << 4) | (b >> 4)), c((b & 15) << 2));
    if (pad) out.push(PAD);
  } else if (s.length - i === 1) {
    const a = s[i]!;
    out.push(c(a >> 2), c((a & 3) << 4));
    if (pad) out.push(PAD, PAD);
  }
  return Uint8Array.from(out);
}

/** Base64Decode: web-safe alphabet, padding optional, length ≡ 1 (mod 4) and bad characters rejected. */
export function base64Decode(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array();
  const out: number[] = [];
  const decode4 = (codes: number[]) => {
    let packed = 0;
    for (const code of codes) {
      const v = code < 128 ? B64_VALUE[code]! : -1;
      if (v < 0) throw invalidArgument("Invalid character found in base64.");
      packed = (packed << 6) | v;
    }
    return [(packed >> 16) & 0xff, (packed >> 8) & 0xff, packed & 0xff];
  };
  let at = 0;
  let end = data.length;
  while (end - at > 4) {
    out.push(...decode4([data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!]));
    at += 4;
  }
  if (end - at === 4) {
    if (data[at + 2] === PAD && data[at + 3] === PAD) end -= 2;
    if (data[at + 2] !== PAD && data[at + 3] === PAD) end -= 1;
  }
  const remain = end - at;
  if (remain === 1) throw invalidArgument("Base64 string length cannot be 1 modulo 4.");
  const tail = [0x41, 0x41, 0x41, 0x41]; // 'A' = 0
  for (let i = 0; i < remain; i++) tail[i] = data[at + i]!;
  out.push(...decode4(tail).slice(0, remain - 1));
  return Uint8Array.from(out);
}

export const STRING_KERNELS: Readonly<Record<string, HostKernel>> = {
  StringJoin: stringJoin,
  StringSplit: stringSplit,
  StringSplitV2: stringSplitV2,
  ReduceJoin: reduceJoin,
  StringLower: mapStrings(caseMap(true)),
  StringUpper: mapStrings(caseMap(false)),
  StringStrip: mapStrings(strip),
  StringLength: stringLength,
  Substr: substr,
  EncodeBase64: mapStrings((s, node) => base64Encode(s, attrBool(node, "pad", false))),
  DecodeBase64: mapStrings(base64Decode),
};
