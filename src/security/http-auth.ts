// The REST server's side of authentication: credentials from HTTP headers, and the 401 challenge header.
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { Code, ServingError } from "../errors.js";
import type { Authenticator, Credentials, Resource } from "./auth.js";
import type { Principal } from "./principal.js";

/** `Authorization` and `x-api-key` of a request (the first value of a repeated header). */
export function credentialsFromHeaders(headers: IncomingHttpHeaders): Credentials {
  const apiKey = headers["x-api-key"];
  return { authorization: headers.authorization, apiKey: Array.isArray(apiKey) ? apiKey[0] : apiKey };
}

/**
 * Authorizes an HTTP request for `resource`; on UNAUTHENTICATED it also sets `WWW-Authenticate: Bearer`
 * on `res` (RFC 6750) before rethrowing, so the error answer is a proper 401 challenge.
 *
 * @example
 * await authorizeHttp(auth, req.headers, res, { kind: "model", models: ["half_plus_two"] });
 */
export async function authorizeHttp(
  auth: Authenticator,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
  resource: Resource,
): Promise<Principal | undefined> {
  try {
    return await auth.authorize(credentialsFromHeaders(headers), resource);
  } catch (error: unknown) {
    const serving = ServingError.from(error);
    if (serving.code === Code.UNAUTHENTICATED && !res.headersSent) {
      res.setHeader("WWW-Authenticate", 'Bearer realm="ts-serving"');
    }
    throw serving;
  }
}
