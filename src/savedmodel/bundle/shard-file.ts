import { type FileHandle, open } from "node:fs/promises";
import { dataLoss } from "../../errors.js";
import { fileError } from "../table/file-errors.js";

/** Reads are issued in pieces of this size so checksumming one piece overlaps reading the next. */
const CHUNK_SIZE = 1 << 20;

/** One open data shard: positional reads only, never the whole file at once. */
export class ShardFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** File size when opened, to tell a truncated shard from a bad entry. */
    readonly size: number,
  ) {}

  /** Opens a shard; a missing file is NOT_FOUND "<path>: missing shard (ENOENT)". */
  static async open(path: string): Promise<ShardFile> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, "r");
      const { size } = await handle.stat();
      return new ShardFile(path, handle, size);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      throw fileError(path, error, "missing shard");
    }
  }

  /**
   * Reads bytes [offset, offset + size) into a fresh (8-byte aligned) array. `onChunk`
   * sees each piece in order while the next piece is being read.
   * `what` names the entry in a truncation error.
   */
  async read(
    offset: number,
    size: number,
    what: string,
    onChunk?: (chunk: Uint8Array) => void,
  ): Promise<Uint8Array> {
    if (offset + size > this.size) {
      throw dataLoss(
        `${this.path}: truncated shard (${this.size} bytes): ${what} needs bytes [${offset}, ${offset + size})`,
      );
    }
    // Every byte is overwritten by the read (or the read fails), so skip zero-filling; a Slow buffer owns
    // its ArrayBuffer at offset 0, which keeps typed-array views of the tensor aligned.
    const bytes = new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
    let pending = size > 0 ? this.readChunk(bytes, offset, 0, what) : undefined;
    for (let start = 0; pending; start += CHUNK_SIZE) {
      await pending;
      const next = start + CHUNK_SIZE;
      pending = next < size ? this.readChunk(bytes, offset, next, what) : undefined;
      onChunk?.(bytes.subarray(start, Math.min(next, size)));
    }
    return bytes;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async readChunk(bytes: Uint8Array, fileOffset: number, start: number, what: string): Promise<void> {
    const end = Math.min(start + CHUNK_SIZE, bytes.length);
    let pos = start;
    while (pos < end) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(bytes, pos, end - pos, fileOffset + pos));
      } catch (error) {
        throw fileError(this.path, error);
      }
      if (bytesRead === 0) {
        throw dataLoss(
          `${this.path}: truncated shard: ${what} needs bytes [${fileOffset}, ${fileOffset + bytes.length}) but the file ends at ${fileOffset + pos}`,
        );
      }
      pos += bytesRead;
    }
  }
}
