import { uncompress } from "snappyjs";

/**
 * Snappy raw-format codec for table blocks.
 *
 * Decompression is snappyjs. Compression is our own port of the C++ library's
 * `CompressFragment` (64 KiB fragments, 16-bit hash table of 256..16384 slots,
 * hash `(load32 * 0x1e35a7bd) >>> shift`, heuristic match skipping) because the
 * block bytes decide whether a rewritten `variables.index` matches TensorFlow's
 * byte for byte; snappyjs compresses differently (smaller tables, float hashing).
 */

const FRAGMENT_SIZE = 1 << 16;
const MIN_TABLE_SIZE = 1 << 8;
const MAX_TABLE_SIZE = 1 << 14;
const INPUT_MARGIN = 15;
const HASH_MULTIPLIER = 0x1e35a7bd;

/** Decompresses a Snappy block of at most maxLength bytes; throws on a malformed stream. */
export function snappyUncompress(compressed: Uint8Array, maxLength: number): Uint8Array {
  return uncompress(compressed, maxLength);
}

/** Compresses like Google's C++ Snappy, byte for byte. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  // Worst case: 32 + n + n/6 bytes (snappy::MaxCompressedLength).
  const output = new Uint8Array(32 + input.length + Math.ceil(input.length / 6));
  let op = writeVarint32(output, 0, input.length);
  const table = new Uint16Array(MAX_TABLE_SIZE);
  for (let start = 0; start < input.length; start += FRAGMENT_SIZE) {
    const end = Math.min(start + FRAGMENT_SIZE, input.length);
    op = compressFragment(input, start, end, output, op, table);
  }
  return output.slice(0, op);
}

function writeVarint32(out: Uint8Array, op: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    out[op++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[op++] = v;
  return op;
}

function tableSize(fragmentSize: number): number {
  let size = MIN_TABLE_SIZE;
  while (size < MAX_TABLE_SIZE && size < fragmentSize) size <<= 1;
  return size;
}

const load32 = (a: Uint8Array, i: number): number =>
  (a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24)) >>> 0;

const hash = (bytes: number, shift: number): number => Math.imul(bytes, HASH_MULTIPLIER) >>> shift;

function compressFragment(
  input: Uint8Array,
  base: number,
  end: number,
  out: Uint8Array,
  opStart: number,
  table: Uint16Array,
): number {
  const size = tableSize(end - base);
  table.fill(0, 0, size);
  const shift = 32 - Math.log2(size);
  let op = opStart;
  let nextEmit = base;
  if (end - base >= INPUT_MARGIN) {
    const ipLimit = end - INPUT_MARGIN;
    let ip = base + 1;
    let nextHash = hash(load32(input, ip), shift);
    for (;;) {
      // Step 1: find a 4-byte match, skipping faster the longer none is found.
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        const step = skip >>> 5;
        skip += step;
        nextIp = ip + step;
        if (nextIp > ipLimit) return emitRemainder(input, nextEmit, end, out, op);
        nextHash = hash(load32(input, nextIp), shift);
        candidate = base + table[h]!;
        table[h] = ip - base;
      } while (load32(input, ip) !== load32(input, candidate));

      // Step 2: the unmatched bytes before the match become a literal.
      op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);

      // Step 3: emit copies while the bytes right after each copy match again.
      let cursorBytes: number;
      do {
        const matchStart = ip;
        let matched = 4;
        while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        op = emitCopy(out, op, matchStart - candidate, matched);
        nextEmit = ip;
        if (ip >= ipLimit) return emitRemainder(input, nextEmit, end, out, op);
        table[hash(load32(input, ip - 1), shift)] = ip - base - 1;
        cursorBytes = load32(input, ip);
        const h = hash(cursorBytes, shift);
        candidate = base + table[h]!;
        table[h] = ip - base;
      } while (cursorBytes === load32(input, candidate));
      ip += 1;
      nextHash = hash(load32(input, ip), shift);
    }
  }
  return emitRemainder(input, nextEmit, end, out, op);
}

function emitRemainder(input: Uint8Array, from: number, end: number, out: Uint8Array, op: number): number {
  return from < end ? emitLiteral(input, from, end - from, out, op) : op;
}

function emitLiteral(
  input: Uint8Array,
  from: number,
  length: number,
  out: Uint8Array,
  opStart: number,
): number {
  let op = opStart;
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else {
    const count = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[op++] = (59 + count) << 2;
    for (let i = 0; i < count; i++) out[op++] = (n >>> (8 * i)) & 0xff;
  }
  out.set(input.subarray(from, from + length), op);
  return op + length;
}

function emitCopyAtMost64(out: Uint8Array, op: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[op] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = 2 | ((length - 1) << 2);
  out[op + 1] = offset & 0xff;
  out[op + 2] = offset >>> 8;
  return op + 3;
}

function emitCopy(out: Uint8Array, opStart: number, offset: number, lengthIn: number): number {
  let op = opStart;
  let length = lengthIn;
  // 64-byte copies, keeping at least 4 bytes for the last one.
  while (length >= 68) {
    op = emitCopyAtMost64(out, op, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopyAtMost64(out, op, offset, 60);
    length -= 60;
  }
  return emitCopyAtMost64(out, op, offset, length);
}
