// Request limits beyond TF Serving: a cap on concurrent inference requests per model (the excess is
// refused at once instead of queueing), and the REST slow-client timeouts' documented defaults.
import { Code, ServingError } from "../errors.js";

/** `--rest_api_max_body_bytes` default: 256 MiB after gzip inflation (larger → 413). */
export const DEFAULT_REST_MAX_BODY_BYTES = 256 * 1024 * 1024;
/** `--rest_api_headers_timeout_ms` default: a client has 60 s to send a request's headers (node's default). */
export const DEFAULT_REST_HEADERS_TIMEOUT_MS = 60_000;
/** `--rest_api_request_timeout_ms` default: 300 s to send the whole request, body included (node's default). */
export const DEFAULT_REST_REQUEST_TIMEOUT_MS = 300_000;

/**
 * The refusal of a request over a model's concurrency limit: RESOURCE_EXHAUSTED on gRPC (the gRPC code for
 * a server resource limit); the REST server answers it 503 Service Unavailable with `Retry-After`, because
 * it is server overload (TF Serving's generic RESOURCE_EXHAUSTED → 429 means a client rate limit).
 */
export class ConcurrencyLimitExceeded extends ServingError {
  /** The HTTP status the REST server sends for it. */
  static readonly httpStatus = 503;

  constructor(model: string, limit: number) {
    super(
      Code.RESOURCE_EXHAUSTED,
      `Model "${model}" is at its limit of ${limit} concurrent requests (--max_concurrent_requests_per_model); retry later`,
    );
  }
}

/**
 * Counts in-flight inference requests per model; over `limit` a request is refused rather than queued,
 * so other models (and this one, once a slot frees) keep answering. `limit` 0 = unlimited.
 *
 * @example
 * const limiter = new ConcurrencyLimiter(8);
 * const release = limiter.enter("half_plus_two"); // throws ConcurrencyLimitExceeded when 8 are running
 * try { await run(); } finally { release(); }
 */
export class ConcurrencyLimiter {
  private readonly inFlight = new Map<string, number>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `concurrency limit must be an integer >= 0, got ${limit}`,
      );
    }
  }

  /** Takes a slot of `model`; the returned function frees it (calling it again does nothing). */
  enter(model: string): () => void {
    if (this.limit === 0) return () => {};
    const count = this.inFlight.get(model) ?? 0;
    if (count >= this.limit) throw new ConcurrencyLimitExceeded(model, this.limit);
    this.inFlight.set(model, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(model) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(model);
      else this.inFlight.set(model, left);
    };
  }

  /** Slots of every distinct model in `models`, all or none. */
  enterAll(models: readonly string[]): () => void {
    const releases: (() => void)[] = [];
    try {
      for (const model of new Set(models)) releases.push(this.enter(model));
    } catch (error: unknown) {
      for (const release of releases) release();
      throw error;
    }
    return () => {
      for (const release of releases) release();
    };
  }

  /** In-flight requests of `model` (for tests and metrics). */
  active(model: string): number {
    return this.inFlight.get(model) ?? 0;
  }
}
