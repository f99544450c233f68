/**
 * Server-side batching with TF Serving's semantics: wrap a loaded Servable so that concurrent
 * requests for one signature run as one merged batch.
 *
 * @example
 * import { batchingOptions, parseBatchingParameters, withBatching } from "ts-serving";
 * const servable = withBatching(await loadServable(dir), {
 *   options: batchingOptions(parseBatchingParameters("max_batch_size { value: 64 } batch_timeout_micros { value: 2000 }")),
 * });
 */
export { AdaptiveTimeout } from "./adaptive-timeout.js";
export { BatchScheduler } from "./batch-scheduler.js";
export {
  type BatchingOptions,
  batchingOptions,
  DEFAULT_BATCHING_OPTIONS,
  PER_MODEL_BATCHING_PARAMS_FILE,
  parseBatchingParameters,
  readBatchingParametersFile,
  validateBatchingOptions,
} from "./batching-params.js";
export { type WithBatchingOptions, withBatching } from "./batching-servable.js";
export type { BatchEvent, BatchingObserver, RejectEvent } from "./observer.js";
export { type ServerBatchingConfig, serverBatching } from "./server-batching.js";
