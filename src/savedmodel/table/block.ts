import { compareBytes, FormatError, pushVarint } from "./format.js";

/**
 * One table block (LevelDB block_builder.cc / block.cc): prefix-compressed
 * entries `varint shared · varint unshared · varint value_len · key suffix · value`,
 * then the restart offsets (uint32 LE) and their count (uint32 LE). Every
 * `restartInterval`-th key is stored whole so readers can binary-search.
 */
export class BlockBuilder {
  private chunks: Uint8Array[] = [];
  private byteLength = 0;
  private restarts: number[] = [0];
  private sinceRestart = 0;
  private lastKey: Uint8Array = new Uint8Array(0);

  constructor(private readonly restartInterval = 16) {}

  get empty(): boolean {
    return this.byteLength === 0;
  }

  /** Size of the block if finished now, as LevelDB's CurrentSizeEstimate counts it. */
  get sizeEstimate(): number {
    return this.byteLength + this.restarts.length * 4 + 4;
  }

  /** Adds an entry; keys must come in increasing order (the table writer checks). */
  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.sinceRestart < this.restartInterval) {
      const limit = Math.min(this.lastKey.length, key.length);
      while (shared < limit && this.lastKey[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.byteLength);
      this.sinceRestart = 0;
    }
    const header: number[] = [];
    pushVarint(header, shared);
    pushVarint(header, key.length - shared);
    pushVarint(header, value.length);
    this.push(Uint8Array.from(header));
    this.push(key.subarray(shared));
    this.push(value);
    this.lastKey = key;
    this.sinceRestart++;
  }

  /** The finished block bytes; the builder is reset for the next block. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.sizeEstimate);
    let pos = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, pos);
      pos += chunk.length;
    }
    const view = new DataView(out.buffer);
    for (const restart of this.restarts) {
      view.setUint32(pos, restart, true);
      pos += 4;
    }
    view.setUint32(pos, this.restarts.length, true);
    this.chunks = [];
    this.byteLength = 0;
    this.restarts = [0];
    this.sinceRestart = 0;
    this.lastKey = new Uint8Array(0);
    return out;
  }

  private push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.byteLength += bytes.length;
  }
}

/** A decoded block: keys rebuilt from their shared prefixes, values viewing the block bytes. */
export interface DecodedBlock {
  readonly keys: Uint8Array[];
  readonly values: Uint8Array[];
}

/** Decodes every entry of a block, checking each length against the block bounds. */
export function decodeBlock(block: Uint8Array): DecodedBlock {
  if (block.length < 4) throw new FormatError(`block of ${block.length} bytes has no restart count`);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const numRestarts = view.getUint32(block.length - 4, true);
  const restartsStart = block.length - 4 - 4 * numRestarts;
  if (numRestarts === 0 || restartsStart < 0) {
    throw new FormatError(`bad restart count ${numRestarts} for a block of ${block.length} bytes`);
  }
  const keys: Uint8Array[] = [];
  const values: Uint8Array[] = [];
  let lastKey = new Uint8Array(0);
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= restartsStart) throw new FormatError(`entry header runs past the entries at byte ${pos}`);
      const byte = block[pos++]!;
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    throw new FormatError(`bad varint32 at byte ${pos}`);
  };
  while (pos < restartsStart) {
    const entryStart = pos;
    const shared = varint();
    const unshared = varint();
    const valueLength = varint();
    if (shared > lastKey.length) {
      throw new FormatError(
        `entry at byte ${entryStart} shares ${shared} bytes of a ${lastKey.length}-byte key`,
      );
    }
    if (unshared + valueLength > restartsStart - pos) {
      throw new FormatError(`entry at byte ${entryStart} runs past the entries`);
    }
    const key = new Uint8Array(shared + unshared);
    key.set(lastKey.subarray(0, shared));
    key.set(block.subarray(pos, pos + unshared), shared);
    pos += unshared;
    if (keys.length > 0 && compareBytes(key, lastKey) <= 0) {
      throw new FormatError(`keys out of order at byte ${entryStart}`);
    }
    keys.push(key);
    values.push(block.subarray(pos, pos + valueLength));
    pos += valueLength;
    lastKey = key;
  }
  return { keys, values };
}
