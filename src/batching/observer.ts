/** One executed batch, as reported to a {@link BatchingObserver}. */
export interface BatchEvent {
  /** The model version directory (the Servable's `dir`): identifies model and version. */
  readonly dir: string;
  readonly signature: string;
  /** Real rows in the batch (sum of the requests' dimension 0). */
  readonly rows: number;
  /** Rows actually run: `rows` plus padding up to an allowed batch size. */
  readonly paddedRows: number;
  /** Requests (or pieces of split requests) merged into the batch. */
  readonly requests: number;
  /** For each request: microseconds from its arrival to the batch starting. */
  readonly queueDelaysMicros: readonly number[];
  /** Microseconds the merged run took (merge, inner run and split). */
  readonly runMicros: number;
  /** Whether the batch failed as a whole. */
  readonly failed: boolean;
}

/** A request turned away before running: full queue, too large, cancelled or deadline passed in the queue. */
export interface RejectEvent {
  readonly dir: string;
  readonly signature: string;
  /** The gRPC code name of the error, e.g. "UNAVAILABLE". */
  readonly code: string;
}

/**
 * Hooks for metrics (batch size histogram, queueing delay, padding). Every method is optional and
 * called synchronously on the event loop; an observer must not throw (errors are swallowed).
 *
 * @example
 * const observer: BatchingObserver = {
 *   batch: (e) => batchSize.observe(e.paddedRows),
 *   rejected: (e) => rejections.inc({ code: e.code }),
 * };
 * withBatching(servable, { options, scheduler, observer });
 */
export interface BatchingObserver {
  batch?(event: BatchEvent): void;
  rejected?(event: RejectEvent): void;
}

/** Calls an observer hook, never letting it break serving. */
export function notify<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (!hook) return;
  try {
    hook(event);
  } catch {
    // Metrics must never fail a request.
  }
}
