// Appends blocks of bytes to a file or to stdout/stderr off the request path: each block goes out in
// one asynchronous write on libuv's thread pool, in order, and its buffer is recycled afterwards. The
// access log fills one ~256 KiB block per ~900 requests; a synchronous write or a fresh buffer per block
// each cost the event loop measurably under load (bench/observability.ts).
import { close, mkdirSync, openSync, write } from "node:fs";
import { dirname } from "node:path";

/** Retry delay when a pipe is full (EAGAIN on a non-blocking stdout/stderr). */
const RETRY_MS = 10;

/**
 * An append-only byte sink: `take()` a buffer, fill it, `write()` it; buffers come back for reuse
 * once written. Write errors (a full disk, a closed pipe) drop the block and are reported once on
 * stderr: a broken log must not stop serving.
 *
 * @example
 * const out = new BlockWriter("/var/log/ts-serving/access.log", 24 * 1024);
 * const block = out.take();
 * const length = block.write("line\n");
 * out.write(block, length);
 * await out.close();
 */
export class BlockWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly spare: Buffer[] = [];
  private readonly queue: { buffer: Buffer; length: number }[] = [];
  private writing = false;
  private failed = false;
  private drained: (() => void) | undefined;

  /** `target`: "stdout", "stderr" or a file path (appended to; its directory is created). */
  constructor(
    target: string,
    private readonly blockBytes: number,
  ) {
    if (target === "stdout" || target === "stderr") {
      this.fd = target === "stdout" ? 1 : 2;
      this.ownsFd = false;
    } else {
      mkdirSync(dirname(target), { recursive: true });
      this.fd = openSync(target, "a");
      this.ownsFd = true;
    }
  }

  /** An empty buffer of `blockBytes` (a recycled one when available). */
  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.blockBytes);
  }

  /** Queues the first `length` bytes of `buffer` (usually from `take()`); the writer owns it from now on. */
  write(buffer: Buffer, length: number): void {
    if (length === 0) {
      this.recycle(buffer);
      return;
    }
    this.queue.push({ buffer, length });
    if (!this.writing) this.next(0);
  }

  /** Resolves once every queued block is written; closes the file (stdout/stderr stay open). */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      const finish = () => {
        if (!this.ownsFd) return resolve();
        close(this.fd, () => resolve());
      };
      if (!this.writing) return finish();
      this.drained = finish;
    });
  }

  /** Writes the head block from `offset` (a short write continues where it stopped). */
  private next(offset: number): void {
    const head = this.queue[0];
    if (head === undefined) {
      this.writing = false;
      const drained = this.drained;
      this.drained = undefined;
      drained?.();
      return;
    }
    this.writing = true;
    write(this.fd, head.buffer, offset, head.length - offset, null, (error, written) => {
      if (error) {
        if (error.code === "EAGAIN") {
          setTimeout(() => this.next(offset), RETRY_MS);
          return;
        }
        this.report(error);
      } else if (offset + written < head.length) {
        this.next(offset + written);
        return;
      }
      this.queue.shift();
      this.recycle(head.buffer);
      this.next(0);
    });
  }

  /** Keeps a written buffer for `take()`; one of another size (a single long write) is dropped. */
  private recycle(buffer: Buffer): void {
    if (buffer.length === this.blockBytes) this.spare.push(buffer);
  }

  private report(error: NodeJS.ErrnoException): void {
    if (this.failed) return;
    this.failed = true;
    process.stderr.write(`access log: write failed, lines are being dropped: ${error.message}\n`);
  }
}
