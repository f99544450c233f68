import { crc32c, maskCrc, unmaskCrc } from "../crc32c.js";
import { ByteCursor, FormatError } from "../table/format.js";

/**
 * The DT_STRING layout of a bundle shard (tensor_bundle.cc WriteStringTensor):
 * `varint64 length × n · uint32 masked crc32c of the lengths · string bytes`.
 * The entry's crc32c covers each length as uint32 LE (uint64 LE when ≥ 4 GiB),
 * then the 4 stored checksum bytes, then the string bytes.
 */

const UINT32_LIMIT = 2 ** 32;

/** The checksum input for the lengths: uint32 each (uint64 past 4 GiB), little- or big-endian. */
function lengthsCrc(lengths: readonly number[], littleEndian: boolean): number {
  let width = 0;
  for (const length of lengths) width += length < UINT32_LIMIT ? 4 : 8;
  const bytes = new Uint8Array(width);
  const view = new DataView(bytes.buffer);
  let pos = 0;
  for (const length of lengths) {
    if (length < UINT32_LIMIT) {
      view.setUint32(pos, length, littleEndian);
      pos += 4;
    } else {
      view.setBigUint64(pos, BigInt(length), littleEndian);
      pos += 8;
    }
  }
  return crc32c(bytes);
}

/** The bytes before the string data (varint lengths and their checksum) and the running crc. */
export function encodeStringHeader(
  strings: readonly Uint8Array[],
  littleEndian = true,
): { header: Uint8Array; crc: number } {
  const lengths = strings.map((s) => s.length);
  const varints: number[] = [];
  for (const length of lengths) {
    let v = length;
    while (v >= 0x80) {
      varints.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    varints.push(v);
  }
  const header = new Uint8Array(varints.length + 4);
  header.set(varints);
  const crc = lengthsCrc(lengths, littleEndian);
  new DataView(header.buffer).setUint32(varints.length, maskCrc(crc), littleEndian);
  return { header, crc: crc32c(header.subarray(varints.length), crc) };
}

/** Total stored size of a string tensor. */
export function stringTensorSize(strings: readonly Uint8Array[]): number {
  let size = 4;
  for (const s of strings) {
    size += s.length;
    for (let v = s.length; v >= 0x80; v = Math.floor(v / 0x80)) size++;
    size++;
  }
  return size;
}

/**
 * Splits stored string tensor bytes into `count` strings (views into `bytes`),
 * checking the length checksum; returns the strings and the entry crc to compare.
 */
export function decodeStrings(
  bytes: Uint8Array,
  count: number,
  littleEndian = true,
): { strings: Uint8Array[]; crc: number } {
  // TF writes nothing at all for some empty tensors (size 0): no lengths, no checksum.
  if (bytes.length === 0 && count === 0) return { strings: [], crc: 0 };
  const cursor = new ByteCursor(bytes);
  const lengths: number[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const length = cursor.varint();
    lengths.push(length);
    total += length;
  }
  const checksumAt = cursor.pos;
  const checksumBytes = cursor.take(4);
  const stored = new DataView(checksumBytes.buffer, checksumBytes.byteOffset, 4).getUint32(0, littleEndian);
  let crc = lengthsCrc(lengths, littleEndian);
  if (unmaskCrc(stored) !== crc) {
    throw new FormatError(
      `length checksum mismatch at byte ${checksumAt} (stored 0x${stored.toString(16).padStart(8, "0")}, computed 0x${maskCrc(crc).toString(16).padStart(8, "0")})`,
    );
  }
  if (total !== bytes.length - cursor.pos) {
    throw new FormatError(
      `string lengths add up to ${total} bytes but ${bytes.length - cursor.pos} follow the lengths`,
    );
  }
  crc = crc32c(checksumBytes, crc);
  crc = crc32c(bytes.subarray(cursor.pos), crc);
  const strings = lengths.map((length) => cursor.take(length));
  return { strings, crc };
}
