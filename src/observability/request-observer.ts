// One object per REST or gRPC request: the API layer fills in what it learns (model, API, version,
// signature, error code) and `end()` turns it into metrics, an access-log line and a trace span.
import { randomUUID } from "node:crypto";
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { AccessLog } from "./access-log.js";
import type { Entrypoint, ServingMetrics } from "./metrics.js";
import { type Tracing, withRequestSpan } from "./tracing.js";

/** The header (REST) and metadata key (gRPC) carrying the request id, both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

/**
 * A client's id is kept when it is 1–128 visible ASCII characters other than `"` and `\`: safe in
 * headers, and in a JSON log line as it is.
 */
const ACCEPTABLE_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;

/**
 * Generated ids: a random UUID prefix drawn once per process, then a counter in the last group. They
 * have the UUID v4 form and are unique across processes (74 random bits) and within one (the
 * counter), at a fraction of `randomUUID()`'s cost per request.
 */
const ID_PREFIX = randomUUID().slice(0, 24);
const ID_LENGTH = 36;
/** Ids minted at a time. */
const ID_BATCH = 256;
let idCounter = 0;
let mintedIds: string[] = [];
let nextMinted = 0;

function nextRequestId(): string {
  if (nextMinted === mintedIds.length) {
    mintedIds = mintIds(ID_BATCH);
    nextMinted = 0;
  }
  return mintedIds[nextMinted++] as string;
}

/**
 * The next `count` ids, as slices of one flat string. An id built by concatenation is a rope that
 * Node's header check (a regular expression) must first copy into a flat string: 0.7–1.8 µs a
 * request under load (bench/README.md), against a few ns a slice.
 */
function mintIds(count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    idCounter++;
    const hex = idCounter.toString(16);
    ids.push(ID_PREFIX + (hex.length >= 12 ? hex.slice(-12) : "000000000000".slice(hex.length) + hex));
  }
  const flat = ids.join("");
  return ids.map((_, i) => flat.slice(i * ID_LENGTH, (i + 1) * ID_LENGTH));
}

/**
 * The request id to use: the client's `x-request-id` when acceptable, else a new UUID-form id.
 *
 * @example
 * requestIdFrom(req.headers["x-request-id"]); // "3f1c…" (generated) or the client's id
 */
export function requestIdFrom(given: unknown): string {
  const value = Array.isArray(given) ? given[0] : given;
  return typeof value === "string" && ACCEPTABLE_ID.test(value) ? value : nextRequestId();
}

/** What the API layer learns about a request while it runs; `end()` reports it once. */
export class RequestScope {
  /** TF Serving's API name, e.g. "Predict", "GetModelStatus"; "" until the route is known. */
  api = "";
  model = "";
  version: bigint | undefined = undefined;
  signature = "";
  /** gRPC code name ("OK", "NOT_FOUND", ...). */
  status = "OK";
  /** Set by transports that have one (REST). */
  httpStatus: number | undefined = undefined;
  /** Wall time from `begin` to `end`, in µs (0 until then). */
  micros = 0;
  private readonly startMs = performance.now();
  private ended = false;

  constructor(
    readonly requestId: string,
    readonly entrypoint: Entrypoint,
    private readonly observer: RequestObserver,
    private readonly span: Span | undefined,
  ) {}

  /** Whether the request has a trace span: only then must its code run inside `enter`. */
  get traced(): boolean {
    return this.span !== undefined;
  }

  /** Runs `fn` as this request's code: its spans (run, queue) become children of the request span. */
  enter<T>(fn: () => T): T {
    return this.span ? withRequestSpan(this.span, fn) : fn();
  }

  /** Whether `end()` was called: the scope is then reported as it is, and must not change. */
  get isEnded(): boolean {
    return this.ended;
  }

  /** Reports the request (metrics, access log, span); later calls do nothing. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.micros = (performance.now() - this.startMs) * 1000;
    if (this.span) this.observer.reportTraced(this, this.span);
    else this.observer.finished(this);
  }
}

export interface RequestObserverOptions {
  readonly metrics?: ServingMetrics;
  /** Access log: one line per request. */
  readonly accessLog?: AccessLog;
  readonly tracing?: Tracing;
}

/**
 * Starts a RequestScope per request and reports finished ones to the metrics, the access log and
 * the tracer (each optional).
 *
 * Finished requests are reported in batches, once per event-loop turn (`setImmediate`), not one by
 * one as they end: interleaved with the HTTP and inference code of every request, the reporting code
 * and its data fell out of the CPU caches and cost several times its own run time under load
 * (bench/observability.ts). Spans are the exception: they end with their request. Readers flush
 * first (`flush()`: the metrics endpoint, `close()`), so nothing reported is ever missing from them.
 *
 * @example
 * const observer = new RequestObserver({ metrics, accessLog });
 * const scope = observer.begin("REST", req.headers["x-request-id"]);
 * scope.model = "half_plus_two"; scope.api = "Predict";
 * scope.end();
 * observer.flush(); // counted and logged now (otherwise within this event-loop turn)
 */
export class RequestObserver {
  /** Ended scopes not yet reported (see the class comment). */
  private pending: RequestScope[] = [];
  private flushScheduled = false;
  private readonly flushScheduledBatch = () => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(readonly options: RequestObserverOptions) {
    options.metrics?.beforeCollect(() => this.flush());
  }

  begin(entrypoint: Entrypoint, givenRequestId: unknown): RequestScope {
    const requestId = requestIdFrom(givenRequestId);
    const span = this.options.tracing?.tracer.startSpan("request", {
      attributes: { "ts_serving.entrypoint": entrypoint, "ts_serving.request_id": requestId },
    });
    return new RequestScope(requestId, entrypoint, this, span);
  }

  /** Called by RequestScope.end (untraced requests): reported in this event-loop turn's batch. */
  finished(scope: RequestScope): void {
    this.pending.push(scope);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushScheduledBatch);
    }
  }

  /** Reports every finished request not yet reported: to the metrics and the access log. */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    for (let i = 0; i < batch.length; i++) this.record(batch[i] as RequestScope);
  }

  /** Called by RequestScope.end (traced requests): recorded and its span ended now. */
  reportTraced(scope: RequestScope, span: Span): void {
    this.record(scope);
    span.setAttributes({
      "ts_serving.api": scope.api,
      "ts_serving.model": scope.model,
      "ts_serving.signature": scope.signature,
      "ts_serving.status": scope.status,
      ...(scope.version === undefined ? {} : { "ts_serving.version": String(scope.version) }),
    });
    if (scope.status !== "OK") span.setStatus({ code: SpanStatusCode.ERROR, message: scope.status });
    span.end();
  }

  private record(scope: RequestScope): void {
    const { metrics, accessLog } = this.options;
    // Requests that never named a model (unroutable paths) are not counted, as in TF Serving.
    if (metrics && scope.api !== "") {
      metrics.recordRequest(scope.model, scope.api, scope.entrypoint, scope.status, scope.micros);
    }
    accessLog?.write(scope, scope.micros);
  }
}
