/**
 * Publishing a model version into a repository so that no server ever sees it half-written
 * (`ts-serving push`; the protocol is in docs/s3.md). Local base paths: the version is assembled
 * in a hidden staging directory beside it, with its manifest, and renamed into place in one step.
 * `s3://` base paths: see publish-s3.ts (files first, the manifest last as the commit point).
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { Code, ServingError } from "../errors.js";
import { modelDirComplete } from "../savedmodel/completeness.js";
import { inspectModelDir } from "../savedmodel/model-dir.js";
import type { S3Options } from "./s3-client.js";
import { buildManifest, MANIFEST_NAME, serializeManifest, type VersionManifest } from "./version-manifest.js";
import { MAX_VERSION } from "./version-policy.js";

export interface PublishOptions {
  /** The version directory to publish (saved_model.pb + variables/..., or model.onnx). */
  readonly dir: string;
  /** The model's base path: an absolute local path or `s3://bucket/prefix`. */
  readonly to: string;
  /** Version number; default: the highest version found under `to` (published or not) + 1, or 1. */
  readonly version?: bigint;
  readonly s3?: S3Options;
}

export interface PublishResult {
  readonly version: bigint;
  /** Where the version now lives (`<to>/<version>`). */
  readonly location: string;
  readonly files: number;
  readonly bytes: number;
}

/**
 * Publishes `dir` as a new version of the model at `to`. Refuses a directory that is not a whole
 * model (INVALID_ARGUMENT) and a version that exists already (ALREADY_EXISTS).
 *
 * @example
 * const { version } = await publishVersion({ dir: "./export", to: "s3://models/ranking" });
 */
export async function publishVersion(options: PublishOptions): Promise<PublishResult> {
  await checkModelDir(options.dir);
  if (options.version !== undefined && (options.version < 0n || options.version > MAX_VERSION)) {
    throw new ServingError(Code.INVALID_ARGUMENT, `--version ${options.version} is not an int64 >= 0`);
  }
  // Hashed before any upload: the manifest describes exactly the bytes that get copied.
  const manifest = await buildManifest(options.dir, options.version ?? 0n);
  if (/^s3:\/\//i.test(options.to)) {
    const { publishToS3 } = await import("./publish-s3.js");
    return publishToS3(options, manifest);
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(options.to)) {
    throw new ServingError(Code.UNIMPLEMENTED, `${options.to}: only local paths and s3:// are supported`);
  }
  return publishToFileSystem(options, manifest);
}

/** The manifest for the version finally chosen, and the totals a result reports. */
export function manifestFor(manifest: VersionManifest, version: bigint): VersionManifest {
  return { ...manifest, version: String(version) };
}

export const totalBytes = (manifest: VersionManifest): number =>
  manifest.files.reduce((sum, f) => sum + f.size, 0);

/** The version after the highest numeric name among `names`; 1 for an empty repository. */
export function nextVersion(names: Iterable<string>): bigint {
  let highest = 0n;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const version = BigInt(name);
    if (version <= MAX_VERSION && version > highest) highest = version;
  }
  return highest + 1n;
}

async function checkModelDir(dir: string): Promise<void> {
  await inspectModelDir(dir);
  const { complete, reason } = await modelDirComplete(dir);
  if (!complete) throw new ServingError(Code.INVALID_ARGUMENT, `${dir} is not a complete model: ${reason}`);
}

async function publishToFileSystem(
  options: PublishOptions,
  manifest: VersionManifest,
): Promise<PublishResult> {
  const base = options.to;
  await fs.mkdir(base, { recursive: true });
  // Without --version a concurrent push may take the number first: then try the next one.
  for (let attempt = 0; ; attempt++) {
    const version = options.version ?? nextVersion(await fs.readdir(base));
    const target = join(base, String(version));
    const staging = join(base, `.${version}.push-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      if (await exists(target)) throw alreadyExists(target);
      const final = manifestFor(manifest, version);
      for (const file of final.files) {
        const to = join(staging, ...file.path.split("/"));
        await fs.mkdir(dirname(to), { recursive: true });
        await fs.copyFile(join(options.dir, ...file.path.split("/")), to);
      }
      await fs.writeFile(join(staging, MANIFEST_NAME), serializeManifest(final));
      await renameNoReplace(staging, target);
      return { version, location: target, files: final.files.length, bytes: totalBytes(final) };
    } catch (error: unknown) {
      const taken = error instanceof ServingError && error.code === Code.ALREADY_EXISTS;
      if (!taken || options.version !== undefined || attempt >= 4) throw error;
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }
}

/** rename(2) replaces an empty directory: refuse a target that appeared meanwhile, whatever it holds. */
async function renameNoReplace(from: string, to: string): Promise<void> {
  if (await exists(to)) throw alreadyExists(to);
  try {
    await fs.rename(from, to);
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") throw alreadyExists(to);
    throw error;
  }
}

const alreadyExists = (path: string): ServingError =>
  new ServingError(Code.ALREADY_EXISTS, `${path} already exists: pick another --version`);

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}
