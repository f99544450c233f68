import type { Servable } from "../runtime/servable.js";
import { AdaptiveTimeout } from "./adaptive-timeout.js";
import { BatchScheduler } from "./batch-scheduler.js";
import type { BatchingOptions } from "./batching-params.js";
import { type BatchingSignatureRunner, batchingSignature } from "./batching-signature.js";
import type { BatchingObserver } from "./observer.js";

/** The longest adaptive wait when batch_timeout_micros is 0 (no cap configured): 10 ms. */
const ADAPTIVE_DEFAULT_CAP_MICROS = 10_000;

export interface WithBatchingOptions {
  readonly options: BatchingOptions;
  /** The pool shared by every model (TF Serving has one); default: a new one of `options.numBatchThreads`. */
  readonly scheduler?: BatchScheduler | undefined;
  readonly observer?: BatchingObserver | undefined;
  /**
   * Beyond TF Serving: choose each batch's wait from the arrival rate and the measured batch cost
   * (0 at low load), capped by batch_timeout_micros (10 ms when that is 0).
   */
  readonly adaptive?: boolean | undefined;
}

/**
 * Wraps a loaded model version so that every signature batches requests (one queue per signature,
 * as TF Serving keeps one per model version and signature). The API layers see an ordinary
 * Servable. `close()` stops taking requests, runs what is queued, then closes the wrapped servable.
 *
 * @example
 * const servable = withBatching(await loadServable(dir), {
 *   options: batchingOptions(parseBatchingParameters("max_batch_size { value: 64 } batch_timeout_micros { value: 2000 }")),
 * });
 */
export function withBatching(servable: Servable, config: WithBatchingOptions): Servable {
  const { options, observer } = config;
  const scheduler = config.scheduler ?? new BatchScheduler(options.numBatchThreads);
  const runners = new Map<string, BatchingSignatureRunner>();
  for (const [key, inner] of servable.signatures) {
    // One estimator per queue: arrival rate and batch cost are properties of one signature's traffic.
    const adaptive = config.adaptive
      ? new AdaptiveTimeout(
          options.batchTimeoutMicros > 0 ? options.batchTimeoutMicros : ADAPTIVE_DEFAULT_CAP_MICROS,
        )
      : undefined;
    runners.set(key, batchingSignature(inner, { dir: servable.dir, options, scheduler, observer, adaptive }));
  }
  let closing: Promise<void> | undefined;
  // Servables are plain objects: everything else (platform, dir, metadata) stays the model's own.
  return {
    ...servable,
    signatures: runners,
    close() {
      closing ??= Promise.all([...runners.values()].map((r) => r.drain())).then(() => servable.close());
      return closing;
    },
  };
}
