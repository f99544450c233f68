// TLS from TF Serving's --ssl_config_file (a text SSLConfig): gRPC server credentials exactly as
// TF Serving's server.cc builds them, and the same key, certificate and client verification for the
// REST port (TF Serving's REST is plain HTTP; ts-serving can serve it over HTTPS too).
import { readFile } from "node:fs/promises";
import type { ServerOptions as HttpsServerOptions } from "node:https";
import { dirname, resolve } from "node:path";
import { createSecureContext } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import { Code, invalidArgument, ServingError } from "../errors.js";
import { SSLConfigSchema } from "../proto/gen/tensorflow_serving/config/ssl_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";

/** The PEM material of an SSLConfig, checked to form a usable TLS context. */
export interface TlsSettings {
  /** PEM private key of the server. */
  readonly key: string;
  /** PEM certificate chain of the server. */
  readonly cert: string;
  /** PEM root certificates that verify client certificates; undefined = the system roots. */
  readonly ca: string | undefined;
  /** Require and verify a client certificate (mTLS), as TF Serving's `client_verify`. */
  readonly clientVerify: boolean;
}

const PEM = "-----BEGIN ";

/**
 * Reads `--ssl_config_file`. As in TF Serving, `server_key`, `server_cert` and `custom_ca` hold PEM
 * *contents*; as an extension, a value that contains no PEM block is read as a file path (relative
 * to the config file). Throws INVALID_ARGUMENT naming the file and field, never the key material.
 *
 * @example
 * const tls = await readSslConfigFile("/etc/serving/ssl.pbtxt");
 * server.bindAsync("0.0.0.0:8500", grpcServerCredentials(tls), cb);
 */
export async function readSslConfigFile(path: string): Promise<TlsSettings> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error: unknown) {
    throw new ServingError(Code.INVALID_ARGUMENT, `--ssl_config_file ${path}: cannot be read`, {
      cause: error,
    });
  }
  return parseSslConfig(text, path);
}

/** Parses an SSLConfig text proto (`source` is its file path: relative PEM paths resolve beside it). */
export async function parseSslConfig(text: string, source: string): Promise<TlsSettings> {
  let config: ReturnType<typeof parseTextProto<typeof SSLConfigSchema>>;
  try {
    config = parseTextProto(SSLConfigSchema, text, source);
  } catch {
    // The parser quotes the text it stopped at, which may be key material: say only where the problem is.
    throw invalidArgument(`--ssl_config_file ${source}: not a valid text tensorflow.serving.SSLConfig`);
  }
  const pem = async (field: string, value: string): Promise<string> => {
    if (value === "" || value.includes(PEM)) return value;
    const file = resolve(dirname(source), value);
    try {
      return await readFile(file, "utf8");
    } catch {
      throw invalidArgument(
        `--ssl_config_file ${source}: ${field} is neither PEM contents nor a readable file`,
      );
    }
  };
  const key = await pem("server_key", config.serverKey);
  const cert = await pem("server_cert", config.serverCert);
  const ca = await pem("custom_ca", config.customCa);
  if (key === "" || cert === "") {
    throw invalidArgument(`--ssl_config_file ${source}: server_key and server_cert are both required`);
  }
  const settings: TlsSettings = {
    key,
    cert,
    ca: ca === "" ? undefined : ca,
    clientVerify: config.clientVerify,
  };
  checkTlsSettings(settings, source);
  return settings;
}

/** Fails at startup (not at the first handshake) on unreadable PEM or a key that does not match the certificate. */
function checkTlsSettings(settings: TlsSettings, source: string): void {
  try {
    createSecureContext({ key: settings.key, cert: settings.cert });
  } catch (error: unknown) {
    const reason = (error as NodeJS.ErrnoException).code ?? "invalid PEM";
    throw invalidArgument(`--ssl_config_file ${source}: server_key/server_cert unusable (${reason})`);
  }
  if (settings.ca === undefined) return;
  try {
    createSecureContext({ ca: settings.ca });
  } catch (error: unknown) {
    const reason = (error as NodeJS.ErrnoException).code ?? "invalid PEM";
    throw invalidArgument(`--ssl_config_file ${source}: custom_ca unusable (${reason})`);
  }
}

/**
 * gRPC server credentials as TF Serving's BuildServerCredentialsFromSSLConfigFile: one key/cert pair,
 * `custom_ca` as the client roots when set, client certificates required and verified iff `client_verify`.
 *
 * @example
 * server.bindAsync(address, grpcServerCredentials(tls), callback);
 */
export function grpcServerCredentials(settings: TlsSettings): ServerCredentials {
  return ServerCredentials.createSsl(
    settings.ca === undefined ? null : Buffer.from(settings.ca),
    [{ private_key: Buffer.from(settings.key), cert_chain: Buffer.from(settings.cert) }],
    settings.clientVerify,
  );
}

/**
 * node:https server options with the same semantics as the gRPC credentials: with `clientVerify` a
 * client without a certificate signed by `ca` fails the handshake.
 *
 * @example
 * const server = https.createServer(httpsServerOptions(tls), handler);
 */
export function httpsServerOptions(settings: TlsSettings): HttpsServerOptions {
  return {
    key: settings.key,
    cert: settings.cert,
    ...(settings.ca === undefined ? {} : { ca: settings.ca }),
    requestCert: settings.clientVerify,
    rejectUnauthorized: settings.clientVerify,
  };
}
