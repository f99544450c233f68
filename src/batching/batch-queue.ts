// One batching queue (per model version and signature): forms batches from requests by size and by
// timeout, holds at most max_enqueued_batches of them, and hands ready ones to the shared scheduler.
import { Code, ServingError } from "../errors.js";
import type { BatchScheduler, BatchSource } from "./batch-scheduler.js";
import type { BatchingOptions } from "./batching-params.js";
import { type PreciseTimeout, preciseTimeout } from "./precise-timer.js";

/** Rows `[start, start + rows)` of one request, placed in one batch. */
export interface Piece<T> {
  readonly task: T;
  /** Position of this piece within its request (0 unless the request was split). */
  readonly index: number;
  readonly start: number;
  readonly rows: number;
  /** The batch holding the piece while it waits; undefined once the batch has started. */
  batch: Batch<T> | undefined;
}

/** A batch being formed or waiting for a free batch thread. */
export interface Batch<T> {
  readonly pieces: Piece<T>[];
  rows: number;
  /** Full: no more requests join; it runs as soon as a thread is free. */
  closed: boolean;
  /** Its timeout has passed (or was 0): it runs as soon as a thread is free. */
  timedOut: boolean;
  timer: PreciseTimeout | undefined;
}

export type QueueOptions = Pick<
  BatchingOptions,
  "maxBatchSize" | "maxEnqueuedBatches" | "enableLargeBatchSplitting" | "maxExecutionBatchSize"
>;

/**
 * Batch formation with TF Serving's SharedBatchScheduler queue rules: a request joins the open batch
 * if it fits, else the open batch closes and a new one starts — unless max_enqueued_batches are
 * already waiting, then UNAVAILABLE at once. A request above max_batch_size is INVALID_ARGUMENT;
 * with large-batch splitting, a request fills the open batch's remaining room and continues in new
 * batches of at most max_execution_batch_size.
 *
 * @example
 * const queue = new BatchQueue(scheduler, options, () => 5000, (batch) => runBatch(batch));
 * const pieces = queue.enqueue(task, 3); // throws ServingError(UNAVAILABLE) when full
 */
export class BatchQueue<T> implements BatchSource {
  private readonly batches: Batch<T>[] = [];
  private running = 0;
  private draining = false;
  private drained: (() => void) | undefined;

  constructor(
    private readonly scheduler: BatchScheduler,
    private readonly options: QueueOptions,
    /** The wait for a batch that just got its first request, µs (batch_timeout_micros, or adaptive). */
    private readonly timeoutMicros: () => number,
    private readonly process: (batch: Batch<T>) => Promise<void>,
  ) {
    scheduler.add(this);
  }

  /** Requests (pieces) waiting, for tests and metrics. */
  get waitingBatches(): number {
    return this.batches.length;
  }

  /** Places a request of `rows` rows; returns its pieces (one unless split). Throws when it cannot be queued. */
  enqueue(task: T, rows: number): Piece<T>[] {
    if (this.draining)
      throw new ServingError(
        Code.UNAVAILABLE,
        "The batching queue is closed: the model version is unloading",
      );
    const { maxBatchSize, enableLargeBatchSplitting: splitting } = this.options;
    if (rows > maxBatchSize)
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `Task size ${rows} is larger than maximum input batch size ${maxBatchSize}`,
      );
    return splitting ? this.enqueueSplit(task, rows) : this.enqueueWhole(task, rows);
  }

  private enqueueWhole(task: T, rows: number): Piece<T>[] {
    let open = this.openBatch();
    if (!open || open.rows + rows > this.options.maxBatchSize) {
      if (this.batches.length >= this.options.maxEnqueuedBatches)
        throw new ServingError(
          Code.UNAVAILABLE,
          "The batch scheduling queue to which this task was submitted is full",
        );
      if (open) this.close(open);
      open = this.newBatch();
    }
    const piece = this.place(open, task, 0, 0, rows, this.options.maxBatchSize);
    return [piece];
  }

  private enqueueSplit(task: T, rows: number): Piece<T>[] {
    const limit = this.options.maxExecutionBatchSize;
    const open = this.openBatch();
    const room = open ? limit - open.rows : 0;
    const capacity = (this.options.maxEnqueuedBatches - this.batches.length) * limit + room;
    if (rows > capacity)
      throw new ServingError(
        Code.UNAVAILABLE,
        `The batch scheduling queue to which this task was submitted is full; task size is ${rows} but scheduling capacity is only ${capacity}`,
      );
    const pieces: Piece<T>[] = [];
    let start = 0;
    if (open && room > 0) {
      const take = Math.min(room, rows);
      pieces.push(this.place(open, task, 0, 0, take, limit));
      start = take;
    }
    while (start < rows || pieces.length === 0) {
      const take = Math.min(limit, rows - start);
      const last = this.openBatch();
      if (last) this.close(last);
      pieces.push(this.place(this.newBatch(), task, pieces.length, start, take, limit));
      start += take;
    }
    return pieces;
  }

  /**
   * Takes queued pieces out (a cancelled request or a passed deadline). Returns false when a piece
   * already runs: its batch goes on, the caller just ignores that result.
   */
  cancel(pieces: readonly Piece<T>[]): boolean {
    let allQueued = true;
    for (const piece of pieces) {
      const batch = piece.batch;
      if (!batch) {
        allQueued = false;
        continue;
      }
      piece.batch = undefined;
      batch.pieces.splice(batch.pieces.indexOf(piece), 1);
      batch.rows -= piece.rows;
      if (batch.pieces.length === 0) {
        batch.timer?.cancel();
        this.batches.splice(this.batches.indexOf(batch), 1);
      }
    }
    this.checkDrained();
    return allQueued;
  }

  takeReady(): (() => Promise<void>) | undefined {
    const head = this.batches[0];
    if (!head || !(head.closed || head.timedOut || this.draining)) return undefined;
    this.batches.shift();
    head.timer?.cancel();
    for (const piece of head.pieces) piece.batch = undefined;
    this.running++;
    return () =>
      this.process(head).finally(() => {
        this.running--;
        this.checkDrained();
      });
  }

  /** Stops accepting requests, runs every waiting batch now, and resolves once all have finished. */
  drain(): Promise<void> {
    this.draining = true;
    const done = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    this.checkDrained();
    this.scheduler.wake();
    return done.then(() => this.scheduler.remove(this));
  }

  private checkDrained(): void {
    if (this.draining && this.batches.length === 0 && this.running === 0) this.drained?.();
  }

  private openBatch(): Batch<T> | undefined {
    const last = this.batches.at(-1);
    return last && !last.closed ? last : undefined;
  }

  private newBatch(): Batch<T> {
    const batch: Batch<T> = { pieces: [], rows: 0, closed: false, timedOut: false, timer: undefined };
    this.batches.push(batch);
    const micros = this.timeoutMicros();
    if (micros <= 0) {
      batch.timedOut = true;
      this.scheduler.wakeSoon();
    } else {
      batch.timer = preciseTimeout(() => {
        batch.timer = undefined;
        batch.timedOut = true;
        this.scheduler.wake();
      }, micros / 1000);
    }
    return batch;
  }

  private place(
    batch: Batch<T>,
    task: T,
    index: number,
    start: number,
    rows: number,
    limit: number,
  ): Piece<T> {
    const piece: Piece<T> = { task, index, start, rows, batch };
    batch.pieces.push(piece);
    batch.rows += rows;
    if (batch.rows >= limit) this.close(batch);
    return piece;
  }

  /** Closes a batch to new requests; a closed batch is ready, so a free thread takes it now. */
  private close(batch: Batch<T>): void {
    batch.closed = true;
    batch.timer?.cancel();
    batch.timer = undefined;
    this.scheduler.wake();
  }
}
