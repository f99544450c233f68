// Authentication (beyond TF Serving, which has none): API keys and/or JWT bearer tokens, presented as
// `Authorization: Bearer <key-or-token>` or `x-api-key: <key>` on REST and as the same gRPC metadata.
// Unknown callers get UNAUTHENTICATED (401); known callers outside a model's allow-list PERMISSION_DENIED (403).
import { Code, ServingError } from "../errors.js";
import type { ApiKeys } from "./api-keys.js";
import { type JwtVerifier, looksLikeJwt } from "./jwt.js";
import { mayUseModel, type Principal } from "./principal.js";

/** What a request presented; values are secrets and must never reach a log or an error message. */
export interface Credentials {
  /** The `authorization` header / metadata value. */
  readonly authorization?: string | undefined;
  /** The `x-api-key` header / metadata value. */
  readonly apiKey?: string | undefined;
}

/**
 * What a request touches, which decides the check: `model` needs the model in the caller's allow-list;
 * `health` (REST model status, grpc.health.v1, metrics) is open when `openHealthAndMetrics`, else it
 * needs a caller allowed `model` when one is named; `service` (e.g. gRPC reflection) needs any caller;
 * `admin` (ReloadConfig) needs a caller allowed every model.
 */
export type Resource =
  | { readonly kind: "model"; readonly models: readonly string[] }
  | { readonly kind: "health"; readonly model?: string }
  | { readonly kind: "service" }
  | { readonly kind: "admin" };

export interface AuthOptions {
  readonly apiKeys?: ApiKeys;
  readonly jwt?: JwtVerifier;
  /** Leave health checks and the metrics endpoint open (`--auth_open_health_and_metrics`). */
  readonly openHealthAndMetrics?: boolean;
}

const MISSING =
  'Missing credentials: send "Authorization: Bearer <token or API key>" or "x-api-key: <API key>"';

/**
 * Checks requests against the configured API keys and JWT verifier.
 *
 * @example
 * const auth = new Authenticator({ apiKeys: await ApiKeys.readFile("keys.txt") });
 * await auth.authorize({ apiKey: req.headers["x-api-key"] }, { kind: "model", models: ["half_plus_two"] });
 */
export class Authenticator {
  constructor(private readonly options: AuthOptions) {
    if (!options.apiKeys && !options.jwt) {
      throw new ServingError(Code.INVALID_ARGUMENT, "authentication needs API keys or a JWKS");
    }
  }

  /** Resolves with the caller (undefined for an open health check); rejects with UNAUTHENTICATED/PERMISSION_DENIED. */
  async authorize(credentials: Credentials, resource: Resource): Promise<Principal | undefined> {
    if (resource.kind === "health" && this.options.openHealthAndMetrics) return undefined;
    const principal = await this.authenticate(credentials);
    const denied = (what: string) =>
      new ServingError(Code.PERMISSION_DENIED, `Caller "${principal.name}" may not use ${what}`);
    switch (resource.kind) {
      case "model":
        for (const model of resource.models) {
          if (!mayUseModel(principal, model)) throw denied(`model "${model}"`);
        }
        break;
      case "health":
        if (resource.model !== undefined && !mayUseModel(principal, resource.model)) {
          throw denied(`model "${resource.model}"`);
        }
        break;
      case "admin":
        if (principal.models !== undefined)
          throw denied("administrative methods (needs access to every model)");
        break;
    }
    return principal;
  }

  /** The caller the credentials prove; UNAUTHENTICATED when they are missing or wrong. */
  async authenticate(credentials: Credentials): Promise<Principal> {
    const { authorization, apiKey } = credentials;
    if (authorization !== undefined && authorization !== "") {
      const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1];
      if (bearer === undefined) {
        throw new ServingError(
          Code.UNAUTHENTICATED,
          'Unsupported Authorization header: expected "Bearer <credential>"',
        );
      }
      return this.bearer(bearer);
    }
    if (apiKey !== undefined && apiKey !== "") return this.apiKey(apiKey);
    throw new ServingError(Code.UNAUTHENTICATED, MISSING);
  }

  private async bearer(credential: string): Promise<Principal> {
    // A JWT-shaped credential is a token when tokens are configured; anything else can only be a key.
    if (this.options.jwt && looksLikeJwt(credential)) return this.options.jwt.verify(credential);
    if (this.options.apiKeys) return this.apiKey(credential);
    throw new ServingError(Code.UNAUTHENTICATED, "Invalid token: malformed");
  }

  private apiKey(key: string): Principal {
    const principal = this.options.apiKeys?.verify(key);
    if (principal === undefined) throw new ServingError(Code.UNAUTHENTICATED, "Invalid API key");
    return principal;
  }
}
