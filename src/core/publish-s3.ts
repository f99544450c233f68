/**
 * `ts-serving push` to `s3://`: S3 has no rename, so the files are uploaded straight under
 * `<prefix>/<version>/` and the version is *published* by writing its `ts-serving-manifest.json`
 * last (a conditional PUT, If-None-Match: *, so that two pushers cannot both publish one version).
 * The S3 source ignores a version without a manifest, and one whose objects do not match it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { Code, ServingError } from "../errors.js";
import type { PublishOptions, PublishResult } from "./publish.js";
import { manifestFor, nextVersion, totalBytes } from "./publish.js";
import { createS3Client, listObjects, parseS3Uri, putFile, putObject, s3Error, s3Key } from "./s3-client.js";
import { MANIFEST_NAME, serializeManifest, type VersionManifest } from "./version-manifest.js";

/** Uploads at once. */
const PARALLEL_UPLOADS = 4;

/**
 * Publishes a version to `s3://bucket/prefix` (see the file header).
 *
 * @example
 * await publishToS3({ dir: "./export", to: "s3://models/ranking" }, await buildManifest("./export", 0n));
 */
export async function publishToS3(
  options: PublishOptions,
  manifest: VersionManifest,
): Promise<PublishResult> {
  const location = parseS3Uri(options.to);
  const client = createS3Client(options.s3);
  try {
    const base = location.prefix === "" ? "" : `${location.prefix}/`;
    const objects = await listObjects(client, location.bucket, base).catch((error: unknown) => {
      throw s3Error(error, options.to);
    });
    const names = new Set(objects.map((o) => o.key.slice(base.length).split("/")[0] ?? ""));
    // Unpublished prefixes (a push in progress) count too: a new push never shares their number.
    const version = options.version ?? nextVersion(names);
    const versionPrefix = s3Key(location, `${version}/`);
    if (objects.some((o) => o.key === `${versionPrefix}${MANIFEST_NAME}`)) {
      throw new ServingError(
        Code.ALREADY_EXISTS,
        `${options.to}/${version} is published already: pick another --version`,
      );
    }
    const final = manifestFor(manifest, version);
    await uploadAll(client, location.bucket, versionPrefix, options.dir, final);
    try {
      await putObject(
        client,
        location.bucket,
        `${versionPrefix}${MANIFEST_NAME}`,
        serializeManifest(final),
        true,
      );
    } catch (error: unknown) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412) {
        throw new ServingError(
          Code.ALREADY_EXISTS,
          `${options.to}/${version} was published by someone else meanwhile`,
        );
      }
      throw s3Error(error, `${options.to}/${version}/${MANIFEST_NAME}`);
    }
    return {
      version,
      location: `${options.to.replace(/\/+$/, "")}/${version}`,
      files: final.files.length,
      bytes: totalBytes(final),
    };
  } finally {
    client.destroy();
  }
}

async function uploadAll(
  client: S3Client,
  bucket: string,
  prefix: string,
  dir: string,
  manifest: VersionManifest,
): Promise<void> {
  const queue = [...manifest.files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const key = `${prefix}${file.path}`;
      try {
        await putFile(client, bucket, key, `${dir}/${file.path}`, file.size);
      } catch (error: unknown) {
        throw s3Error(error, `s3://${bucket}/${key}`);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_UPLOADS }, worker));
}
