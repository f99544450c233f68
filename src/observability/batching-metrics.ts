// Batching metrics under TF Serving's batching_session names, fed by the batcher's BatchingObserver.
import type { BatchEvent, BatchingObserver, RejectEvent } from "../batching/observer.js";
import type { ServingMetrics } from "./metrics.js";

/**
 * A BatchingObserver recording each batch into TF Serving's batching histograms: input_batch_size
 * (real rows), processed_batch_size (rows run, padding included), padding_size, queuing_latency (one
 * observation per request, labelled by model name as the batch "thread pool") and wrapped_run_count.
 * `modelOf` names the model of a version directory (BatchEvent identifies servables by `dir`);
 * `onBatch`, when given, sees every batch too (tracing cuts queue and run spans with it).
 *
 * @example
 * const observer = batchingObserver(metrics, (dir) => models.get(dir) ?? "");
 */
export function batchingObserver(
  metrics: ServingMetrics,
  modelOf: (dir: string) => string,
  onBatch?: (event: BatchEvent) => void,
): BatchingObserver {
  return {
    batch(event: BatchEvent) {
      onBatch?.(event);
      const model_name = modelOf(event.dir);
      metrics.inputBatchSize.observe({ model_name }, event.rows);
      metrics.processedBatchSize.observe({ model_name }, event.paddedRows);
      metrics.paddingSize.observe({ model_name }, event.paddedRows - event.rows);
      metrics.wrappedRunCount.inc({ model_name });
      const queue = metrics.queuingLatency.labels({ thread_pool_name: model_name });
      for (const micros of event.queueDelaysMicros) queue.observe(micros);
    },
    rejected(_event: RejectEvent) {
      // Rejected requests are counted by their API status in request_count.
    },
  };
}
