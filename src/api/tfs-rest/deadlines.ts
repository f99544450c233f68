/**
 * Request deadlines for one timeout value, checked by a single shared timer instead of one timer per
 * request (measured: a setTimeout/clearTimeout pair per request cost ~5% of REST throughput). All
 * deadlines are `now + timeoutMs`, so insertion order is deadline order and a tick stops at the first
 * one still pending. A deadline fires at most `timeoutMs / 10` late.
 *
 * @example
 * const deadlines = new Deadlines(30_000);
 * const id = deadlines.add(() => answer504());
 * // ... when the request completes:
 * deadlines.delete(id);
 */
export class Deadlines {
  private readonly pending = new Map<number, { at: number; expire: () => void }>();
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(expire: () => void): number {
    const id = this.nextId++;
    this.pending.set(id, { at: performance.now() + this.timeoutMs, expire });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(1, Math.min(this.timeoutMs / 10, 250)));
      this.timer.unref();
    }
    return id;
  }

  delete(id: number): void {
    this.pending.delete(id);
  }

  /** Stops the timer (pending deadlines no longer fire). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private tick(): void {
    const now = performance.now();
    for (const [id, entry] of this.pending) {
      if (entry.at > now) break;
      this.pending.delete(id);
      entry.expire();
    }
  }
}
