import type { FileHandle } from "node:fs/promises";

/**
 * Appends to a file through a 1 MiB buffer: small tensors are batched into few
 * writes, large ones are written straight from their own memory (no copy).
 */
export class BufferedWriter {
  private readonly buffer: Uint8Array;
  private used = 0;
  /** Bytes appended so far. */
  position = 0;

  constructor(
    private readonly handle: FileHandle,
    capacity = 1 << 20,
  ) {
    this.buffer = new Uint8Array(capacity);
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.position += bytes.length;
    if (this.used + bytes.length <= this.buffer.length) {
      this.buffer.set(bytes, this.used);
      this.used += bytes.length;
      return;
    }
    await this.flush();
    if (bytes.length < this.buffer.length) {
      this.buffer.set(bytes);
      this.used = bytes.length;
      return;
    }
    await this.writeFully(bytes);
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.writeFully(this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  private async writeFully(bytes: Uint8Array): Promise<void> {
    // Node caps one write at 2 GiB; a regular file may also take less than asked.
    const maxWrite = 1 << 30;
    let pos = 0;
    while (pos < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, pos, Math.min(bytes.length - pos, maxWrite));
      pos += bytesWritten;
    }
  }
}
