import { readFile } from "node:fs/promises";
import { dataLoss, unimplemented } from "../../errors.js";
import { crc32c, crcHex, maskCrc } from "../crc32c.js";
import { type DecodedBlock, decodeBlock } from "./block.js";
import { fileError } from "./file-errors.js";
import {
  BLOCK_TRAILER_SIZE,
  type BlockHandle,
  CompressionType,
  compareBytes,
  decodeBlockHandle,
  decodeFooter,
  FOOTER_SIZE,
  FormatError,
} from "./format.js";
import { snappyUncompress } from "./snappy.js";

/** Blocks decompress to at most this (TF writes 256 KiB blocks; a single huge entry may exceed it). */
const MAX_UNCOMPRESSED_BLOCK = 1 << 30;

/**
 * Reads a TF table file (`variables.index`): footer → index block → data blocks.
 * Every block's masked crc32c is verified before it is decompressed or parsed;
 * any damage is a DATA_LOSS ServingError naming the file, the block and the reason.
 *
 * @example
 * const table = await TableReader.open("export/1/variables/variables.index");
 * for (const [key, value] of table.entries()) console.log(new TextDecoder().decode(key), value.length);
 */
export class TableReader {
  private readonly blockCache = new Map<number, DecodedBlock>();

  private constructor(
    /** The file's path, used in every error message. */
    readonly path: string,
    private readonly bytes: Uint8Array,
    private readonly index: DecodedBlock,
    private readonly dataBlocks: readonly BlockHandle[],
  ) {}

  /** Reads and checks a table file (index files are small: a few entries per variable). */
  static async open(path: string): Promise<TableReader> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw fileError(path, error);
    }
    return TableReader.fromBytes(bytes, path);
  }

  /** Parses a table already in memory; `path` names it in errors. */
  static fromBytes(bytes: Uint8Array, path: string): TableReader {
    if (bytes.length < FOOTER_SIZE) {
      throw dataLoss(`${path}: truncated file (${bytes.length} bytes, footer needs ${FOOTER_SIZE})`);
    }
    let handles: { metaindex: BlockHandle; index: BlockHandle };
    try {
      handles = decodeFooter(bytes.subarray(bytes.length - FOOTER_SIZE));
    } catch (error) {
      throw dataLoss(`${path}: ${describe(error)}`);
    }
    // TF leaves the metaindex empty, but a damaged one is damage all the same.
    readBlock(bytes, path, handles.metaindex, "metaindex block");
    const index = parse(
      path,
      handles.index,
      "index block",
      readBlock(bytes, path, handles.index, "index block"),
    );
    const dataBlocks = index.values.map((value, i) => {
      try {
        return decodeBlockHandle(value);
      } catch (error) {
        throw dataLoss(`${path}: index entry ${i}: bad block handle: ${describe(error)}`);
      }
    });
    return new TableReader(path, bytes, index, dataBlocks);
  }

  /** Number of data blocks. */
  get blockCount(): number {
    return this.dataBlocks.length;
  }

  /** Where each data block lies and how it is stored (TF builds without Snappy write every block raw). */
  dataBlockLayout(): { offset: number; size: number; compression: CompressionType }[] {
    return this.dataBlocks.map(({ offset, size }) => ({
      offset,
      size,
      compression: this.bytes[offset + size]! as CompressionType,
    }));
  }

  /** Every entry in key order; each data block is verified when first reached. */
  *entries(): Generator<[key: Uint8Array, value: Uint8Array]> {
    for (let i = 0; i < this.dataBlocks.length; i++) {
      const block = this.dataBlock(i);
      for (let j = 0; j < block.keys.length; j++) yield [block.keys[j]!, block.values[j]!];
    }
  }

  /** The value stored under key, or undefined. */
  get(key: Uint8Array): Uint8Array | undefined {
    // The first block whose index key is ≥ key is the only one that can hold it.
    const keys = this.index.keys;
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareBytes(keys[mid]!, key) < 0) low = mid + 1;
      else high = mid;
    }
    if (low === keys.length) return undefined;
    const block = this.dataBlock(low);
    for (let j = 0; j < block.keys.length; j++) {
      if (compareBytes(block.keys[j]!, key) === 0) return block.values[j];
    }
    return undefined;
  }

  private dataBlock(i: number): DecodedBlock {
    const cached = this.blockCache.get(i);
    if (cached) return cached;
    const handle = this.dataBlocks[i]!;
    const block = parse(this.path, handle, "block", readBlock(this.bytes, this.path, handle, "block"));
    this.blockCache.set(i, block);
    return block;
  }
}

function where(handle: BlockHandle, what: string): string {
  return `${what} at offset ${handle.offset} (${handle.size} bytes)`;
}

/** Checks a block's trailer crc and returns its uncompressed contents. */
function readBlock(bytes: Uint8Array, path: string, handle: BlockHandle, what: string): Uint8Array {
  const contentsEnd = bytes.length - FOOTER_SIZE;
  if (handle.offset + handle.size + BLOCK_TRAILER_SIZE > contentsEnd) {
    throw dataLoss(
      `${path}: ${where(handle, what)} extends past the end of the blocks (${contentsEnd} bytes); truncated file?`,
    );
  }
  const end = handle.offset + handle.size;
  const contents = bytes.subarray(handle.offset, end);
  const type = bytes[end]!;
  // Stored masked, over the block bytes and the type byte; both printed masked, as in the file.
  const stored = new DataView(bytes.buffer, bytes.byteOffset + end + 1, 4).getUint32(0, true);
  const computed = maskCrc(crc32c(bytes.subarray(end, end + 1), crc32c(contents)));
  if (stored !== computed) {
    throw dataLoss(
      `${path}: ${where(handle, what)}: checksum mismatch (stored ${crcHex(stored)}, computed ${crcHex(computed)})`,
    );
  }
  if (type === CompressionType.None) return contents;
  if (type !== CompressionType.Snappy) {
    throw unimplemented(`${path}: ${where(handle, what)}: unknown compression type ${type}`);
  }
  try {
    return snappyUncompress(contents, MAX_UNCOMPRESSED_BLOCK);
  } catch (error) {
    throw dataLoss(`${path}: ${where(handle, what)}: corrupt Snappy data: ${describe(error)}`);
  }
}

function parse(path: string, handle: BlockHandle, what: string, contents: Uint8Array): DecodedBlock {
  try {
    return decodeBlock(contents);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    throw dataLoss(`${path}: ${where(handle, what)}: bad block contents: ${error.message}`);
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
