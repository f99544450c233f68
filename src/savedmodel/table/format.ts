/**
 * Byte-level pieces of TF's LevelDB-style table format (tensorflow/core/lib/io/format.h):
 * varints, block handles, block trailers and the 48-byte footer.
 */

export const BLOCK_TRAILER_SIZE = 5;
export const FOOTER_SIZE = 48;
/** Two varint64 handles take at most 2 × 20 bytes; the footer pads them to this length. */
const FOOTER_HANDLES_SIZE = 40;
/** 0xdb4775248b80fb57 as two little-endian uint32 words, low word first. */
const MAGIC_LOW = 0x8b80fb57;
const MAGIC_HIGH = 0xdb477524;

export enum CompressionType {
  None = 0,
  Snappy = 1,
}

/** Where a block lies in the file; size excludes the 5-byte trailer. */
export interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/** Malformed bytes inside a structure; the caller adds which file and where. */
export class FormatError extends Error {}

/** Reads varints and raw bytes from a byte range, throwing FormatError on overrun. */
export class ByteCursor {
  constructor(
    private readonly bytes: Uint8Array,
    public pos = 0,
    private readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 64 bits, as a number; fails above 2^53 (no offset or size gets there). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new FormatError(`truncated varint at byte ${this.pos}`);
      const byte = this.bytes[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(result)) throw new FormatError(`varint too large at byte ${this.pos}`);
        return result;
      }
      scale *= 128;
    }
    throw new FormatError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  take(length: number): Uint8Array {
    if (length > this.end - this.pos) {
      throw new FormatError(`${length} bytes needed at byte ${this.pos}, ${this.end - this.pos} left`);
    }
    const slice = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }
}

/** Appends a varint (up to 2^53) to a byte list. */
export function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

export function encodeBlockHandle(handle: BlockHandle): Uint8Array {
  const out: number[] = [];
  pushVarint(out, handle.offset);
  pushVarint(out, handle.size);
  return Uint8Array.from(out);
}

export function decodeBlockHandle(bytes: Uint8Array): BlockHandle {
  const cursor = new ByteCursor(bytes);
  return { offset: cursor.varint(), size: cursor.varint() };
}

export function encodeFooter(metaindex: BlockHandle, index: BlockHandle): Uint8Array {
  const footer = new Uint8Array(FOOTER_SIZE);
  const handles = [...encodeBlockHandle(metaindex), ...encodeBlockHandle(index)];
  footer.set(handles);
  const view = new DataView(footer.buffer);
  view.setUint32(FOOTER_HANDLES_SIZE, MAGIC_LOW, true);
  view.setUint32(FOOTER_HANDLES_SIZE + 4, MAGIC_HIGH, true);
  return footer;
}

/** Parses the last 48 bytes of a table; throws FormatError("bad magic number") first. */
export function decodeFooter(footer: Uint8Array): { metaindex: BlockHandle; index: BlockHandle } {
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  if (
    view.getUint32(FOOTER_HANDLES_SIZE, true) !== MAGIC_LOW ||
    view.getUint32(FOOTER_HANDLES_SIZE + 4, true) !== MAGIC_HIGH
  ) {
    throw new FormatError("bad magic number in footer");
  }
  const cursor = new ByteCursor(footer, 0, FOOTER_HANDLES_SIZE);
  const metaindex = { offset: cursor.varint(), size: cursor.varint() };
  const index = { offset: cursor.varint(), size: cursor.varint() };
  return { metaindex, index };
}

/** Bytewise comparison, the order of keys in a table. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
