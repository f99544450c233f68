// The gRPC server's observability hook, as a grpc-js server interceptor (no change to the handlers):
// reads `x-request-id` metadata and the request's ModelSpec, returns the id in the response metadata
// (or trailers, for an error without a message), and reports the call when its status is sent.
import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import { Code } from "../errors.js";
import { REQUEST_ID_HEADER, type RequestObserver, type RequestScope } from "./request-observer.js";

/** Only TF Serving's services are observed (not health checks or reflection). */
const OBSERVED_PREFIX = "/tensorflow.serving.";

interface ModelSpecLike {
  readonly name?: unknown;
  readonly signatureName?: unknown;
  readonly versionChoice?: { readonly case?: unknown; readonly value?: unknown };
}

/**
 * An interceptor reporting every call of PredictionService and ModelService to `observer`.
 *
 * @example
 * const server = new Server({ interceptors: [grpcObservability(new RequestObserver({ metrics }))] });
 */
export function grpcObservability(observer: RequestObserver): ServerInterceptor {
  return (method, call: ServerInterceptingCallInterface) => {
    if (!method.path.startsWith(OBSERVED_PREFIX)) return new ServerInterceptingCall(call);
    const api = method.path.slice(method.path.lastIndexOf("/") + 1);
    let scope: RequestScope | undefined;
    let metadataSent = false;
    const started = (): RequestScope => {
      if (scope === undefined) {
        scope = observer.begin("GRPC", undefined);
        scope.api = api;
      }
      return scope;
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, next) => {
            scope = observer.begin("GRPC", metadata.get(REQUEST_ID_HEADER)[0]);
            scope.api = api;
            next(metadata);
          },
          onReceiveMessage: (message: unknown, next) => {
            describe(started(), message);
            next(message);
          },
          onReceiveHalfClose: (next) => started().enter(next),
          onCancel: () => {
            const current = started();
            if (current.isEnded) return;
            current.status = "CANCELLED";
            current.end();
          },
        }),
      sendMetadata: (metadata, next) => {
        metadataSent = true;
        metadata.set(REQUEST_ID_HEADER, started().requestId);
        next(metadata);
      },
      sendMessage: (message: unknown, next) => {
        // The response's ModelSpec names the version served and the signature run (default resolved).
        describe(started(), message);
        next(message);
      },
      sendStatus: (status, next) => {
        const current = started();
        current.status = Code[status.code ?? Code.UNKNOWN] ?? "UNKNOWN";
        let sent = status;
        if (!metadataSent) {
          // Trailers-only answer (an error): the id travels in the trailers.
          const trailers = status.metadata ?? new Metadata();
          trailers.set(REQUEST_ID_HEADER, current.requestId);
          sent = { ...status, metadata: trailers };
        }
        next(sent);
        current.end();
      },
    });
  };
}

function specOf(message: unknown): ModelSpecLike | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const spec = (message as { modelSpec?: unknown }).modelSpec;
  return typeof spec === "object" && spec !== null ? (spec as ModelSpecLike) : undefined;
}

/** Model, version and signature from a request's ModelSpec (MultiInference: its first task's). */
function describe(scope: RequestScope, message: unknown): void {
  let spec = specOf(message);
  if (spec === undefined && typeof message === "object" && message !== null) {
    const tasks = (message as { tasks?: unknown }).tasks;
    if (Array.isArray(tasks)) spec = specOf(tasks[0]);
  }
  if (spec === undefined) return;
  if (typeof spec.name === "string" && spec.name !== "") scope.model = spec.name;
  if (typeof spec.signatureName === "string" && spec.signatureName !== "")
    scope.signature = spec.signatureName;
  const choice = spec.versionChoice;
  if (choice?.case === "version" && typeof choice.value === "object" && choice.value !== null) {
    const value = (choice.value as { value?: unknown }).value;
    if (typeof value === "bigint") scope.version = value;
  }
}
