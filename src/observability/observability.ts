// Everything the server wires for observability, built once from its options: metrics (always
// collected, served when a Prometheus path is configured), the access log, tracing, and the hooks
// the REST server, the gRPC server, the loader and the core's events call.
import type { ServerInterceptor } from "@grpc/grpc-js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { BatchEvent, BatchingObserver } from "../batching/observer.js";
import type { StateChangeEvent } from "../core/manager.js";
import { ServingError } from "../errors.js";
import type { Servable } from "../runtime/servable.js";
import { type AccessLog, openAccessLog } from "./access-log.js";
import { batchingObserver } from "./batching-metrics.js";
import { grpcObservability } from "./grpc-observability.js";
import { ServingMetrics } from "./metrics.js";
import { RequestObserver } from "./request-observer.js";
import { type RestObservability, restObservability } from "./rest-observability.js";
import { type BatchTimes, timeRuns, traceRuns } from "./servable-observability.js";
import { Tracing } from "./tracing.js";

export interface ObservabilityOptions {
  /** Serve Prometheus text at this path on the REST port (from --monitoring_config_file). */
  readonly prometheusPath?: string | undefined;
  /** `--access_log`: "" or absent = off; "stdout", "stderr" or a file path. */
  readonly accessLog?: string | undefined;
  /** `--otlp_traces_endpoint`. */
  readonly otlpEndpoint?: string | undefined;
  /** A span exporter of your own (tests: InMemorySpanExporter). */
  readonly spanExporter?: SpanExporter | undefined;
  /** Node's default process metrics (default true). */
  readonly defaultMetrics?: boolean;
}

/**
 * The server's observability: hand `rest` to the REST server, `grpcInterceptor` to the gRPC server,
 * route the core's `state` events to `onState`, load through `tracedLoad(batching(timedLoad(load)))`.
 *
 * @example
 * const obs = new Observability({ prometheusPath: "/monitoring/prometheus/metrics", accessLog: "stdout" });
 * const core = await ServerCore.create({ config, listeners: { state: (e) => obs.onState(e) } });
 * await startRestServer({ backend: core, port: 8501, observability: obs.rest });
 * await obs.close();
 */
export class Observability {
  readonly metrics: ServingMetrics;
  readonly tracing: Tracing | undefined;
  readonly rest: RestObservability;
  readonly grpcInterceptor: ServerInterceptor;
  readonly batching: BatchingObserver;
  /**
   * Whether anything reads per-request observations: a Prometheus path, an access log or tracing.
   * When not, the server leaves the request hooks out: they cost ~10% of REST throughput under load
   * (bench/observability.ts) for numbers nobody could see.
   */
  readonly active: boolean;
  private readonly access: AccessLog | undefined;
  private readonly observer: RequestObserver;
  /** Version dir → model name, learnt from LOADING events (loads and batches only know the dir). */
  private readonly modelOfDir = new Map<string, string>();
  private readonly available = new Map<string, Set<bigint>>();
  /** `${dir}\0${signature}` → the last batch's start and end (performance.now() ms), for tracing. */
  private readonly lastBatch = new Map<string, { startMs: number; endMs: number }>();

  constructor(options: ObservabilityOptions = {}) {
    this.metrics = new ServingMetrics({ defaultMetrics: options.defaultMetrics ?? true });
    this.tracing = Tracing.create({
      ...(options.otlpEndpoint ? { otlpEndpoint: options.otlpEndpoint } : {}),
      ...(options.spanExporter ? { exporter: options.spanExporter } : {}),
    });
    this.access = openAccessLog(options.accessLog ?? "");
    this.active =
      options.prometheusPath !== undefined || this.access !== undefined || this.tracing !== undefined;
    this.observer = new RequestObserver({
      metrics: this.metrics,
      ...(this.access ? { accessLog: this.access } : {}),
      ...(this.tracing ? { tracing: this.tracing } : {}),
    });
    this.rest = restObservability(this.observer, this.metrics, options.prometheusPath);
    this.grpcInterceptor = grpcObservability(this.observer);
    const onBatch = this.tracing
      ? (event: BatchEvent) => {
          const endMs = performance.now();
          this.lastBatch.set(`${event.dir}\0${event.signature}`, {
            startMs: endMs - event.runMicros / 1000,
            endMs,
          });
        }
      : undefined;
    this.batching = batchingObserver(this.metrics, (dir) => this.modelOf(dir), onBatch);
  }

  /** The model a version directory belongs to ("" if no LOADING event named it). */
  modelOf(dir: string): string {
    return this.modelOfDir.get(dir) ?? "";
  }

  /** Feed of the core's `state` events: model names of dirs and the versions-loaded gauge. */
  onState(event: StateChangeEvent): void {
    if (event.state === "LOADING") this.modelOfDir.set(event.dir, event.model);
    let versions = this.available.get(event.model);
    if (versions === undefined) {
      versions = new Set();
      this.available.set(event.model, versions);
    }
    if (event.state === "AVAILABLE") versions.add(event.version);
    else versions.delete(event.version);
    if (event.state === "END") this.modelOfDir.delete(event.dir);
    this.metrics.versionsLoaded.set({ model_name: event.model }, versions.size);
  }

  /**
   * The load function, timed into load_attempt_count and (on success) load_latency, its servables'
   * runs into runtime_latency. Goes inside batching: runtime latency is per (batched) run.
   */
  timedLoad(load: (dir: string) => Promise<Servable>): (dir: string) => Promise<Servable> {
    return async (dir) => {
      const start = performance.now();
      try {
        const servable = await load(dir);
        this.metrics.loadAttemptCount.inc({ model_path: dir, status: "success" });
        this.metrics.loadLatency.inc({ model_path: dir }, Math.round((performance.now() - start) * 1000));
        return this.active ? timeRuns(servable, this.modelOf(dir), this.metrics) : servable;
      } catch (error: unknown) {
        this.metrics.loadAttemptCount.inc({ model_path: dir, status: "fail" });
        throw error;
      }
    };
  }

  /**
   * The load function with `run` (and, when `batching`, `queue`) spans around its servables' runs;
   * the same function when tracing is off. Goes outside batching: spans are per request.
   */
  tracedLoad(
    load: (dir: string) => Promise<Servable>,
    batching: boolean,
  ): (dir: string) => Promise<Servable> {
    const tracing = this.tracing;
    if (tracing === undefined) return load;
    const batchTimes: BatchTimes = (dir, signature) => this.lastBatch.get(`${dir}\0${signature}`);
    return async (dir) =>
      traceRuns(await load(dir), this.modelOf(dir), tracing, batching ? batchTimes : undefined);
  }

  /** Runs a warmup of `dir` into model_warmup_latency (status "OK" or the failure's code). */
  async timeWarmup<T>(dir: string, warmup: () => Promise<T>): Promise<T> {
    const start = performance.now();
    let status = "OK";
    try {
      return await warmup();
    } catch (error: unknown) {
      status = ServingError.from(error).codeName;
      throw error;
    } finally {
      this.metrics.warmupLatency.observe({ model_path: dir, status }, (performance.now() - start) * 1000);
    }
  }

  /** Reports the requests not yet reported, flushes the access log and pending spans. */
  async close(): Promise<void> {
    this.observer.flush();
    await this.access?.close();
    await this.tracing?.shutdown();
  }
}
