// Node's timers count whole milliseconds and fire up to ~1 ms late, so a 5000 µs batch timeout used to
// add ~5.7 ms to a lone request. This timer sleeps on setTimeout until about a millisecond before the
// deadline, then re-checks the clock on setImmediate (I/O keeps flowing in between) until it is due.

/** Sleep on setTimeout only this close to the deadline; the rest is polled. */
const POLL_WINDOW_MS = 1.5;

/** A pending timeout; `cancel()` is idempotent. */
export interface PreciseTimeout {
  cancel(): void;
}

/**
 * Calls `fire` once `ms` (fractional) milliseconds have passed, within tens of microseconds.
 *
 * @example
 * const timeout = preciseTimeout(() => runBatch(), 5); // 5000 µs
 * timeout.cancel(); // if the batch filled up first
 */
export function preciseTimeout(fire: () => void, ms: number): PreciseTimeout {
  const due = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let cancelled = false;
  const check = () => {
    timer = undefined;
    immediate = undefined;
    if (cancelled) return;
    if (performance.now() >= due) fire();
    else immediate = setImmediate(check);
  };
  if (ms > POLL_WINDOW_MS) timer = setTimeout(check, Math.floor(ms - POLL_WINDOW_MS));
  else immediate = setImmediate(check);
  return {
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
