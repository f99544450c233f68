/**
 * Request deadlines for one timeout value, checked by a single shared timer instead of one timer per
 * request. All deadlines are "now + timeoutMs", so arrival order is deadline order: requests take
 * slots in a ring in arrival order, a finished request clears its slot, and a tick walks from the
 * oldest slot and stops at the first deadline still ahead. A deadline fires at most `timeoutMs / 10`
 * (and at most 250 ms) late.
 *
 * Per request this is three array stores and no allocation. The first version kept a Map of
 * `{deadline, response}` entries; under load the garbage collector then kept copying and promoting
 * every finished request's objects, which cost REST predict about a third of its throughput
 * (bench/rest.ts, server CPU per request).
 *
 * @example
 * const deadlines = new Deadlines<ServerResponse, string>(30_000, (res, id) => answer504(res, id));
 * const id = deadlines.add(res, requestId);
 * // ... when the request completes:
 * deadlines.delete(id);
 */
export class Deadlines<T, U = undefined> {
  /** Slot i of request id is `id & mask`; ids of slots still held run from `oldest` to `nextId - 1`. */
  private mask = 63;
  private at = new Float64Array(64);
  private items: (T | undefined)[] = new Array<T | undefined>(64).fill(undefined);
  private details: (U | undefined)[] = new Array<U | undefined>(64).fill(undefined);
  private oldest = 0;
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (item: T, detail: U) => void,
  ) {}

  /** Starts a deadline for `item`; `detail` is handed to `expire` with it. Returns its id. */
  add(item: T, detail: U): number {
    if (this.nextId - this.oldest > this.mask) this.grow();
    const id = this.nextId++;
    const slot = id & this.mask;
    this.at[slot] = Date.now() + this.timeoutMs;
    this.items[slot] = item;
    this.details[slot] = detail;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), Math.max(1, Math.min(this.timeoutMs / 10, 250)));
      this.timer.unref();
    }
    return id;
  }

  /** The request finished: its deadline no longer fires. */
  delete(id: number): void {
    if (id < this.oldest || id >= this.nextId) return;
    const slot = id & this.mask;
    this.items[slot] = undefined;
    this.details[slot] = undefined;
    // Finished requests at the old end free their slots at once.
    while (this.oldest < this.nextId && this.items[this.oldest & this.mask] === undefined) this.oldest++;
  }

  /** Stops the timer (pending deadlines no longer fire). */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.items.fill(undefined);
    this.details.fill(undefined);
    this.oldest = this.nextId;
  }

  private tick(): void {
    const now = Date.now();
    while (this.oldest < this.nextId) {
      const slot = this.oldest & this.mask;
      const item = this.items[slot];
      if (item !== undefined) {
        if (this.at[slot]! > now) return;
        const detail = this.details[slot] as U;
        this.items[slot] = undefined;
        this.details[slot] = undefined;
        this.expire(item, detail);
      }
      this.oldest++;
    }
  }

  /** Doubles the ring when every slot is held (a slow request holds everything that arrived after it). */
  private grow(): void {
    const size = (this.mask + 1) * 2;
    const at = new Float64Array(size);
    const items = new Array<T | undefined>(size).fill(undefined);
    const details = new Array<U | undefined>(size).fill(undefined);
    const mask = size - 1;
    for (let id = this.oldest; id < this.nextId; id++) {
      const from = id & this.mask;
      at[id & mask] = this.at[from]!;
      items[id & mask] = this.items[from];
      details[id & mask] = this.details[from];
    }
    this.mask = mask;
    this.at = at;
    this.items = items;
    this.details = details;
  }
}
