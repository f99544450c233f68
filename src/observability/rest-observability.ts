// The REST server's observability hook: the Prometheus endpoint on the REST port, and a RequestScope
// per /v1/ request that puts `x-request-id` in the response headers and reports as the response goes
// out. The REST handler carries the scope with the request; the request and response objects are left
// alone (no listener, header object, property or WeakMap entry): under load each of those cost the
// server microseconds a request (bench/observability.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code } from "../errors.js";
import { rawHeader } from "../http-headers.js";
import type { ServingMetrics } from "./metrics.js";
import { REQUEST_ID_HEADER, type RequestObserver, type RequestScope } from "./request-observer.js";

/** What `restHandler` calls (option `observability`). */
export interface RestObservability {
  /** Answers the metrics endpoint; true when it did (the request is then not a model request). */
  serveMetrics(req: IncomingMessage, res: ServerResponse): boolean;
  /** Starts observing a model API request (`/v1/...`; undefined for other paths). */
  begin(req: IncomingMessage): RequestScope | undefined;
  /** The error a response carries (HTTP statuses alone cannot tell every gRPC code apart). */
  fail(scope: RequestScope, code: Code): void;
  /** Called with the headers of the response about to be written: adds `x-request-id`, reports the request. */
  respond(scope: RequestScope, status: number, headers: Record<string, string>): void;
}

/** HTTP statuses answered without a ServingError (bad URL encoding, 413) → gRPC code names. */
const CODE_OF_HTTP: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  404: "NOT_FOUND",
  413: "RESOURCE_EXHAUSTED",
  503: "UNAVAILABLE",
};

const MODEL_API = /^\/v1\//i;

/**
 * The REST hook from a RequestObserver and, when `prometheusPath` is set, the metrics to serve there.
 *
 * @example
 * const observability = restObservability(new RequestObserver({ metrics }), metrics, "/monitoring/prometheus/metrics");
 * createServer(restHandler({ backend: core, observability }));
 */
export function restObservability(
  observer: RequestObserver,
  metrics?: ServingMetrics,
  prometheusPath?: string,
): RestObservability {
  return {
    serveMetrics(req, res) {
      if (metrics === undefined || prometheusPath === undefined) return false;
      const url = req.url ?? "/";
      const query = url.indexOf("?");
      if ((query < 0 ? url : url.slice(0, query)) !== prometheusPath) return false;
      metrics.text().then(
        (text) =>
          res.writeHead(200, { "Content-Type": metrics.contentType }).end(req.method === "HEAD" ? "" : text),
        (error: unknown) => res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error)),
      );
      return true;
    },
    begin(req) {
      if (!MODEL_API.test(req.url ?? "/")) return undefined;
      return observer.begin("REST", rawHeader(req, REQUEST_ID_HEADER));
    },
    fail(scope, code) {
      // A request answered already (a REST timeout) and failing later is reported as answered.
      if (!scope.isEnded) scope.status = Code[code] ?? "UNKNOWN";
    },
    respond(scope, status, headers) {
      headers[REQUEST_ID_HEADER] = scope.requestId;
      scope.httpStatus = status;
      if (scope.status === "OK" && status >= 300) scope.status = CODE_OF_HTTP[status] ?? "UNKNOWN";
      scope.end();
    },
  };
}
