/**
 * TF's OrderedCode (tensorflow/core/lib/strings/ordered_code.cc), the
 * order-preserving encoding behind the keys of partitioned-variable slices:
 * `EncodeTensorNameSlice(name, slice)` in saved_tensor_slice_util.cc.
 */

const utf8 = new TextEncoder();

/** Unsigned number: one length byte, then the value big-endian without leading zero bytes. */
export function writeNumIncreasing(out: number[], value: bigint | number): void {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`unsigned 64-bit value out of range: ${v}`);
  const bytes: number[] = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  out.push(bytes.length, ...bytes);
}

/** String: 0x00 → 00 ff, 0xff → ff 00, other bytes as is, then the separator 00 01. */
export function writeString(out: number[], value: Uint8Array | string): void {
  const bytes = typeof value === "string" ? utf8.encode(value) : value;
  for (const byte of bytes) {
    if (byte === 0x00) out.push(0x00, 0xff);
    else if (byte === 0xff) out.push(0xff, 0x00);
    else out.push(byte);
  }
  out.push(0x00, 0x01);
}

// Header bits of the first two bytes for each encoded length (kLengthToHeaderBits).
const LENGTH_HEADER: readonly (readonly [number, number])[] = [
  [0, 0],
  [0x80, 0],
  [0xc0, 0],
  [0xe0, 0],
  [0xf0, 0],
  [0xf8, 0],
  [0xfc, 0],
  [0xfe, 0],
  [0xff, 0],
  [0xff, 0x80],
  [0xff, 0xc0],
];

/**
 * Signed number: sign bit, then as many further sign-valued bits as extra bytes,
 * then the two's-complement value big-endian; n bytes hold [-2^(7n-1), 2^(7n-1)).
 */
export function writeSignedNumIncreasing(out: number[], value: bigint | number): void {
  const v = BigInt.asIntN(64, BigInt(value));
  const magnitude = v < 0n ? ~v : v;
  if (magnitude < 64n) {
    out.push(Number(BigInt.asUintN(8, 0x80n ^ v)));
    return;
  }
  const length = Math.floor(magnitude.toString(2).length / 7) + 1;
  // The value sign-extended to 10 bytes, big-endian; its last `length` bytes carry the header.
  const extended = BigInt.asUintN(80, v);
  const bytes: number[] = [];
  for (let i = length - 1; i >= 0; i--) bytes.push(Number((extended >> BigInt(8 * i)) & 0xffn));
  const [first, second] = LENGTH_HEADER[length]!;
  bytes[0] = bytes[0]! ^ first;
  bytes[1] = bytes[1]! ^ second;
  out.push(...bytes);
}

/** Reads what writeNumIncreasing wrote; returns the value and the next position, or undefined. */
export function readNumIncreasing(bytes: Uint8Array, pos: number): [bigint, number] | undefined {
  const length = bytes[pos];
  if (length === undefined || length > 8 || pos + 1 + length > bytes.length) return undefined;
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(bytes[pos + 1 + i]!);
  return [value, pos + 1 + length];
}

/** Reads what writeString wrote; returns the raw bytes and the next position, or undefined. */
export function readString(bytes: Uint8Array, start: number): [Uint8Array, number] | undefined {
  const out: number[] = [];
  for (let pos = start; pos + 1 < bytes.length; pos++) {
    const byte = bytes[pos]!;
    if (byte !== 0x00 && byte !== 0xff) {
      out.push(byte);
      continue;
    }
    const next = bytes[++pos];
    if (byte === 0x00 && next === 0x01) return [Uint8Array.from(out), pos + 1];
    if (byte === 0x00 && next === 0xff) out.push(0x00);
    else if (byte === 0xff && next === 0x00) out.push(0xff);
    else return undefined;
  }
  return undefined;
}

/** Reads what writeSignedNumIncreasing wrote; returns the value and the next position, or undefined. */
export function readSignedNumIncreasing(bytes: Uint8Array, pos: number): [bigint, number] | undefined {
  const first = bytes[pos];
  if (first === undefined) return undefined;
  const invert = (first & 0x80) === 0 ? 0xff : 0;
  // The run of sign-valued bits after the sign bit counts the extra bytes (up to 9, spilling into byte 2).
  let length = 1;
  let bit = 0x40;
  let byteIndex = 0;
  while (length <= 10) {
    const byte = (bytes[pos + byteIndex] ?? -1) ^ invert;
    if (byte < 0) return undefined;
    if ((byte & bit) === 0) break;
    length++;
    bit >>= 1;
    if (bit === 0) {
      bit = 0x80;
      byteIndex++;
    }
  }
  if (length > 10 || pos + length > bytes.length) return undefined;
  let raw = 0n;
  for (let i = 0; i < length; i++) raw = (raw << 8n) | BigInt(bytes[pos + i]!);
  // Clear the header bits (sign, length run and delimiter), then restore the sign.
  const headerBits = BigInt(length + 1);
  const payloadBits = BigInt(8 * length) - headerBits;
  const payload = raw & ((1n << payloadBits) - 1n);
  const value = invert ? payload - (1n << payloadBits) : payload;
  return [value, pos + length];
}

/** One dimension of a slice; length -1 means the whole dimension (TF's kFullExtent). */
export interface SliceExtent {
  readonly start: number;
  readonly length: number;
}

/**
 * The table key of one stored slice of a partitioned tensor, byte for byte as
 * TF's checkpoint::EncodeTensorNameSlice builds it: 0 · name · rank · (start, length)…
 *
 * @example
 * encodeTensorNameSlice("w", [{ start: 0, length: 2 }, { start: 0, length: -1 }]);
 */
export function encodeTensorNameSlice(
  name: Uint8Array | string,
  extents: readonly SliceExtent[],
): Uint8Array {
  const out: number[] = [];
  writeNumIncreasing(out, 0);
  writeString(out, name);
  writeNumIncreasing(out, extents.length);
  for (const extent of extents) {
    writeSignedNumIncreasing(out, extent.start);
    writeSignedNumIncreasing(out, extent.length);
  }
  return Uint8Array.from(out);
}

/** Inverse of encodeTensorNameSlice; undefined when the bytes are not such a key. */
export function decodeTensorNameSlice(
  key: Uint8Array,
): { name: Uint8Array; extents: SliceExtent[] } | undefined {
  const zero = readNumIncreasing(key, 0);
  if (zero?.[0] !== 0n) return undefined;
  const name = readString(key, zero[1]);
  if (!name) return undefined;
  const rank = readNumIncreasing(key, name[1]);
  if (!rank || rank[0] === 0n || rank[0] > 64n) return undefined;
  let pos = rank[1];
  const extents: SliceExtent[] = [];
  for (let d = 0; d < Number(rank[0]); d++) {
    const start = readSignedNumIncreasing(key, pos);
    if (!start) return undefined;
    const length = readSignedNumIncreasing(key, start[1]);
    if (!length) return undefined;
    pos = length[1];
    const full = length[0] < 0n;
    extents.push({ start: full ? 0 : Number(start[0]), length: full ? -1 : Number(length[0]) });
  }
  return pos === key.length ? { name: name[0], extents } : undefined;
}
