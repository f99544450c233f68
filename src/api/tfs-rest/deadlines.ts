/**
 * Request deadlines for one timeout value, checked by a single shared timer instead of one timer per
 * request. Per request this is one map insert and delete — no timer, no closure, no extra promise:
 * each of those measurably cost REST throughput. All deadlines are "now + timeoutMs", so insertion
 * order is deadline order and a tick stops at the first one still pending; a deadline fires at most
 * `timeoutMs / 10` (and at most 250 ms) late.
 *
 * @example
 * const deadlines = new Deadlines<ServerResponse, string>(30_000, (res, id) => answer504(res, id));
 * const id = deadlines.add(res, requestId);
 * // ... when the request completes:
 * deadlines.delete(id);
 */
export class Deadlines<T, U = undefined> {
  private readonly pending = new Map<number, { at: number; item: T; detail: U }>();
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (item: T, detail: U) => void,
  ) {}

  /** Starts a deadline for `item`; `detail` is handed to `expire` with it. */
  add(item: T, detail: U): number {
    const id = this.nextId++;
    this.pending.set(id, { at: Date.now() + this.timeoutMs, item, detail });
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
    const now = Date.now();
    for (const [id, entry] of this.pending) {
      if (entry.at > now) break;
      this.pending.delete(id);
      this.expire(entry.item, entry.detail);
    }
  }
}
