// Test support: an ES256 signing key, its JWKS, and tokens with chosen claims (valid, expired, tampered...).
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";

export const ISSUER = "https://issuer.test";
export const AUDIENCE = "ts-serving";

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

export interface TokenIssuer {
  /** The JWKS with the public key (what --auth_jwks_file holds). */
  readonly jwks: JSONWebKeySet;
  /** A signed token: valid by default, `claims` override iss/aud/exp/sub or add claims. */
  token(claims?: JWTPayload): Promise<string>;
  /** The same claims signed by a key that is not in the JWKS but claims its `kid`. */
  forgedToken(claims?: JWTPayload): Promise<string>;
  /** An `alg: none` token. */
  unsignedToken(claims?: JWTPayload): string;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * A key pair and a token factory.
 *
 * @example
 * const issuer = await tokenIssuer();
 * const expired = await issuer.token({ exp: Math.floor(Date.now() / 1000) - 3600 });
 */
export async function tokenIssuer(): Promise<TokenIssuer> {
  const kid = "test-key-1";
  const pair = await generateKeyPair("ES256", { extractable: true });
  const forger = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" };
  const claims = (extra: JWTPayload): JWTPayload => ({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: "svc-test",
    iat: now(),
    exp: now() + 600,
    ...extra,
  });
  const sign = (key: SigningKey, extra: JWTPayload) =>
    new SignJWT(claims(extra)).setProtectedHeader({ alg: "ES256", kid }).sign(key);
  return {
    jwks: { keys: [jwk] },
    token: (extra = {}) => sign(pair.privateKey, extra),
    forgedToken: (extra = {}) => sign(forger.privateKey, extra),
    unsignedToken: (extra = {}) => new UnsecuredJWT(claims(extra)).encode(),
  };
}

/** `token` with its payload replaced by `claims` and the original signature kept. */
export function tamper(token: string, claims: JWTPayload): string {
  const [header, payload, signature] = token.split(".");
  const original = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as JWTPayload;
  const changed = Buffer.from(JSON.stringify({ ...original, ...claims })).toString("base64url");
  return `${header}.${changed}.${signature}`;
}
