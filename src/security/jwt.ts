// JWT bearer tokens verified with jose against a local JWKS file: signature, `iss`, `aud`, `exp` (required)
// and `nbf`. Error messages say which check failed, never the token or its claims' values.
import { readFile } from "node:fs/promises";
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { Code, invalidArgument, ServingError } from "../errors.js";
import type { Principal } from "./principal.js";

export interface JwtOptions {
  /** Expected `iss`. */
  readonly issuer: string;
  /** Expected `aud` (the token's `aud` must contain it). */
  readonly audience: string;
  /** Claim listing the models the token may use (array or space/comma-separated string); absent = all. */
  readonly modelsClaim?: string;
  /** Leeway for `exp`/`nbf`, in seconds (default 30). */
  readonly clockToleranceSeconds?: number;
}

/**
 * Verifies JWTs against the public keys of a JWKS (`--auth_jwks_file`).
 *
 * @example
 * const jwt = await JwtVerifier.readFile("jwks.json", { issuer: "https://id.example", audience: "ts-serving" });
 * const caller = await jwt.verify(token); // { name: <sub>, models: <models claim> }
 */
export class JwtVerifier {
  private readonly keys: ReturnType<typeof createLocalJWKSet>;

  constructor(
    jwks: JSONWebKeySet,
    private readonly options: JwtOptions,
  ) {
    this.keys = createLocalJWKSet(jwks);
  }

  static async readFile(path: string, options: JwtOptions): Promise<JwtVerifier> {
    let jwks: unknown;
    try {
      jwks = JSON.parse(await readFile(path, "utf8"));
    } catch (error: unknown) {
      throw new ServingError(Code.INVALID_ARGUMENT, `--auth_jwks_file ${path}: cannot be read as JSON`, {
        cause: error,
      });
    }
    if (!isJwks(jwks)) throw invalidArgument(`--auth_jwks_file ${path}: expected a JWKS ({"keys": [...]})`);
    try {
      return new JwtVerifier(jwks, options);
    } catch {
      throw invalidArgument(`--auth_jwks_file ${path}: not a usable JWKS`);
    }
  }

  /** The caller a valid token names; UNAUTHENTICATED saying which check failed otherwise. */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds ?? 30,
        requiredClaims: ["exp"],
      }));
    } catch (error: unknown) {
      throw new ServingError(Code.UNAUTHENTICATED, `Invalid token: ${failedCheck(error)}`);
    }
    return { name: typeof payload.sub === "string" ? payload.sub : "jwt", models: this.models(payload) };
  }

  private models(payload: JWTPayload): ReadonlySet<string> | undefined {
    const value = payload[this.options.modelsClaim ?? "models"];
    if (value === undefined) return undefined;
    const list =
      typeof value === "string"
        ? value.split(/[\s,]+/)
        : Array.isArray(value) && value.every((m) => typeof m === "string")
          ? (value as string[])
          : undefined;
    if (list === undefined) {
      throw new ServingError(
        Code.UNAUTHENTICATED,
        `Invalid token: claim "${this.options.modelsClaim ?? "models"}" is not a list of model names`,
      );
    }
    const models = list.filter((m) => m !== "");
    return models.includes("*") ? undefined : new Set(models);
  }
}

/** Which check a jose error reports, in words (no token contents). */
function failedCheck(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong issuer";
    if (error.claim === "aud") return "wrong audience";
    if (error.claim === "nbf") return "not yet valid";
    return `claim "${error.claim}" check failed`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature verification failed";
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches";
  if (error instanceof errors.JOSEAlgNotAllowed) return "algorithm not allowed";
  return "malformed";
}

function isJwks(value: unknown): value is JSONWebKeySet {
  return typeof value === "object" && value !== null && Array.isArray((value as { keys?: unknown }).keys);
}

/** Whether a bearer credential has the shape of a JWS compact serialization (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}
