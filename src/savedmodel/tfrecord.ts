// TFRecord files (tensorflow/core/lib/io/record_{reader,writer}.cc), uncompressed: per record a
// uint64 LE payload length, the masked crc32c of those 8 bytes (uint32 LE), the payload, and the
// masked crc32c of the payload (uint32 LE). TF Serving's warmup file is one.

import type { FileHandle } from "node:fs/promises";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { Code, dataLoss, ServingError } from "../errors.js";
import { crc32c, maskCrc, unmaskCrc } from "./crc32c.js";

/** Bytes before a record's payload: length (8) + masked crc of the length (4). */
export const TFRECORD_HEADER_SIZE = 12;
/** Bytes after a record's payload: masked crc of the payload. */
export const TFRECORD_FOOTER_SIZE = 4;

/**
 * One record in TFRecord framing.
 *
 * @example
 * const framed = encodeTFRecord(new TextEncoder().encode("hi")); // 12 + 2 + 4 bytes
 */
export function encodeTFRecord(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(TFRECORD_HEADER_SIZE + payload.byteLength + TFRECORD_FOOTER_SIZE);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(payload.byteLength), true);
  view.setUint32(8, maskCrc(crc32c(out.subarray(0, 8))), true);
  out.set(payload, TFRECORD_HEADER_SIZE);
  view.setUint32(TFRECORD_HEADER_SIZE + payload.byteLength, maskCrc(crc32c(payload)), true);
  return out;
}

/**
 * Writes `records` to `path` as a TFRecord file (creating its directory), replacing any file there.
 *
 * @example
 * await writeTFRecordFile("/tmp/x.tfrecord", [payloadA, payloadB]);
 */
export async function writeTFRecordFile(
  path: string,
  records: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, "w");
  try {
    for await (const record of records) await file.write(encodeTFRecord(record));
  } finally {
    await file.close();
  }
}

/**
 * Reads the payloads of a TFRecord file, streaming: one record in memory at a time (plus a read buffer).
 * Framing faults are DATA_LOSS with TF's RecordReader messages: `truncated record at <offset>` (the
 * file ends inside a record) and `corrupted record at <offset>` (a checksum mismatch; the offset is
 * the record's start for its header and start + 12 for its payload). A missing or unreadable file is
 * NOT_FOUND / PERMISSION_DENIED / UNKNOWN.
 *
 * @example
 * for await (const payload of readTFRecordFile(path)) console.log(payload.byteLength);
 */
export async function* readTFRecordFile(path: string): AsyncGenerator<Uint8Array, void, undefined> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error: unknown) {
    throw fileError(error, path);
  }
  try {
    const reader = new ChunkedReader(file, (await file.stat()).size);
    for (let offset = 0; ; ) {
      const header = await reader.read(TFRECORD_HEADER_SIZE);
      if (header.byteLength === 0) return;
      if (header.byteLength < TFRECORD_HEADER_SIZE) throw dataLoss(`truncated record at ${offset}`);
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      if (unmaskCrc(view.getUint32(8, true)) !== crc32c(header.subarray(0, 8))) {
        throw dataLoss(`corrupted record at ${offset}`);
      }
      const length = view.getBigUint64(0, true);
      const wanted = length + BigInt(TFRECORD_FOOTER_SIZE);
      if (wanted > BigInt(reader.remaining)) throw dataLoss(`truncated record at ${offset}`);
      const body = await reader.read(Number(wanted));
      if (body.byteLength < Number(wanted)) throw dataLoss(`truncated record at ${offset}`);
      const payload = body.subarray(0, Number(length));
      const stored = new DataView(body.buffer, body.byteOffset + payload.byteLength, 4).getUint32(0, true);
      if (unmaskCrc(stored) !== crc32c(payload)) {
        throw dataLoss(`corrupted record at ${offset + TFRECORD_HEADER_SIZE}`);
      }
      yield payload;
      offset += TFRECORD_HEADER_SIZE + payload.byteLength + TFRECORD_FOOTER_SIZE;
    }
  } finally {
    await file.close();
  }
}

const CHUNK_SIZE = 64 * 1024;

/** Sequential reads from a file through a 64 KiB buffer; big reads go straight into their own array. */
class ChunkedReader {
  private chunk = new Uint8Array(0);
  private start = 0;
  private position = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly size: number,
  ) {}

  /** Bytes not yet returned. */
  get remaining(): number {
    return this.chunk.byteLength - this.start + Math.max(0, this.size - this.position);
  }

  /** The next `n` bytes, or fewer at the end of the file. The result is never overwritten later. */
  async read(n: number): Promise<Uint8Array> {
    const buffered = this.chunk.byteLength - this.start;
    if (buffered >= n) {
      const out = this.chunk.subarray(this.start, this.start + n);
      this.start += n;
      return out;
    }
    if (n - buffered < CHUNK_SIZE) {
      // Refill: a fresh chunk holding the leftover bytes and the next block of the file.
      const next = new Uint8Array(buffered + CHUNK_SIZE);
      next.set(this.chunk.subarray(this.start));
      const filled = buffered + (await this.fill(next, buffered));
      this.chunk = next.subarray(0, filled);
      this.start = 0;
      const out = this.chunk.subarray(0, Math.min(n, filled));
      this.start = out.byteLength;
      return out;
    }
    const out = new Uint8Array(n);
    out.set(this.chunk.subarray(this.start));
    this.chunk = new Uint8Array(0);
    this.start = 0;
    const filled = buffered + (await this.fill(out, buffered));
    return out.subarray(0, filled);
  }

  /** Reads into `target` from `from` until it is full or the file ends; returns the bytes read. */
  private async fill(target: Uint8Array, from: number): Promise<number> {
    let at = from;
    while (at < target.byteLength) {
      const { bytesRead } = await this.file.read(target, at, target.byteLength - at, this.position);
      if (bytesRead === 0) break;
      at += bytesRead;
      this.position += bytesRead;
    }
    return at - from;
  }
}

function fileError(error: unknown, path: string): ServingError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const status =
    code === "ENOENT"
      ? Code.NOT_FOUND
      : code === "EACCES" || code === "EPERM"
        ? Code.PERMISSION_DENIED
        : Code.UNKNOWN;
  const reason = error instanceof Error ? error.message : String(error);
  return new ServingError(status, `${path}: ${reason}`, { cause: error });
}
