import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { create } from "@bufbuild/protobuf";
import { classify, regress } from "../../core/inference/index.js";
import type { ServableHandle, VersionRequest, VersionStatus } from "../../core/manager.js";
import { Code, ServingError } from "../../errors.js";
import { rawHeader } from "../../http-headers.js";
import type { RequestScope } from "../../observability/request-observer.js";
import type { RestObservability } from "../../observability/rest-observability.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import {
  ClassificationRequestSchema,
  ClassificationResultSchema,
} from "../../proto/gen/tensorflow_serving/apis/classification_pb.js";
import {
  RegressionRequestSchema,
  RegressionResultSchema,
} from "../../proto/gen/tensorflow_serving/apis/regression_pb.js";
import { type SignatureRunner, signatureDefs } from "../../runtime/servable.js";
import { modelMetadataJson } from "../../savedmodel/metadata.js";
import { DEFAULT_SIGNATURE } from "../../savedmodel/saved-model.js";
import type { Authenticator } from "../../security/auth.js";
import { authorizeHttp } from "../../security/http-auth.js";
import { ConcurrencyLimitExceeded, type ConcurrencyLimiter } from "../../security/limits.js";
import { httpsServerOptions, type TlsSettings } from "../../security/tls.js";
import { Deadlines } from "./deadlines.js";
import { httpStatusFor } from "./http-status.js";
import { parseClassifyRegressRequest, writeClassifyResponse, writeRegressResponse } from "./json-examples.js";
import { parsePredictRequest, writePredictResponse } from "./json-predict.js";
import { JsonReader } from "./json-reader.js";
import { cachedRoute, type RestRoute, type VersionSelector } from "./routes.js";

/** What the REST layer needs from the server core. */
export interface RestBackend {
  acquire(model: string, request?: VersionRequest): ServableHandle;
  status(model: string, version?: bigint): VersionStatus[];
}

export interface RestOptions {
  readonly backend: RestBackend;
  /** `--rest_api_timeout_in_ms`: a request running longer is answered DEADLINE_EXCEEDED (504); 0 = none. */
  readonly timeoutMs?: number;
  /** Largest accepted request body, after gzip inflation (default 256 MiB); larger → 413. */
  readonly maxBodyBytes?: number;
  /** `--rest_api_enable_cors_support`. */
  readonly enableCors?: boolean;
  /** `--enable_signature_method_name_check`. */
  readonly methodNameCheck?: boolean;
  /** Authentication and per-model allow-lists (src/security; docs/security.md); absent = open. */
  readonly auth?: Authenticator | undefined;
  /** `--max_concurrent_requests_per_model`: excess inference requests are answered 503 at once. */
  readonly limiter?: ConcurrencyLimiter | undefined;
  /** Metrics endpoint, request ids, access log and trace spans (src/observability); absent = none. */
  readonly observability?: RestObservability | undefined;
}

const DEFAULT_MAX_BODY = 256 * 1024 * 1024;
const JSON_TYPE = "application/json";

/**
 * TF Serving's REST API (`/v1/models/...`) as a node:http request handler: predict (row and columnar),
 * classify, regress, model status and metadata, with TF Serving's errors (`{"error": ...}` and its
 * status-code mapping). No model logic here: it resolves the version through the backend and runs the
 * signature.
 *
 * @example
 * const server = createServer(restHandler({ backend: core, timeoutMs: 30000 }));
 */
export function restHandler(options: RestOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const timeoutMs = options.timeoutMs ?? 0;
  const deadlines =
    timeoutMs > 0
      ? new Deadlines<ServerResponse, RequestScope | undefined>(timeoutMs, (res, scope) => {
          const message = `Request exceeded the REST timeout of ${timeoutMs} ms`;
          sendError(res, new ServingError(Code.DEADLINE_EXCEEDED, message), options, scope);
        })
      : undefined;
  return (req, res) => {
    if (options.observability?.serveMetrics(req, res)) return;
    const scope = options.observability?.begin(req);
    // Inside the request's trace context when traced (a closure per request otherwise saved).
    if (scope?.traced) void scope.enter(() => serveRequest(req, res, options, deadlines, scope));
    else void serveRequest(req, res, options, deadlines, scope);
  };
}

/**
 * One request, start to answer; never rejects (errors are answered here). The predict path is this one
 * async frame on purpose: every extra async function, closure or promise per request costs throughput.
 */
async function serveRequest(
  req: IncomingMessage,
  res: ServerResponse,
  options: RestOptions,
  deadlines: Deadlines<ServerResponse, RequestScope | undefined> | undefined,
  scope: RequestScope | undefined,
): Promise<void> {
  let handle: ServableHandle | undefined;
  let releaseSlot: (() => void) | undefined;
  try {
    const path = req.url ?? "/";
    if (!/^\/v1\//i.test(path)) return sendNotFoundPage(res, path);
    if (req.method === "OPTIONS") {
      // Preflight: answered for any /v1/ path, CORS flag or not (TF Serving's http_server.cc).
      const ok = /^https?:\/\//.test(req.headers.origin ?? "");
      return send(res, ok ? 200 : 400, "", options, scope);
    }
    const route = cachedRoute(req.method ?? "", path);
    if (route.kind === "bad-encoding") return send(res, 400, "", options, scope);
    if (route.kind === "malformed") throw new ServingError(Code.INVALID_ARGUMENT, route.message);
    if (scope) describeRoute(scope, route);
    if (options.auth) {
      // Before the model is looked up: an unauthenticated caller learns nothing about which models exist.
      const resource =
        route.kind === "status"
          ? { kind: "health" as const, model: route.model }
          : { kind: "model" as const, models: [route.model] };
      await authorizeHttp(options.auth, req.headers, res, resource);
    }
    if (route.kind === "status") return send(res, 200, statusJson(route, options.backend), options, scope);

    try {
      handle = options.backend.acquire(route.model, versionRequest(route.selector, req));
    } catch (error: unknown) {
      // TF Serving parses an inference request's JSON before it looks the servable up: a syntax error wins.
      if (route.kind === "inference")
        checkJsonSyntax(await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY));
      throw error;
    }
    if (scope) scope.version = handle.version;
    if (route.kind === "metadata") {
      const json = modelMetadataJson(route.model, handle.version, signatureDefs(handle.servable));
      return send(res, 200, JSON.stringify(json, null, 4), options, scope);
    }
    const body = await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY);
    // The slot is taken once the body is in: a slow upload must not hold one of the model's slots.
    releaseSlot = options.limiter?.enter(route.model);
    // The REST timeout (TF Serving's session-run timeout): a late result is dropped by `send`.
    const deadline = deadlines?.add(res, scope);
    try {
      let answer: string;
      if (route.verb === "predict") {
        const signatures = handle.servable.signatures;
        const request = parsePredictRequest(body, signatureResolver(signatures));
        const signatureName = request.signatureName || DEFAULT_SIGNATURE;
        if (scope) scope.signature = signatureName;
        const runner = signatures.get(signatureName);
        if (!runner) throw new ServingError(Code.INTERNAL, "signature vanished while the request was parsed");
        answer = writePredictResponse(await runner.run(request.inputs), request.format);
      } else {
        answer = await inferExamples(route.verb, route.model, handle, body, options, scope);
      }
      send(res, 200, answer, options, scope);
    } finally {
      if (deadline !== undefined) deadlines?.delete(deadline);
    }
  } catch (error: unknown) {
    sendError(res, ServingError.from(error), options, scope);
  } finally {
    releaseSlot?.();
    handle?.release();
  }
}

/** Finds a signature's definition for the predict parser; one resolver per loaded version, not per request. */
const resolvers = new WeakMap<
  ReadonlyMap<string, SignatureRunner>,
  (name: string | undefined) => SignatureDef
>();

function signatureResolver(
  signatures: ReadonlyMap<string, SignatureRunner>,
): (name: string | undefined) => SignatureDef {
  let resolve = resolvers.get(signatures);
  if (resolve === undefined) {
    resolve = (name) => {
      const runner = signatures.get(name || DEFAULT_SIGNATURE);
      if (!runner) {
        throw new ServingError(
          Code.INVALID_ARGUMENT,
          `Serving signature name: "${name || DEFAULT_SIGNATURE}" not found in signature def`,
        );
      }
      return runner.def;
    };
    resolvers.set(signatures, resolve);
  }
  return resolve;
}

async function inferExamples(
  verb: "classify" | "regress",
  model: string,
  handle: ServableHandle,
  body: Uint8Array,
  options: RestOptions,
  scope?: RequestScope,
): Promise<string> {
  const { signatureName, input } = parseClassifyRegressRequest(body);
  if (scope) scope.signature = signatureName || DEFAULT_SIGNATURE;
  const modelSpec = { name: model, signatureName: signatureName ?? "" };
  const inference = { methodNameCheck: options.methodNameCheck ?? false };
  if (verb === "classify") {
    const request = create(ClassificationRequestSchema, { modelSpec, input });
    const response = await classify(handle.servable, handle.version, request, inference);
    return writeClassifyResponse(response.result ?? create(ClassificationResultSchema));
  }
  const request = create(RegressionRequestSchema, { modelSpec, input });
  const response = await regress(handle.servable, handle.version, request, inference);
  return writeRegressResponse(response.result ?? create(RegressionResultSchema));
}

/** GetModelStatus as TF Serving's REST handler prints it (labels are ignored, as in TF Serving). */
function statusJson(route: Extract<RestRoute, { kind: "status" }>, backend: RestBackend): string {
  const version = route.selector.kind === "version" ? route.selector.version : undefined;
  let versions: VersionStatus[];
  try {
    versions = backend.status(route.model, version);
  } catch (error: unknown) {
    const serving = ServingError.from(error);
    if (serving.code !== Code.NOT_FOUND) throw serving;
    versions = [];
  }
  if (versions.length === 0) {
    throw new ServingError(
      Code.NOT_FOUND,
      version === undefined
        ? `Could not find any versions of model ${route.model}`
        : `Could not find version ${version} of model ${route.model}`,
    );
  }
  const entries = versions.map((v) => ({
    version: String(v.version),
    state: v.state,
    status: { error_code: v.error ? v.error.codeName : "OK", error_message: v.error?.message ?? "" },
  }));
  return JSON.stringify({ model_version_status: entries }, null, 1);
}

/** Throws the parser's INVALID_ARGUMENT when `body` is not one JSON document. */
function checkJsonSyntax(body: Uint8Array): void {
  const reader = new JsonReader(body);
  reader.skipValue();
  reader.finish();
}

/** TF Serving's API names, for metrics and the access log. */
const API_OF_VERB = { predict: "Predict", classify: "Classify", regress: "Regress" } as const;

function describeRoute(scope: RequestScope, route: Extract<RestRoute, { model: string }>): void {
  scope.model = route.model;
  scope.api =
    route.kind === "inference"
      ? API_OF_VERB[route.verb]
      : route.kind === "status"
        ? "GetModelStatus"
        : "GetModelMetadata";
}

function versionRequest(selector: VersionSelector, req: IncomingMessage): VersionRequest {
  if (selector.kind === "version") return { version: selector.version };
  if (selector.kind === "label") return { label: selector.label };
  // A traffic split may pin the request to a version by one of its headers (sticky canary routing).
  return new HeaderVersionRequest(req);
}

/** The latest version, with the request's headers for a traffic split (a class: no closure per request). */
class HeaderVersionRequest implements VersionRequest {
  constructor(private readonly req: IncomingMessage) {}

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  // Plain 'data'/'end' listeners: an async iterator per request costs more than small bodies do.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      if (!/gzip/i.test(rawHeader(req, "content-encoding") ?? "")) return resolve(body);
      try {
        resolve(gunzipSync(body, { maxOutputLength: limit }));
      } catch (error: unknown) {
        if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") reject(tooLarge(limit));
        else reject(new ServingError(Code.INVALID_ARGUMENT, "Failed to decompress the gzip request body"));
      }
    });
  });
}

/** Marks a too-large body; answered 413 rather than a TF status (TF Serving has no body limit below 100 MiB gzip). */
class BodyTooLarge extends ServingError {}
const tooLarge = (limit: number) =>
  new BodyTooLarge(Code.RESOURCE_EXHAUSTED, `Request body exceeds the limit of ${limit} bytes`);

function sendError(
  res: ServerResponse,
  error: ServingError,
  options: RestOptions,
  scope: RequestScope | undefined,
): void {
  if (scope) options.observability?.fail(scope, error.code);
  const status =
    error instanceof BodyTooLarge
      ? 413
      : error instanceof ConcurrencyLimitExceeded
        ? ConcurrencyLimitExceeded.httpStatus
        : httpStatusFor(error.code);
  if (error instanceof ConcurrencyLimitExceeded && !res.headersSent) res.setHeader("Retry-After", "1");
  send(res, status, JSON.stringify({ error: error.message }), options, scope);
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  options: RestOptions,
  scope: RequestScope | undefined,
): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { "Content-Type": JSON_TYPE };
  if (options.enableCors) {
    headers["Access-Control-Allow-Origin"] = "*";
    headers["Access-Control-Allow-Methods"] = "POST, GET";
    headers["Access-Control-Allow-Headers"] = "Content-Type";
  }
  if (scope) options.observability?.respond(scope, status, headers);
  res.writeHead(status, headers).end(body);
}

/** Paths outside /v1/ get the web server's own HTML 404, as TF Serving's libevent server answers. */
function sendNotFoundPage(res: ServerResponse, path: string): void {
  const escaped = path.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  res
    .writeHead(404, { "Content-Type": "text/html" })
    .end(
      `<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL ${escaped} was not found on this server.</p></body></html>\n`,
    );
}

/** Transport settings of the REST server beyond TF Serving's (docs/security.md). */
export interface RestTransportOptions {
  /** `--ssl_config_file` (unless --rest_api_enable_ssl=false): HTTPS, requiring client certificates when client_verify. */
  readonly tls?: TlsSettings | undefined;
  /** `--rest_api_headers_timeout_ms`: a client slower to send its headers gets 408 and the socket closes (default 60 s). */
  readonly headersTimeoutMs?: number | undefined;
  /** `--rest_api_request_timeout_ms`: the same for the whole request, body included (default max(timeoutMs, 300 s)). */
  readonly requestTimeoutMs?: number | undefined;
}

/** How often node checks sockets for those timeouts: a quarter of the shortest, within 0.1..30 s. */
function checkInterval(...timeoutsMs: number[]): number {
  const shortest = Math.min(...timeoutsMs.filter((t) => t > 0), 120_000);
  return Math.min(30_000, Math.max(100, Math.floor(shortest / 4)));
}

/** Starts the REST server on `port` (0 = any free port) and resolves with the bound port. */
export async function startRestServer(
  options: RestOptions & RestTransportOptions & { port: number; host?: string },
): Promise<{ server: Server; port: number }> {
  // Slow clients must not hold sockets forever; large bodies still get time to arrive.
  const requestTimeout = options.requestTimeoutMs ?? Math.max(options.timeoutMs ?? 0, 300_000);
  const headersTimeout = options.headersTimeoutMs ?? 60_000;
  const timeouts = {
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: checkInterval(headersTimeout, requestTimeout),
  };
  const handler = restHandler(options);
  const server: Server = options.tls
    ? createHttpsServer({ ...httpsServerOptions(options.tls), ...timeouts }, handler)
    : createServer(timeouts, handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
