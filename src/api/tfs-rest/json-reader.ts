// A pull-style JSON reader for TF Serving's REST request bodies.
//
// Why a hand-written recursive-descent reader and not JSON.parse or a JSON library: TF Serving's JSON
// (rapidjson with kParseNanAndInfFlag) differs from what JSON.parse accepts and returns, and a
// tensor request is mostly one big array of numbers:
//   - int64/uint64 tensors need every integer exactly, up to 2^63−1 and 2^64−1; JSON.parse rounds
//     anything past 2^53 to a double before we could see its digits;
//   - the bare tokens NaN, Infinity, -Infinity (and rapidjson's Inf, -Inf, -NaN) are accepted;
//   - whether a number was written as an integer (`2`) or a decimal (`2.0`) matters (int dtypes reject
//     `1.0`; tf.Example features pick int64_list vs float_list from it), and JSON.parse erases that;
//   - a 1M-element tensor should land in one Float32Array/BigInt64Array, not go through 1M JS values.
// No maintained JSON library gives exact int64 straight into a BigInt64Array plus those tokens, so this
// reader exposes tokens (begin/next/read) and the tensor code pulls numbers into typed arrays itself.
//
// The body is held as a "binary" string, one char per byte (latin1), so every offset is a byte offset
// and string values keep their exact bytes (rapidjson does not validate UTF-8 either). Errors are
// INVALID_ARGUMENT "JSON Parse error: <rapidjson's English message> at offset: N", as TF Serving. Nesting deeper than
// `maxDepth` is refused (TF's deepest tensor has rank 254), so no input can exhaust the JS stack.

import { Buffer } from "node:buffer";
import { Code, ServingError } from "../../errors.js";

/** Default nesting limit (arrays and objects). */
export const DEFAULT_MAX_DEPTH = 512;

/** A malformed JSON text. Always INVALID_ARGUMENT; `offset` is the byte offset rapidjson would report. */
export class JsonSyntaxError extends ServingError {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    // TF Serving's wording (json_tensor.cc ParseJson); an empty document carries no offset.
    super(
      Code.INVALID_ARGUMENT,
      reason.startsWith("The document is empty")
        ? "JSON Parse error: The document is empty"
        : `JSON Parse error: ${reason} at offset: ${offset}`,
    );
  }
}

/** What the next value is, from its first byte. */
export const Kind = {
  End: 0,
  Object: 1,
  Array: 2,
  String: 3,
  Number: 4,
  True: 5,
  False: 6,
  Null: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** rapidjson's type names (JsonTypeString in json_tensor.cc), indexed by Kind. */
const KIND_NAMES = ["End", "Object", "Array", "String", "Number", "True", "False", "Null"] as const;

export function kindName(kind: Kind): string {
  return KIND_NAMES[kind];
}

export interface JsonReaderOptions {
  /** Deepest nesting of arrays/objects accepted (default 512). */
  maxDepth?: number;
}

/** Exact powers of ten representable in a double: 1e0 … 1e22. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** 10^k for k in [−400, 400], correctly rounded. */
const POW10_WIDE = Float64Array.from({ length: 801 }, (_, i) => Number(`1e${i - 400}`));
const MIN_INT64 = -(2n ** 63n);
const MAX_UINT64 = 2n ** 64n - 1n;

/** Converts a request body to a binary string (one char per byte). */
export function toBinaryString(body: string | Uint8Array): string {
  if (typeof body === "string") {
    // Always re-made: the UTF-8 bytes as a flat one-byte string (a concatenated string would be slow
    // to index char by char).
    return Buffer.from(body, "utf8").toString("latin1");
  }
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
}

const HIGH_BYTE = /[\x80-\xff]/;

/** Decodes a binary string holding UTF-8 bytes (invalid sequences become U+FFFD). */
export function utf8FromBinary(binary: string): string {
  return HIGH_BYTE.test(binary) ? Buffer.from(binary, "latin1").toString("utf8") : binary;
}

/** The bytes of a binary string, in a fresh Uint8Array. */
export function bytesFromBinary(binary: string): Uint8Array {
  const n = binary.length;
  if (n >= 4096) {
    // Large Buffers are not pool-backed, so the view owns its memory.
    const b = Buffer.from(binary, "latin1");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = binary.charCodeAt(i);
  return out;
}

const BASE64_VALUES = (() => {
  const table = new Int8Array(256).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/** absl::ascii_isspace: space, \t, \n, \v, \f, \r. */
function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Decodes standard base64 exactly as absl::Base64Unescape (TF Serving's b64 decoder) does: whitespace
 * anywhere is skipped, padding ('=' or '.') is optional but, when present, must be complete, and one
 * dangling character is an error. Returns undefined for invalid input. `encoded` is a binary string.
 *
 * @example
 * decodeBase64(`aGVsbG8=`); // bytes of "hello"
 * decodeBase64(`aGVsbG8`); // same (padding may be omitted)
 * decodeBase64(`aGVsbG8==`); // undefined (wrong padding)
 */
export function decodeBase64(encoded: string): Uint8Array | undefined {
  const n = encoded.length;
  const out = new Uint8Array(Math.floor(n / 4) * 3 + 2);
  let o = 0;
  let acc = 0;
  let k = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = encoded.charCodeAt(i);
    const d = c < 256 ? BASE64_VALUES[c]! : -1;
    if (d >= 0) {
      acc = (acc << 6) | d;
      if (++k === 4) {
        out[o++] = (acc >>> 16) & 0xff;
        out[o++] = (acc >>> 8) & 0xff;
        out[o++] = acc & 0xff;
        acc = 0;
        k = 0;
      }
      continue;
    }
    if (isAsciiSpace(c)) continue;
    if (c === 61 || c === 46) break;
    return undefined;
  }
  let equals = 0;
  for (; i < n; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 61 || c === 46) equals++;
    else if (!isAsciiSpace(c)) return undefined;
  }
  let expectedEquals = 0;
  if (k === 1) return undefined;
  if (k === 2) {
    out[o++] = (acc >>> 4) & 0xff;
    expectedEquals = 2;
  } else if (k === 3) {
    out[o++] = (acc >>> 10) & 0xff;
    out[o++] = (acc >>> 2) & 0xff;
    expectedEquals = 1;
  }
  if (equals !== 0 && equals !== expectedEquals) return undefined;
  return o === out.length ? out : out.slice(0, o);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** A code point as its UTF-8 bytes, one char per byte. */
function utf8Binary(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) {
    return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  }
  return String.fromCharCode(
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  );
}

/**
 * Pull reader over one JSON text. Typical use:
 *
 * @example
 * const r = new JsonReader('{"x": [1, 2.5, NaN]}');
 * r.beginObject();
 * for (let key = r.nextKey(); key !== undefined; key = r.nextKey()) {
 *   r.beginArray();
 *   while (r.nextElement()) { r.readNumber(); console.log(r.numValue); }
 * }
 * r.finish();
 */
export class JsonReader {
  /** The body, one char per byte. */
  readonly src: string;
  readonly end: number;
  readonly maxDepth: number;
  /** Byte offset of the next unread byte. */
  pos = 0;
  /** Number of open arrays/objects. */
  depth = 0;
  /** Per depth: members or elements seen so far. */
  private counts: Int32Array;
  /** Per depth: 1 for an array, 0 for an object. */
  private arrays: Uint8Array;

  /** Set by readNumber: the token is an integer (no '.', no exponent) within [−2^63, 2^64−1]. */
  numIsInt = false;
  /** Set by readNumber: the value, correctly rounded to a double (exact for integers up to 2^53). */
  numValue = 0;
  /** Set by readNumber: the exact value of an integer token with more than 15 digits, else undefined. */
  numBig: bigint | undefined = undefined;
  /** Set by readNumber: numValue is only within 2^-50 of the token's value (see exactValue()). */
  numApprox = false;
  /** Set by readNumber: byte offsets of the token. */
  numStart = 0;
  numEnd = 0;

  constructor(body: string | Uint8Array, options: JsonReaderOptions = {}) {
    this.src = toBinaryString(body);
    this.end = this.src.length;
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    // Sized for typical nesting and grown on demand: a request pays for the depth it uses.
    const initial = Math.min(this.maxDepth + 2, 16);
    this.counts = new Int32Array(initial);
    this.arrays = new Uint8Array(initial);
  }

  fail(reason: string, offset: number = this.pos): never {
    throw new JsonSyntaxError(offset, reason);
  }

  /** Skips whitespace; returns the next byte, or -1 at the end. */
  skipWs(): number {
    const s = this.src;
    const end = this.end;
    let p = this.pos;
    while (p < end) {
      const c = s.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        p++;
        continue;
      }
      this.pos = p;
      return c;
    }
    this.pos = p;
    return -1;
  }

  /** The kind of the next value (after whitespace). Any unexpected byte reads as Number (and fails there). */
  peekKind(): Kind {
    const c = this.skipWs();
    switch (c) {
      case 123:
        return Kind.Object;
      case 91:
        return Kind.Array;
      case 34:
        return Kind.String;
      case 116:
        return Kind.True;
      case 102:
        return Kind.False;
      case 110:
        return Kind.Null;
      case -1:
        return Kind.End;
      default:
        return Kind.Number;
    }
  }

  /** Enters the object whose '{' is the next byte (call after peekKind() returned Object). */
  beginObject(): void {
    this.open(0);
  }

  /** Enters the array whose '[' is the next byte (call after peekKind() returned Array). */
  beginArray(): void {
    this.open(1);
  }

  private open(isArray: number): void {
    const d = ++this.depth;
    if (d > this.maxDepth) {
      this.depth--;
      this.fail(`Nesting is deeper than the limit of ${this.maxDepth} levels.`);
    }
    this.pos++;
    if (d >= this.counts.length) this.growDepth();
    this.counts[d] = 0;
    this.arrays[d] = isArray;
  }

  private growDepth(): void {
    const size = Math.min(this.counts.length * 2, this.maxDepth + 2);
    const counts = new Int32Array(size);
    counts.set(this.counts);
    const arrays = new Uint8Array(size);
    arrays.set(this.arrays);
    this.counts = counts;
    this.arrays = arrays;
  }

  /** In an array: true when another element follows (positioned at it), false after the closing ']'. */
  nextElement(): boolean {
    return this.nextItem(93, "Missing a comma or ']' after an array element.") !== undefined;
  }

  /**
   * Steps to the next item of the innermost array or object: past the closing byte (returning
   * undefined), or past the separating comma to the item's first byte (returned), counting the item.
   */
  private nextItem(close: number, missingSeparator: string): number | undefined {
    let c = this.skipWs();
    const d = this.depth;
    const n = this.counts[d]!;
    if (c === close) {
      this.pos++;
      this.depth--;
      return undefined;
    }
    if (n > 0) {
      if (c !== 44) this.fail(missingSeparator);
      this.pos++;
      c = this.skipWs();
    }
    this.counts[d] = n + 1;
    return c;
  }

  /** Elements read so far in the innermost open array (or members in the innermost object). */
  get count(): number {
    return this.counts[this.depth]!;
  }

  /** In an object: the next member's name (positioned at its value), or undefined after the closing '}'. */
  nextKey(): string | undefined {
    if (!this.nextMember()) return undefined;
    const key = utf8FromBinary(this.readStringBinary());
    this.expectColon();
    return key;
  }

  /** Like nextKey, but the name is skipped (not decoded). */
  skipKey(): boolean {
    if (!this.nextMember()) return false;
    this.skipString();
    this.expectColon();
    return true;
  }

  private nextMember(): boolean {
    const c = this.nextItem(125, "Missing a comma or '}' after an object member.");
    if (c === undefined) return false;
    if (c !== 34) this.fail("Missing a name for object member.");
    return true;
  }

  private expectColon(): void {
    if (this.skipWs() !== 58) this.fail("Missing a colon after a name of object member.");
    this.pos++;
  }

  /**
   * Reads the string token at pos as a binary string of its UTF-8 bytes. Its '"' must be the byte at
   * pos (after peekKind() or skipWs()).
   */
  readStringBinary(): string {
    const s = this.src;
    const end = this.end;
    const start = this.pos + 1;
    let p = start;
    for (;;) {
      if (p >= end) this.fail("Missing a closing quotation mark in string.", p);
      const c = s.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        return s.slice(start, p);
      }
      if (c === 92 || c < 32) break;
      p++;
    }
    return this.readEscapedString(start, p);
  }

  /** Reads a string value as JS text (its bytes decoded as UTF-8). */
  readString(): string {
    return utf8FromBinary(this.readStringBinary());
  }

  /** Reads a string value as bytes. */
  readStringBytes(): Uint8Array {
    return bytesFromBinary(this.readStringBinary());
  }

  private readEscapedString(start: number, from: number): string {
    const s = this.src;
    const end = this.end;
    const parts: string[] = [s.slice(start, from)];
    let p = from;
    let runStart = p;
    for (;;) {
      if (p >= end) this.fail("Missing a closing quotation mark in string.", p);
      const c = s.charCodeAt(p);
      if (c === 34) {
        parts.push(s.slice(runStart, p));
        this.pos = p + 1;
        return parts.join("");
      }
      if (c < 32) this.fail("Invalid encoding in string.", p);
      if (c !== 92) {
        p++;
        continue;
      }
      parts.push(s.slice(runStart, p));
      const escapeAt = p;
      const e = s.charCodeAt(p + 1);
      p += 2;
      switch (e) {
        case 34:
          parts.push('"');
          break;
        case 92:
          parts.push("\\");
          break;
        case 47:
          parts.push("/");
          break;
        case 98:
          parts.push("\b");
          break;
        case 102:
          parts.push("\f");
          break;
        case 110:
          parts.push("\n");
          break;
        case 114:
          parts.push("\r");
          break;
        case 116:
          parts.push("\t");
          break;
        case 117: {
          let cp = this.hex4(p, escapeAt);
          p += 4;
          if (cp >= 0xd800 && cp <= 0xdfff) {
            if (cp > 0xdbff || s.charCodeAt(p) !== 92 || s.charCodeAt(p + 1) !== 117) {
              this.fail("The surrogate pair in string is invalid.", escapeAt);
            }
            const low = this.hex4(p + 2, escapeAt);
            if (low < 0xdc00 || low > 0xdfff) this.fail("The surrogate pair in string is invalid.", escapeAt);
            p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          parts.push(utf8Binary(cp));
          break;
        }
        default:
          this.fail("Invalid escape character in string.", escapeAt);
      }
      runStart = p;
    }
  }

  private hex4(p: number, escapeAt: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const h = hexValue(this.src.charCodeAt(p + i));
      if (h < 0) this.fail("Incorrect hex digit after \\u escape in string.", escapeAt);
      v = (v << 4) | h;
    }
    return v;
  }

  /** Skips (and validates) the string token at pos. */
  skipString(): void {
    const s = this.src;
    const end = this.end;
    let p = this.pos + 1;
    for (;;) {
      if (p >= end) this.fail("Missing a closing quotation mark in string.", p);
      const c = s.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        return;
      }
      if (c === 92 || c < 32) {
        this.readEscapedString(this.pos + 1, p);
        return;
      }
      p++;
    }
  }

  /** Reads true, false or null. */
  readLiteral(): boolean | null {
    const s = this.src;
    const p = this.pos;
    const c = s.charCodeAt(p);
    const word = c === 116 ? "true" : c === 102 ? "false" : "null";
    for (let i = 1; i < word.length; i++) {
      if (s.charCodeAt(p + i) !== word.charCodeAt(i)) this.fail("Invalid value.", p + i);
    }
    this.pos = p + word.length;
    return c === 116 ? true : c === 102 ? false : null;
  }

  /**
   * Reads the number token at pos into numIsInt / numValue / numBig, classifying it as rapidjson does:
   * an integer token (no fraction, no exponent) in [−2^63, 2^64−1] is an integer; anything else,
   * NaN and ±Infinity included, is a double. A double overflow is rapidjson's "Number too big" error.
   *
   * Decimals with up to 15 significant digits are correctly rounded here. Longer ones (what JS and
   * Python print for float32 data) get a value within 2^-50 of the exact one and numApprox = true;
   * exactValue() gives the correctly rounded double, and float32 consumers can often skip it.
   */
  readNumber(): void {
    // charCodeAt past the end is NaN, which no test below matches: no bounds checks needed.
    const s = this.src;
    let p = this.pos;
    const start = p;
    this.numStart = start;
    let c = s.charCodeAt(p);
    let neg = false;
    if (c === 45) {
      neg = true;
      c = s.charCodeAt(++p);
    }
    // Up to 15 significant digits accumulate exactly in `m` (< 2^53); longer tokens take readLongNumber.
    let m = 0;
    let nd = 0;
    let exp10 = 0;
    if (c === 48) {
      c = s.charCodeAt(++p);
    } else if (c >= 49 && c <= 57) {
      do {
        if (nd === 15) {
          this.readLongNumber(start, p, neg, m, exp10, false);
          return;
        }
        m = m * 10 + (c - 48);
        nd++;
        c = s.charCodeAt(++p);
      } while (c >= 48 && c <= 57);
    } else if (c === 78 || c === 73) {
      this.readNonFinite(p, neg);
      return;
    } else {
      this.fail("Invalid value.", p);
    }
    let isInt = true;
    if (c === 46) {
      isInt = false;
      c = s.charCodeAt(++p);
      if (!isDigit(c)) this.fail("Miss fraction part in number.", p);
      do {
        if (m !== 0 || c !== 48) {
          if (nd === 15) {
            this.readLongNumber(start, p, neg, m, exp10, true);
            return;
          }
          m = m * 10 + (c - 48);
          nd++;
        }
        exp10--;
        c = s.charCodeAt(++p);
      } while (c >= 48 && c <= 57);
    }
    if (c === 101 || c === 69) {
      isInt = false;
      c = s.charCodeAt(++p);
      let negExp = false;
      if (c === 43) {
        c = s.charCodeAt(++p);
      } else if (c === 45) {
        negExp = true;
        c = s.charCodeAt(++p);
      }
      if (!isDigit(c)) this.fail("Miss exponent in number.", p);
      let e = 0;
      do {
        if (e < 1e6) e = e * 10 + (c - 48);
        c = s.charCodeAt(++p);
      } while (c >= 48 && c <= 57);
      exp10 += negExp ? -e : e;
    }
    this.pos = p;
    this.numApprox = false;
    this.numBig = undefined;
    if (isInt) {
      this.numIsInt = true;
      this.numValue = neg ? 0 - m : m; // "-0" is the integer 0, as in rapidjson
      return;
    }
    this.numIsInt = false;
    let v: number;
    if (exp10 >= -22 && exp10 <= 22) {
      // Clinger's fast path: both operands exact, one correctly rounded operation.
      v = exp10 >= 0 ? m * POW10[exp10]! : m / POW10[-exp10]!;
      if (neg) v = -v;
    } else {
      v = Number(s.slice(start, p));
      if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
        this.fail("Number too big to be stored in double.", start);
      }
    }
    this.numValue = v;
  }

  /**
   * readNumber's continuation for a token with more than 15 significant digits, from the 16th digit at
   * p: the next 4 digits go to `m2`; later ones change the value by under 1e-18 (relative), so they
   * only move the exponent.
   */
  private readLongNumber(
    start: number,
    p: number,
    neg: boolean,
    m: number,
    exp10: number,
    inFraction: boolean,
  ): void {
    const s = this.src;
    const end = this.end;
    let c = s.charCodeAt(p);
    let m2 = 0;
    let k2 = 0;
    let isInt = !inFraction;
    if (!inFraction) {
      do {
        const d = c - 48;
        if (k2 < 4) {
          m2 = m2 * 10 + d;
          k2++;
        } else {
          exp10++;
        }
        c = ++p < end ? s.charCodeAt(p) : -1;
      } while (c >= 48 && c <= 57);
      if (c === 46) {
        isInt = false;
        c = ++p < end ? s.charCodeAt(p) : -1;
        if (!isDigit(c)) this.fail("Miss fraction part in number.", p);
      }
    }
    while (c >= 48 && c <= 57) {
      const d = c - 48;
      if (k2 < 4) {
        m2 = m2 * 10 + d;
        k2++;
        exp10--;
      }
      c = ++p < end ? s.charCodeAt(p) : -1;
    }
    if (c === 101 || c === 69) {
      isInt = false;
      c = ++p < end ? s.charCodeAt(p) : -1;
      let negExp = false;
      if (c === 43) {
        c = ++p < end ? s.charCodeAt(p) : -1;
      } else if (c === 45) {
        negExp = true;
        c = ++p < end ? s.charCodeAt(p) : -1;
      }
      if (!isDigit(c)) this.fail("Miss exponent in number.", p);
      let e = 0;
      do {
        if (e < 1e6) e = e * 10 + (c - 48);
        c = ++p < end ? s.charCodeAt(p) : -1;
      } while (c >= 48 && c <= 57);
      exp10 += negExp ? -e : e;
    }
    this.pos = p;
    this.numEnd = p;
    this.numApprox = false;
    this.numBig = undefined;
    if (isInt) {
      const big = BigInt(s.slice(start, p));
      if (neg ? big >= MIN_INT64 : big <= MAX_UINT64) {
        this.numIsInt = true;
        this.numBig = big;
        this.numValue = Number(big);
        return;
      }
    }
    this.numIsInt = false;
    let v = Number.NaN;
    if (!isInt && exp10 >= -340 && exp10 <= 300) {
      // At most four roundings (< 2^-50 relative), well inside double range: approximate.
      const mant = m * POW10[k2]! + m2;
      v = exp10 >= 0 ? mant * POW10_WIDE[exp10 + 400]! : mant / POW10_WIDE[400 - exp10]!;
    }
    if (v > 1e-300 && v < 1e300) {
      this.numApprox = true;
      this.numValue = neg ? -v : v;
      return;
    }
    v = Number(s.slice(start, p));
    if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
      this.fail("Number too big to be stored in double.", start);
    }
    this.numValue = v;
  }

  /** The number just read, correctly rounded (re-reads its text when readNumber only approximated it). */
  exactValue(): number {
    if (this.numApprox) {
      this.numValue = Number(this.src.slice(this.numStart, this.numEnd));
      this.numApprox = false;
    }
    return this.numValue;
  }

  /** NaN, Inf, Infinity (after an optional '-', at p), as rapidjson's kParseNanAndInfFlag accepts them. */
  private readNonFinite(p: number, neg: boolean): void {
    const s = this.src;
    const word = s.charCodeAt(p) === 78 ? "NaN" : "Inf";
    for (let i = 1; i < 3; i++) {
      if (s.charCodeAt(p + i) !== word.charCodeAt(i)) this.fail("Invalid value.", p + i);
    }
    p += 3;
    let v = Number.NaN;
    if (word === "Inf") {
      v = neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      if (s.charCodeAt(p) === 105) {
        const rest = "inity";
        for (let i = 0; i < rest.length; i++) {
          if (s.charCodeAt(p + i) !== rest.charCodeAt(i)) this.fail("Invalid value.", p + i);
        }
        p += rest.length;
      }
    }
    this.pos = p;
    this.numEnd = p;
    this.numApprox = false;
    this.numIsInt = false;
    this.numBig = undefined;
    this.numValue = v;
  }

  /** Skips (and fully validates) the next value, iteratively. */
  skipValue(): void {
    const base = this.depth;
    for (;;) {
      const c = this.skipWs();
      let closed = true;
      if (c === 123) {
        this.beginObject();
        closed = !this.skipKey();
      } else if (c === 91) {
        this.beginArray();
        closed = !this.nextElement();
      } else if (c === 34) {
        this.skipString();
      } else if (c === 116 || c === 102 || c === 110) {
        this.readLiteral();
      } else {
        this.readNumber();
      }
      if (!closed) continue;
      // The value is complete: move to the next value of an enclosing container, or return.
      for (;;) {
        if (this.depth === base) return;
        if (this.arrays[this.depth] ? this.nextElement() : this.skipKey()) break;
      }
    }
  }

  /**
   * Whether the next value (known to start with '{') is exactly `{"b64": "<string>"}` — TF Serving's
   * base64 object. Looks ahead only; never throws.
   */
  isBase64Object(): boolean {
    const s = this.src;
    const end = this.end;
    let p = skipWsAt(s, this.pos + 1, end);
    if (s.charCodeAt(p) !== 34 || s.charCodeAt(p + 1) !== 98 || s.charCodeAt(p + 2) !== 54) return false;
    if (s.charCodeAt(p + 3) !== 52 || s.charCodeAt(p + 4) !== 34) return false;
    p = skipWsAt(s, p + 5, end);
    if (s.charCodeAt(p) !== 58) return false;
    p = skipWsAt(s, p + 1, end);
    if (s.charCodeAt(p) !== 34) return false;
    p++;
    for (;;) {
      if (p >= end) return false;
      const c = s.charCodeAt(p);
      if (c === 34) break;
      p += c === 92 ? 2 : 1;
    }
    p = skipWsAt(s, p + 1, end);
    return s.charCodeAt(p) === 125;
  }

  /** After the top-level value: only whitespace may follow. */
  finish(): void {
    if (this.skipWs() !== -1) this.fail("The document root must not be followed by other values.");
  }

  /** Restores a position saved before a value (pos and depth), e.g. to skip or re-read it. */
  rewind(pos: number, depth: number): void {
    this.pos = pos;
    this.depth = depth;
  }

  /** Source text of [start, end) for messages: UTF-8 decoded, trimmed, cut at `limit` chars. */
  text(start: number, end: number, limit = 256): string {
    const cut = end - start > limit;
    const raw = utf8FromBinary(this.src.slice(start, cut ? start + limit : end)).trim();
    return cut ? `${raw}...` : raw;
  }
}

function skipWsAt(s: string, p: number, end: number): number {
  while (p < end) {
    const c = s.charCodeAt(p);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    p++;
  }
  return p;
}
