// The security and limits flags turned into server options: TLS from --ssl_config_file, authentication,
// the per-model concurrency limit and the REST slow-client limits (docs/security.md).
import type { ServerCredentials, ServerInterceptor } from "@grpc/grpc-js";
import { httpStatusFor } from "../api/tfs-rest/http-status.js";
import type { RestOptions, RestTransportOptions } from "../api/tfs-rest/server.js";
import { ServingError } from "../errors.js";
import type { RestObservability } from "../observability/rest-observability.js";
import { ApiKeys } from "../security/api-keys.js";
import { Authenticator } from "../security/auth.js";
import { securityInterceptor } from "../security/grpc-interceptor.js";
import { authorizeHttp } from "../security/http-auth.js";
import { JwtVerifier } from "../security/jwt.js";
import { ConcurrencyLimiter } from "../security/limits.js";
import { grpcServerCredentials, readSslConfigFile } from "../security/tls.js";
import type { ServerFlags } from "./server-flags.js";

export interface SecurityOptions {
  /** Spread into startRestServer's options. */
  readonly rest: Pick<RestOptions, "auth" | "limiter" | "maxBodyBytes"> & RestTransportOptions;
  /** For startGrpcServer: credentials, and the interceptor to append after the observability one. */
  readonly grpc: { readonly credentials?: ServerCredentials; readonly interceptor?: ServerInterceptor };
  /** One line per active setting, for the startup log (no secrets). */
  readonly summary: readonly string[];
}

/**
 * Reads the files the security flags name (failing the start on any problem) and builds the options.
 *
 * @example
 * const security = await securityOptions(flags);
 * await startRestServer({ backend: core, port: 8501, ...security.rest });
 */
export async function securityOptions(flags: ServerFlags): Promise<SecurityOptions> {
  const summary: string[] = [];
  const sslFile = flags.string("ssl_config_file");
  const tls = sslFile === "" ? undefined : await readSslConfigFile(sslFile);
  if (tls) {
    const mtls = tls.clientVerify ? "mTLS (client certificates required)" : "TLS";
    summary.push(`gRPC: ${mtls}; REST: ${flags.bool("rest_api_enable_ssl") ? mtls : "plain HTTP"}`);
  }

  const keysFile = flags.string("auth_api_keys_file");
  const apiKeys = keysFile === "" ? undefined : await ApiKeys.readFile(keysFile);
  const jwksFile = flags.string("auth_jwks_file");
  const jwt =
    jwksFile === ""
      ? undefined
      : await JwtVerifier.readFile(jwksFile, {
          issuer: flags.string("auth_jwt_issuer"),
          audience: flags.string("auth_jwt_audience"),
          modelsClaim: flags.string("auth_jwt_models_claim"),
          clockToleranceSeconds: flags.int("auth_jwt_clock_tolerance_seconds"),
        });
  const openHealthAndMetrics = flags.bool("auth_open_health_and_metrics");
  const auth =
    apiKeys || jwt
      ? new Authenticator({
          ...(apiKeys ? { apiKeys } : {}),
          ...(jwt ? { jwt } : {}),
          openHealthAndMetrics,
        })
      : undefined;
  if (auth) {
    const kinds = [apiKeys ? `${apiKeys.size} API keys` : "", jwt ? "JWT bearer tokens" : ""].filter(
      (k) => k,
    );
    summary.push(
      `authentication required: ${kinds.join(" and ")}${openHealthAndMetrics ? " (health and metrics open)" : ""}`,
    );
  }

  const perModel = flags.int("max_concurrent_requests_per_model");
  const limiter = perModel > 0 ? new ConcurrencyLimiter(perModel) : undefined;
  if (limiter) summary.push(`at most ${perModel} concurrent inference requests per model`);

  const interceptor = auth || limiter ? securityInterceptor({ auth, limiter }) : undefined;
  return {
    rest: {
      auth,
      limiter,
      tls: flags.bool("rest_api_enable_ssl") ? tls : undefined,
      maxBodyBytes: flags.int("rest_api_max_body_bytes"),
      headersTimeoutMs: flags.int("rest_api_headers_timeout_ms"),
      requestTimeoutMs: flags.int("rest_api_request_timeout_ms"),
    },
    grpc: {
      ...(tls ? { credentials: grpcServerCredentials(tls) } : {}),
      ...(interceptor ? { interceptor } : {}),
    },
    summary,
  };
}

/**
 * The REST observability hook with its metrics endpoint behind `auth` (a `health` resource: open with
 * --auth_open_health_and_metrics). Without auth or a metrics path it is returned unchanged.
 *
 * @example
 * restHandler({ backend, observability: guardMetrics(observability.rest, auth, "/monitoring/prometheus/metrics") });
 */
export function guardMetrics(
  inner: RestObservability,
  auth: Authenticator | undefined,
  metricsPath: string | undefined,
): RestObservability {
  if (auth === undefined || metricsPath === undefined) return inner;
  return {
    ...inner,
    serveMetrics(req, res) {
      const url = req.url ?? "/";
      if (url.split("?")[0] !== metricsPath) return false;
      authorizeHttp(auth, req.headers, res, { kind: "health" }).then(
        () => inner.serveMetrics(req, res),
        (error: unknown) => {
          const serving = ServingError.from(error);
          res
            .writeHead(httpStatusFor(serving.code), { "Content-Type": "application/json" })
            .end(JSON.stringify({ error: serving.message }));
        },
      );
      return true;
    },
  };
}
