// Adaptive batch timeout (beyond TF Serving): waiting for more requests only pays when they are
// likely to arrive before the wait costs more than running a smaller batch. Three measurements drive
// it: the arrival rate (mean gap between requests, EWMA), the time a request spends in the batcher
// (EWMA), and the batch cost model cost(rows) ≈ fixed + perRow·rows, fitted by least squares over
// recent batches. By Little's law, rate × time in system is the number of requests in flight: below
// two, no other request is usually there to wait for (one closed-loop client looks like this, however
// fast it sends), so a batch runs at once.

const WINDOW = 64;
const EWMA = 0.1;

/**
 * Picks the wait for each new batch: 0 at low load (a lone request runs at once); at high load about
 * one batch's fixed cost — the compute that merging one more request saves — capped by `capMicros`.
 * High load means at least two requests in flight and more than one arrival per batch fixed cost.
 *
 * @example
 * const timeout = new AdaptiveTimeout(5000);
 * timeout.arrival(performance.now());
 * timeout.batchDone(8, 900);
 * timeout.waitMicros(); // 0 until requests arrive faster than a batch's fixed cost
 */
export class AdaptiveTimeout {
  private meanGapMicros = Number.POSITIVE_INFINITY;
  private meanLatencyMicros = 0;
  private lastArrivalMs: number | undefined;
  private readonly samples: { rows: number; micros: number }[] = [];
  private next = 0;

  /** @param capMicros the longest wait ever chosen (batch_timeout_micros, or a default when that is 0). */
  constructor(private readonly capMicros: number) {}

  /** Records a request arrival (milliseconds, performance.now()). */
  arrival(nowMs: number): void {
    if (this.lastArrivalMs !== undefined) {
      const gap = (nowMs - this.lastArrivalMs) * 1000;
      this.meanGapMicros = Number.isFinite(this.meanGapMicros)
        ? this.meanGapMicros + EWMA * (gap - this.meanGapMicros)
        : gap;
    }
    this.lastArrivalMs = nowMs;
  }

  /** Records how long one request spent in the batcher, arrival to result (µs). */
  requestDone(micros: number): void {
    this.meanLatencyMicros += EWMA * (micros - this.meanLatencyMicros);
  }

  /** Requests in flight on average (Little's law: arrival rate × time in the batcher). */
  inFlight(): number {
    return Number.isFinite(this.meanGapMicros) && this.meanGapMicros > 0
      ? this.meanLatencyMicros / this.meanGapMicros
      : 0;
  }

  /** Records one executed batch: its padded rows and how long it ran. */
  batchDone(rows: number, micros: number): void {
    if (this.samples.length < WINDOW) this.samples.push({ rows, micros });
    else this.samples[this.next] = { rows, micros };
    this.next = (this.next + 1) % WINDOW;
  }

  /** The cost model's fixed part (µs per batch, whatever its size); the mean batch time when sizes never varied. */
  fixedCostMicros(): number {
    const n = this.samples.length;
    if (n === 0) return 0;
    let sx = 0;
    let sy = 0;
    for (const s of this.samples) {
      sx += s.rows;
      sy += s.micros;
    }
    const mx = sx / n;
    const my = sy / n;
    let sxx = 0;
    let sxy = 0;
    for (const s of this.samples) {
      sxx += (s.rows - mx) ** 2;
      sxy += (s.rows - mx) * (s.micros - my);
    }
    if (sxx === 0) return my;
    const perRow = Math.max(0, sxy / sxx);
    return Math.max(0, my - perRow * mx);
  }

  /** The mean gap between arrivals, µs (Infinity before two arrivals). */
  meanGap(): number {
    return this.meanGapMicros;
  }

  /** The wait for a batch that just received its first request. */
  waitMicros(): number {
    // Nobody else in flight: waiting only adds latency.
    if (this.inFlight() < 2) return 0;
    const fixed = this.fixedCostMicros();
    // Fewer than one more arrival expected within a batch's fixed cost: waiting only adds latency.
    if (!(this.meanGapMicros < fixed)) return 0;
    return Math.min(this.capMicros, fixed);
  }
}
