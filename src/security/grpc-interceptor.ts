// Authentication, per-model allow-lists and concurrency limits for the gRPC server as one grpc-js server
// interceptor: the request message is checked before it reaches a handler, so a refused call never runs.
import { type Metadata, ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import { ServingError } from "../errors.js";
import type { Authenticator, Credentials, Resource } from "./auth.js";
import type { ConcurrencyLimiter } from "./limits.js";

export interface GrpcSecurity {
  readonly auth?: Authenticator | undefined;
  readonly limiter?: ConcurrencyLimiter | undefined;
}

const PREDICTION_SERVICE = "/tensorflow.serving.PredictionService/";
/** The methods that run a model: they take concurrency slots. */
const INFERENCE_METHODS = new Set(
  ["Predict", "Classify", "Regress", "MultiInference"].map((m) => PREDICTION_SERVICE + m),
);
const CREDENTIAL_KEYS = ["authorization", "x-api-key"] as const;

/**
 * A server interceptor enforcing `security` on every call: credentials from the `authorization` /
 * `x-api-key` metadata (removed before the handler sees the metadata), the models named by the request's
 * `model_spec` (or MultiInference's tasks), and a concurrency slot per model for the inference methods,
 * held until the call's status is sent.
 *
 * @example
 * const server = new Server({ interceptors: [securityInterceptor({ auth, limiter })] });
 */
export function securityInterceptor(security: GrpcSecurity): ServerInterceptor {
  const { auth, limiter } = security;
  return (method, call) => {
    const path = method.path;
    let credentials: Credentials = {};
    let release: (() => void) | undefined;
    const refuse = (error: unknown) => {
      const serving = ServingError.from(error);
      call.sendStatus({ code: serving.code as number, details: serving.message });
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            credentials = takeCredentials(metadata);
            nextMetadata(metadata);
          },
          onReceiveMessage: (message: unknown, nextMessage) => {
            const models = requestedModels(message);
            // Not forwarding the message keeps the handler from running; the refusal ends the call.
            (auth ? auth.authorize(credentials, resourceOf(path, models)) : Promise.resolve(undefined))
              .then(() => {
                if (limiter && INFERENCE_METHODS.has(path)) release = limiter.enterAll(models);
                nextMessage(message);
              })
              .catch(refuse);
          },
          onCancel: () => release?.(),
        }),
      sendStatus: (status, next) => {
        release?.();
        next(status);
      },
    });
  };
}

/** Reads and removes the credential metadata, so nothing downstream can log it. */
function takeCredentials(metadata: Metadata): Credentials {
  const first = (key: string) => {
    const value = metadata.get(key)[0];
    return typeof value === "string" ? value : undefined;
  };
  const credentials = { authorization: first("authorization"), apiKey: first("x-api-key") };
  for (const key of CREDENTIAL_KEYS) metadata.remove(key);
  return credentials;
}

function resourceOf(path: string, models: readonly string[]): Resource {
  if (path.startsWith("/grpc.health.v1.Health/")) return { kind: "health" };
  if (path.startsWith("/grpc.reflection.")) return { kind: "service" };
  if (path === "/tensorflow.serving.ModelService/HandleReloadConfigRequest") return { kind: "admin" };
  return { kind: "model", models };
}

/** The model names a TF Serving request names: `model_spec.name`, or each MultiInference task's. */
function requestedModels(message: unknown): string[] {
  const name = (holder: unknown): string | undefined => {
    const spec = field(holder, "modelSpec");
    const value = field(spec, "name");
    return typeof value === "string" ? value : undefined;
  };
  const direct = name(message);
  if (direct !== undefined) return [direct];
  const tasks = field(message, "tasks");
  if (!Array.isArray(tasks)) return [];
  return tasks.map(name).filter((m): m is string => m !== undefined);
}

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
