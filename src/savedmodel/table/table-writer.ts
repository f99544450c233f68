import { invalidArgument } from "../../errors.js";
import { crc32c, maskCrc } from "../crc32c.js";
import { BlockBuilder } from "./block.js";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  CompressionType,
  compareBytes,
  encodeBlockHandle,
  encodeFooter,
} from "./format.js";
import { snappyCompress } from "./snappy.js";

export interface TableWriterOptions {
  /** Uncompressed bytes per data block before it is cut; TF's default is 256 KiB (LevelDB's is 4 KiB). */
  blockSize?: number;
  /** Keys between full (unshared) keys in a data block; 16 as in TF and LevelDB. */
  restartInterval?: number;
  /** TF compresses blocks with Snappy and keeps a block raw when that saves less than 1/8. */
  compression?: "snappy" | "none";
}

/**
 * Builds a table file in memory exactly as TF's table::TableBuilder does
 * (tensorflow/core/lib/io/table_builder.cc): same block cuts, same shortest
 * separators in the index block, same compression decisions, empty metaindex,
 * footer with magic. Index files are small, so the result is one byte array.
 *
 * @example
 * const table = new TableWriter();
 * table.add(new Uint8Array(), headerBytes); // keys in increasing byte order
 * await writeFile("x.index", table.finish());
 */
export class TableWriter {
  private readonly blockSize: number;
  private readonly compression: "snappy" | "none";
  private readonly dataBlock: BlockBuilder;
  private readonly indexBlock = new BlockBuilder(1);
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  private lastKey: Uint8Array | undefined;
  private pendingHandle: BlockHandle | undefined;
  private finished = false;

  constructor(options: TableWriterOptions = {}) {
    this.blockSize = options.blockSize ?? 262144;
    this.compression = options.compression ?? "snappy";
    this.dataBlock = new BlockBuilder(options.restartInterval ?? 16);
  }

  /** Adds an entry; keys must be strictly increasing bytewise. */
  add(key: Uint8Array, value: Uint8Array): void {
    if (this.finished) throw invalidArgument("table writer already finished");
    if (this.lastKey !== undefined) {
      if (compareBytes(key, this.lastKey) <= 0)
        throw invalidArgument("table keys must be strictly increasing");
      // An entry over twice the block size gets a block of its own (TF's kOverlyLargeBlockRatio).
      if (key.length + value.length >= 2 * this.blockSize) this.flush();
    }
    if (this.pendingHandle && this.lastKey) {
      this.indexBlock.add(shortestSeparator(this.lastKey, key), encodeBlockHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    this.lastKey = key;
    this.dataBlock.add(key, value);
    if (this.dataBlock.sizeEstimate >= this.blockSize) this.flush();
  }

  /** Writes the remaining blocks and the footer; returns the whole file. */
  finish(): Uint8Array {
    if (this.finished) throw invalidArgument("table writer already finished");
    this.flush();
    this.finished = true;
    const metaindex = this.writeBlock(new BlockBuilder().finish());
    if (this.pendingHandle && this.lastKey) {
      this.indexBlock.add(shortSuccessor(this.lastKey), encodeBlockHandle(this.pendingHandle));
      this.pendingHandle = undefined;
    }
    const index = this.writeBlock(this.indexBlock.finish());
    this.append(encodeFooter(metaindex, index));
    const file = new Uint8Array(this.offset);
    let pos = 0;
    for (const chunk of this.chunks) {
      file.set(chunk, pos);
      pos += chunk.length;
    }
    return file;
  }

  private flush(): void {
    if (this.dataBlock.empty) return;
    this.pendingHandle = this.writeBlock(this.dataBlock.finish());
  }

  private writeBlock(raw: Uint8Array): BlockHandle {
    let contents = raw;
    let type = CompressionType.None;
    if (this.compression === "snappy") {
      const compressed = snappyCompress(raw);
      if (compressed.length < raw.length - Math.floor(raw.length / 8)) {
        contents = compressed;
        type = CompressionType.Snappy;
      }
    }
    const handle = { offset: this.offset, size: contents.length };
    const trailer = new Uint8Array(BLOCK_TRAILER_SIZE);
    trailer[0] = type;
    const crc = maskCrc(crc32c(trailer.subarray(0, 1), crc32c(contents)));
    new DataView(trailer.buffer).setUint32(1, crc, true);
    this.append(contents);
    this.append(trailer);
    return handle;
  }

  private append(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.offset += bytes.length;
  }
}

/** A short key k with start ≤ k < limit (TF's FindShortestSeparator). */
function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const minLength = Math.min(start.length, limit.length);
  let diff = 0;
  while (diff < minLength && start[diff] === limit[diff]) diff++;
  if (diff >= minLength) return start; // one is a prefix of the other
  const byte = start[diff]!;
  if (byte < 0xff && byte + 1 < limit[diff]!) {
    const separator = start.slice(0, diff + 1);
    separator[diff] = byte + 1;
    return separator;
  }
  return start;
}

/** A short key ≥ key (TF's FindShortSuccessor): the first byte that can be incremented, incremented. */
function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const successor = key.slice(0, i + 1);
      successor[i] = key[i]! + 1;
      return successor;
    }
  }
  return key;
}
