// Prometheus metrics under TF Serving's names. TF Serving's exporter turns a metric path such as
// `/tensorflow/serving/request_count` into `:tensorflow:serving:request_count` (colons are legal in
// Prometheus metric names, and prom-client accepts them), so dashboards written for TF Serving keep
// working. Latencies are in microseconds with TF's exponential buckets, as TF Serving records them.
import {
  type Counter,
  collectDefaultMetrics,
  exponentialBuckets,
  type Histogram,
  Counter as PromCounter,
  Gauge as PromGauge,
  Histogram as PromHistogram,
  Registry,
} from "prom-client";
import { CounterFamily, type CounterSeries, HistogramFamily, type HistogramSeries } from "./fast-series.js";

/** Where a request came in: TF Serving's `entrypoint` label values. */
export type Entrypoint = "GRPC" | "REST";

/** TF Serving's metric names (after its `/` → `:` mapping) plus ts-serving's own, in one place. */
export const METRIC_NAMES = {
  requestCount: ":tensorflow:serving:request_count",
  requestLatency: ":tensorflow:serving:request_latency",
  runtimeLatency: ":tensorflow:serving:runtime_latency",
  warmupLatency: ":tensorflow:serving:model_warmup_latency",
  loadLatency: ":tensorflow:cc:saved_model:load_latency",
  loadAttemptCount: ":tensorflow:cc:saved_model:load_attempt_count",
  inputBatchSize: ":tensorflow:serving:batching_session:input_batch_size",
  processedBatchSize: ":tensorflow:serving:batching_session:processed_batch_size",
  paddingSize: ":tensorflow:serving:batching_session:padding_size",
  queuingLatency: ":tensorflow:serving:batching_session:queuing_latency",
  wrappedRunCount: ":tensorflow:serving:batching_session:wrapped_run_count",
  versionsLoaded: "ts_serving_model_versions_loaded",
} as const;

/** TF Serving's request/runtime/warmup buckets: scale 10 µs, power 1.8, 33 buckets (~20 minutes). */
const LATENCY_BUCKETS = exponentialBuckets(10, 1.8, 33);
/** TF Serving's batching queuing buckets: scale 100 µs, power 1.2, 52 buckets (~1 second). */
const QUEUING_BUCKETS = exponentialBuckets(100, 1.2, 52);
/** Batch sizes 1, 2, 4, …, 16384 (TF's example-count buckets). */
const BATCH_BUCKETS = exponentialBuckets(1, 2, 15);

/**
 * ts-serving's metrics in their own prom-client Registry (never the global one, so several servers
 * in one process — tests — do not share counters), with Node's process and runtime metrics.
 * Label children are cached per label combination: prom-client hashes labels on every call otherwise.
 *
 * @example
 * const metrics = new ServingMetrics();
 * metrics.recordRequest("half_plus_two", "Predict", "REST", "OK", 830);
 * const text = await metrics.registry.metrics();
 */
export class ServingMetrics {
  readonly registry = new Registry();
  /** TF: {model_name, status}; ts-serving adds API and entrypoint (a superset: TF queries still match). */
  readonly requestCount: CounterFamily<"model_name" | "API" | "entrypoint" | "status">;
  readonly requestLatency: HistogramFamily<"model_name" | "API" | "entrypoint">;
  readonly runtimeLatency: HistogramFamily<"model_name" | "API" | "runtime">;
  readonly warmupLatency: Histogram<"model_path" | "status">;
  readonly loadLatency: Counter<"model_path">;
  readonly loadAttemptCount: Counter<"model_path" | "status">;
  readonly inputBatchSize: Histogram<"model_name">;
  readonly processedBatchSize: Histogram<"model_name">;
  readonly paddingSize: Histogram<"model_name">;
  readonly queuingLatency: Histogram<"thread_pool_name">;
  readonly wrappedRunCount: Counter<"model_name">;
  readonly versionsLoaded: PromGauge<"model_name">;
  /** Series handles by label values joined with NUL: one Map lookup per update on the request path. */
  private readonly counted = new Map<string, CounterSeries>();
  private readonly timed = new Map<string, HistogramSeries>();
  private readonly ran = new Map<string, HistogramSeries>();
  /** The series the previous request and run went to: under load most requests repeat them. */
  private lastRequest:
    | {
        readonly model: string;
        readonly api: string;
        readonly entrypoint: Entrypoint;
        readonly status: string;
        readonly count: CounterSeries;
        readonly latency: HistogramSeries;
      }
    | undefined;
  private lastRun:
    | { readonly model: string; readonly api: string; readonly series: HistogramSeries }
    | undefined;
  private readonly collectHooks: (() => void)[] = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    // The three metrics updated on every request: series handles instead of prom-client's per-call
    // label hashing (see fast-series.ts).
    this.requestCount = new CounterFamily(
      METRIC_NAMES.requestCount,
      "The total number of requests.",
      ["model_name", "API", "entrypoint", "status"],
      this.registry,
    );
    this.requestLatency = new HistogramFamily(
      METRIC_NAMES.requestLatency,
      "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
      ["model_name", "API", "entrypoint"],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.runtimeLatency = new HistogramFamily(
      METRIC_NAMES.runtimeLatency,
      "Distribution of wall time (in microseconds) for the model runtime (onnxruntime).",
      ["model_name", "API", "runtime"],
      LATENCY_BUCKETS,
      this.registry,
    );
    this.warmupLatency = new PromHistogram({
      name: METRIC_NAMES.warmupLatency,
      help: "Distribution of wall time (in microseconds) for warming up the model.",
      labelNames: ["model_path", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.loadLatency = new PromCounter({
      name: METRIC_NAMES.loadLatency,
      help: "Latency in microseconds for SavedModels that were successfully loaded.",
      labelNames: ["model_path"],
      registers,
    });
    this.loadAttemptCount = new PromCounter({
      name: METRIC_NAMES.loadAttemptCount,
      help: "The number of times a SavedModel was loaded, by status (success or fail).",
      labelNames: ["model_path", "status"],
      registers,
    });
    const batchHistogram = (name: string, help: string) =>
      new PromHistogram({ name, help, labelNames: ["model_name"], buckets: BATCH_BUCKETS, registers });
    this.inputBatchSize = batchHistogram(
      METRIC_NAMES.inputBatchSize,
      "Tracks the batch size distribution on the inputs.",
    );
    this.processedBatchSize = batchHistogram(
      METRIC_NAMES.processedBatchSize,
      "Tracks the batch size distribution on processing.",
    );
    this.paddingSize = batchHistogram(
      METRIC_NAMES.paddingSize,
      "Tracks the padding size distribution on batches.",
    );
    this.queuingLatency = new PromHistogram({
      name: METRIC_NAMES.queuingLatency,
      help: "Distribution of wall time spent (in microseconds) in queuing",
      labelNames: ["thread_pool_name"],
      buckets: QUEUING_BUCKETS,
      registers,
    });
    this.wrappedRunCount = new PromCounter({
      name: METRIC_NAMES.wrappedRunCount,
      help: "Total count of run calls on the wrapped session (batches run).",
      labelNames: ["model_name"],
      registers,
    });
    this.versionsLoaded = new PromGauge({
      name: METRIC_NAMES.versionsLoaded,
      help: "Versions of the model currently AVAILABLE (serving requests).",
      labelNames: ["model_name"],
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** One finished request: its count by status and its latency (µs). */
  recordRequest(model: string, api: string, entrypoint: Entrypoint, status: string, micros: number): void {
    const last = this.lastRequest;
    if (
      last !== undefined &&
      last.model === model &&
      last.api === api &&
      last.entrypoint === entrypoint &&
      last.status === status
    ) {
      last.count.inc();
      last.latency.observe(micros);
      return;
    }
    const key = `${model}\u0000${api}\u0000${entrypoint}`;
    const count = seriesFor(this.counted, `${key}\u0000${status}`, () =>
      this.requestCount.series({ model_name: model, API: api, entrypoint, status }),
    );
    const latency = seriesFor(this.timed, key, () =>
      this.requestLatency.series({ model_name: model, API: api, entrypoint }),
    );
    count.inc();
    latency.observe(micros);
    this.lastRequest = { model, api, entrypoint, status, count, latency };
  }

  /** One run of a signature by the runtime (µs). */
  recordRuntime(model: string, api: string, micros: number): void {
    const last = this.lastRun;
    if (last !== undefined && last.model === model && last.api === api) {
      last.series.observe(micros);
      return;
    }
    const series = seriesFor(this.ran, `${model}\u0000${api}`, () =>
      this.runtimeLatency.series({ model_name: model, API: api, runtime: "onnxruntime" }),
    );
    series.observe(micros);
    this.lastRun = { model, api, series };
  }

  /** Runs `hook` before each `text()`: a source that batches its updates flushes them there. */
  beforeCollect(hook: () => void): void {
    this.collectHooks.push(hook);
  }

  /** The metrics in Prometheus text exposition format. */
  text(): Promise<string> {
    for (const hook of this.collectHooks) hook();
    return this.registry.metrics();
  }

  /** The Content-Type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The series cached under `key`, made by `make` the first time. */
function seriesFor<S>(cache: Map<string, S>, key: string, make: () => S): S {
  let series = cache.get(key);
  if (series === undefined) {
    series = make();
    cache.set(key, series);
  }
  return series;
}
