/** A queue the scheduler can take work from: its head batch, when that batch may run now. */
export interface BatchSource {
  /** Removes the head batch if it is ready and returns the job that runs it; undefined otherwise. */
  takeReady(): (() => Promise<void>) | undefined;
}

/**
 * The shared pool of "batch threads" (TF Serving's SharedBatchScheduler): at most `numBatchThreads`
 * batches run at once across every queue (all models, versions and signatures); queues take turns.
 * Node has no threads to block, so a "thread" is a slot for one in-flight batch run.
 *
 * @example
 * const scheduler = new BatchScheduler(4);
 * scheduler.add(queue); // the queue calls scheduler.wake() when a batch becomes ready
 */
export class BatchScheduler {
  private readonly sources: BatchSource[] = [];
  private turn = 0;
  private running = 0;
  private wakePending = false;

  constructor(readonly numBatchThreads: number) {}

  add(source: BatchSource): void {
    this.sources.push(source);
  }

  remove(source: BatchSource): void {
    const i = this.sources.indexOf(source);
    if (i >= 0) this.sources.splice(i, 1);
  }

  /** Batches running now. */
  get busy(): number {
    return this.running;
  }

  /** Whether a batch would start right now if one were ready. */
  get idle(): boolean {
    return this.running < this.numBatchThreads;
  }

  /** Starts ready batches while slots are free. */
  wake(): void {
    while (this.running < this.numBatchThreads) {
      const job = this.nextJob();
      if (!job) return;
      this.running++;
      job().finally(() => {
        this.running--;
        this.wake();
      });
    }
  }

  /**
   * Wakes after the current event-loop turn: requests that arrive in the same turn (one socket read
   * can hold many) join the batch first. This is what batch_timeout_micros = 0 means here.
   */
  wakeSoon(): void {
    if (this.wakePending) return;
    this.wakePending = true;
    setImmediate(() => {
      this.wakePending = false;
      this.wake();
    });
  }

  private nextJob(): (() => Promise<void>) | undefined {
    const n = this.sources.length;
    for (let i = 0; i < n; i++) {
      const source = this.sources[(this.turn + i) % n];
      const job = source?.takeReady();
      if (job) {
        // Round robin: the next search starts after the queue that just got a slot.
        this.turn = (this.turn + i + 1) % n;
        return job;
      }
    }
    return undefined;
  }
}
