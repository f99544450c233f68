/**
 * S3 plumbing shared by the S3 source and `ts-serving push`: `s3://bucket/prefix` URIs, the client
 * (standard AWS credential chain, custom endpoints for MinIO/moto), listing and object transfer.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Code, invalidArgument, ServingError } from "../errors.js";

/** Where models live in S3: a bucket and a key prefix without leading or trailing `/`. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/** How to reach S3. Everything is optional: the defaults follow the AWS SDK and TF's S3 file system. */
export interface S3Options {
  /** e.g. `http://127.0.0.1:9000`; default: env S3_ENDPOINT (TF's), AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL. */
  readonly endpoint?: string;
  /** Default: env AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 (requests follow region redirects). */
  readonly region?: string;
  /** Path-style URLs (`endpoint/bucket/key`); default: true with a custom endpoint (MinIO, moto). */
  readonly forcePathStyle?: boolean;
}

/** True for an `s3://` URI. */
export const isS3Uri = (uri: string): boolean => /^s3:\/\//i.test(uri);

/**
 * Splits `s3://bucket/some/prefix/` into bucket and prefix; INVALID_ARGUMENT without a bucket.
 *
 * @example
 * parseS3Uri("s3://models/ranking"); // { bucket: "models", prefix: "ranking" }
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (!match?.[1]) throw invalidArgument(`${uri} is not an s3://bucket/prefix URI`);
  const prefix = (match[2] ?? "").replace(/\/+$/, "");
  return { bucket: match[1], prefix };
}

/** The key of `relative` under a location's prefix. */
export const s3Key = (location: S3Location, relative: string): string =>
  location.prefix === "" ? relative : `${location.prefix}/${relative}`;

/**
 * An S3 client: standard credential chain (env, shared config/credentials files, SSO, web identity,
 * container and instance metadata), checksums only where S3 requires them (so that S3-compatible
 * servers that lack the newer checksum headers work).
 *
 * @example
 * const client = createS3Client({ endpoint: "http://127.0.0.1:9000" });
 */
export function createS3Client(options: S3Options = {}): S3Client {
  // The pinned SDK supports Node 20 (our engines field); its warning is about releases from 2027 on,
  // and it would otherwise print on every start. Set the variable to "false" to see it anyway.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const endpoint = resolveS3Endpoint(options);
  const region = options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
  return new S3Client({
    region,
    followRegionRedirects: true,
    // A stalled connection must not hold the poll (and so every model's next poll) forever.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
  });
}

/**
 * The endpoint to use: the option, else TF's S3_ENDPOINT (host[:port]; https unless S3_USE_HTTPS=0),
 * else the SDK's AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; undefined means AWS itself.
 *
 * @example
 * resolveS3Endpoint({}, { S3_ENDPOINT: "minio:9000", S3_USE_HTTPS: "0" }); // "http://minio:9000"
 */
export function resolveS3Endpoint(
  options: S3Options,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  if (options.endpoint) return options.endpoint;
  const tf = env.S3_ENDPOINT;
  if (tf) {
    if (/^https?:\/\//.test(tf)) return tf;
    return `${env.S3_USE_HTTPS === "0" ? "http" : "https"}://${tf}`;
  }
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

/** One object of a listing. */
export interface S3Object {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** Every object under `prefix` (ListObjectsV2, all pages). */
export async function listObjects(client: S3Client, bucket: string, prefix: string): Promise<S3Object[]> {
  const out: S3Object[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      out.push({ key: object.Key, size: object.Size ?? 0, etag: object.ETag ?? "" });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** An object's bytes as text (small objects: manifests). */
export async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const reply = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!reply.Body) throw new ServingError(Code.DATA_LOSS, `s3://${bucket}/${key} has no body`);
  return reply.Body.transformToString("utf8");
}

/** Streams an object into `path`, returning the bytes written and their SHA-256. */
export async function download(
  client: S3Client,
  bucket: string,
  key: string,
  path: string,
): Promise<{ size: number; sha256: string }> {
  const reply = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!(reply.Body instanceof Readable)) {
    throw new ServingError(Code.DATA_LOSS, `s3://${bucket}/${key}: no readable body`);
  }
  const hash = createHash("sha256");
  let size = 0;
  // Hashed on the way to disk: one pass over the bytes.
  await pipeline(
    reply.Body,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        hash.update(chunk);
        yield chunk;
      }
    },
    createWriteStream(path),
  );
  return { size, sha256: hash.digest("hex") };
}

/** Uploads bytes to a key; `ifNoneMatch` makes it fail (PRECONDITION_FAILED) when the key exists. */
export async function putObject(
  client: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  ifNoneMatch = false,
): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(ifNoneMatch ? { IfNoneMatch: "*" } : {}),
    }),
  );
}

/** Uploads a local file (single PUT: up to 5 GiB per file). */
export async function putFile(
  client: S3Client,
  bucket: string,
  key: string,
  path: string,
  size: number,
): Promise<void> {
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: size }),
  );
}

/** UNAVAILABLE (or NOT_FOUND for a missing bucket) from an SDK error, naming the URI. */
export function s3Error(error: unknown, uri: string): ServingError {
  if (error instanceof ServingError) return error;
  const name = (error as { name?: string }).name ?? "";
  const message = error instanceof Error ? error.message : String(error);
  if (name === "NoSuchBucket")
    return new ServingError(Code.NOT_FOUND, `${uri}: no such bucket`, { cause: error });
  return new ServingError(Code.UNAVAILABLE, `${uri}: ${name ? `${name}: ` : ""}${message}`, { cause: error });
}
