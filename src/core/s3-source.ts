/**
 * The S3 source: lists `s3://bucket/prefix/<version>/` with ListObjectsV2 and makes the versions the
 * policy selects available locally, verified, for the file-system source's pipeline (policy,
 * manager, lifecycle). Only *published* versions count: those with a `ts-serving-manifest.json`
 * (written last by `ts-serving push`, see docs/s3.md) whose files are all listed with the sizes
 * it gives. A selected version is downloaded under a hidden staging directory of the cache, each
 * file's SHA-256 checked against the manifest, and renamed into place; a version that fails is
 * skipped (the policy falls back to the next one) until its objects change. Objects not in the
 * manifest are never downloaded. A version already verified is not fetched again while its manifest's
 * ETag stays the same; after a restart the cache is reused once its files verify. Versions no longer
 * selected are removed from the cache one poll after they drop out.
 */
import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { Code, ServingError } from "../errors.js";
import { isDirectory, type SourceModel } from "./fs-source.js";
import {
  createS3Client,
  download,
  getText,
  listObjects,
  parseS3Uri,
  type S3Location,
  type S3Object,
  type S3Options,
  s3Error,
  s3Key,
} from "./s3-client.js";
import {
  cacheDirName,
  type ListedVersion,
  type VersionLister,
  type VersionListing,
} from "./version-lister.js";
import {
  MANIFEST_NAME,
  parseManifest,
  serializeManifest,
  type VersionManifest,
  verifyAgainstManifest,
} from "./version-manifest.js";
import { MAX_VERSION, selectVersions } from "./version-policy.js";

export interface S3VersionListerOptions {
  readonly s3?: S3Options;
  /** Local download cache (one subdirectory per model and base path). */
  readonly cacheDir: string;
  /** Files downloaded at once per version (default 4). */
  readonly parallelDownloads?: number;
}

/** The objects of one version directory in a listing. */
interface RemoteVersion {
  /** The directory name as listed (`7`, or `007`). */
  readonly name: string;
  /** Path relative to the version directory → object. */
  readonly objects: Map<string, S3Object>;
}

interface ModelCache {
  readonly root: string;
  /** Versions verified in the cache: version → ETag of the manifest they were verified against. */
  readonly verified: Map<bigint, string>;
  /** Listing fingerprints of versions that failed verification → why (retried once they change). */
  readonly rejected: Map<string, string>;
  /** Versions returned by the previous listing (kept in the cache one more poll). */
  previous: Set<bigint>;
}

/**
 * Lists and downloads `s3://` base paths (see the file header).
 *
 * @example
 * const lister = new S3VersionLister({ s3: { endpoint: "http://127.0.0.1:9000" }, cacheDir: "/tmp/models" });
 * const listing = await lister.list({ name: "ranking", basePath: "s3://models/ranking", versionPolicy });
 */
export class S3VersionLister implements VersionLister {
  private readonly client: S3Client;
  private readonly caches = new Map<string, ModelCache>();
  private readonly parallel: number;

  constructor(private readonly options: S3VersionListerOptions) {
    this.client = createS3Client(options.s3);
    this.parallel = Math.max(1, options.parallelDownloads ?? 4);
  }

  async list(model: SourceModel): Promise<VersionListing> {
    const uri = model.basePath;
    const location = parseS3Uri(uri);
    const cache = this.cacheFor(model);
    let objects: S3Object[];
    try {
      objects = await listObjects(
        this.client,
        location.bucket,
        location.prefix === "" ? "" : `${location.prefix}/`,
      );
    } catch (error: unknown) {
      throw s3Error(error, uri);
    }
    if (objects.length === 0) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `Could not find base path ${uri} for servable ${model.name}`,
      );
    }
    const remote = groupByVersion(objects, location);
    const warnings: string[] = [];
    const unpublished = [...remote].filter(([, v]) => !v.objects.has(MANIFEST_NAME)).map(([n]) => n);
    if (unpublished.length > 0) {
      warnings.push(
        `${uri}: version(s) ${unpublished.join(", ")} have no ${MANIFEST_NAME} (a push in progress or interrupted): not loaded`,
      );
    }
    // One hash per version per listing (it sorts and hashes every object of the version).
    const prints = new Map([...remote].map(([n, v]) => [n, fingerprint(v)]));
    const current = new Set(prints.values());
    for (const key of cache.rejected.keys()) if (!current.has(key)) cache.rejected.delete(key);
    const candidates = new Set<bigint>();
    for (const [version, v] of remote) {
      const why = cache.rejected.get(prints.get(version)!);
      if (why !== undefined) warnings.push(`${uri} version ${version} is not loaded: ${why}`);
      else if (v.objects.has(MANIFEST_NAME)) candidates.add(version);
    }
    // Make the selected versions ready; one that fails drops out and the policy picks again.
    const ready = new Map<bigint, ListedVersion>();
    for (;;) {
      const next = selectVersions(model.versionPolicy, candidates).find((v) => !ready.has(v));
      if (next === undefined) break;
      const version = remote.get(next)!;
      const problem = await this.ensureLocal(cache, location, next, version);
      if (problem === undefined) {
        ready.set(next, { dir: join(cache.root, String(next)), verified: true });
      } else {
        candidates.delete(next);
        cache.rejected.set(prints.get(next)!, problem);
        warnings.push(`${uri} version ${next} is not loaded: ${problem}`);
      }
    }
    await this.prune(cache, new Set(ready.keys()));
    return { versions: ready, warnings };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private cacheFor(model: SourceModel): ModelCache {
    const root = join(this.options.cacheDir, cacheDirName(model.name, model.basePath));
    let cache = this.caches.get(root);
    if (!cache) {
      cache = { root, verified: new Map(), rejected: new Map(), previous: new Set() };
      this.caches.set(root, cache);
    }
    return cache;
  }

  /** Downloads and verifies a version unless the cache holds it already; returns why it failed. */
  private async ensureLocal(
    cache: ModelCache,
    location: S3Location,
    version: bigint,
    remote: RemoteVersion,
  ): Promise<string | undefined> {
    const manifestObject = remote.objects.get(MANIFEST_NAME)!;
    if (cache.verified.get(version) === manifestObject.etag) return undefined;
    const prefix = s3Key(location, `${remote.name}/`);
    const manifestKey = `${prefix}${MANIFEST_NAME}`;
    let text: string;
    try {
      text = await getText(this.client, location.bucket, manifestKey);
    } catch (error: unknown) {
      throw s3Error(error, `s3://${location.bucket}/${manifestKey}`);
    }
    let manifest: VersionManifest;
    try {
      manifest = parseManifest(text, `s3://${location.bucket}/${manifestKey}`);
    } catch (error: unknown) {
      return ServingError.from(error).message;
    }
    for (const file of manifest.files) {
      const object = remote.objects.get(file.path);
      if (!object) return `${file.path} is in the manifest but not in the bucket`;
      if (object.size !== file.size)
        return `${file.path} has ${object.size} bytes, the manifest says ${file.size}`;
    }
    const dir = join(cache.root, String(version));
    // After a restart: reuse what an earlier run downloaded, once it verifies.
    if (!cache.verified.has(version) && (await isDirectory(dir))) {
      if ((await verifyAgainstManifest(dir, manifest)) === undefined) {
        cache.verified.set(version, manifestObject.etag);
        return undefined;
      }
    }
    const staging = join(cache.root, `.${version}.download-${randomBytes(4).toString("hex")}`);
    try {
      await fs.mkdir(staging, { recursive: true });
      const problem = await this.downloadFiles(location, prefix, manifest, staging);
      if (problem !== undefined) return problem;
      await fs.writeFile(join(staging, MANIFEST_NAME), serializeManifest(manifest));
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(staging, dir);
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    cache.verified.set(version, manifestObject.etag);
    return undefined;
  }

  /** Fetches every manifest file into `staging`, `parallel` at a time; returns the first mismatch. */
  private async downloadFiles(
    location: S3Location,
    prefix: string,
    manifest: VersionManifest,
    staging: string,
  ): Promise<string | undefined> {
    const queue = [...manifest.files];
    let problem: string | undefined;
    const worker = async (): Promise<void> => {
      for (let file = queue.shift(); file && problem === undefined; file = queue.shift()) {
        const path = join(staging, ...file.path.split("/"));
        await fs.mkdir(dirname(path), { recursive: true });
        const key = `${prefix}${file.path}`;
        let got: { size: number; sha256: string };
        try {
          got = await download(this.client, location.bucket, key, path);
        } catch (error: unknown) {
          throw s3Error(error, `s3://${location.bucket}/${key}`);
        }
        if (got.size !== file.size)
          problem ??= `${file.path}: downloaded ${got.size} bytes, the manifest says ${file.size}`;
        else if (got.sha256 !== file.sha256)
          problem ??= `${file.path} does not match its sha256 in the manifest`;
      }
    };
    await Promise.all(Array.from({ length: this.parallel }, worker));
    return problem;
  }

  /** Removes cached versions that were neither ready in this listing nor in the previous one. */
  private async prune(cache: ModelCache, ready: Set<bigint>): Promise<void> {
    const keep = new Set([...ready, ...cache.previous]);
    cache.previous = ready;
    let names: string[];
    try {
      names = await fs.readdir(cache.root);
    } catch {
      return;
    }
    for (const name of names) {
      const stale = /^\d+$/.test(name) ? !keep.has(BigInt(name)) : /^\.\d+\.download-/.test(name);
      if (!stale) continue;
      if (/^\d+$/.test(name)) cache.verified.delete(BigInt(name));
      await fs.rm(join(cache.root, name), { recursive: true, force: true });
    }
  }
}

/** Objects under `<prefix>/<version>/`, by version (of `1/` and `001/`, the first name sorted wins). */
function groupByVersion(objects: readonly S3Object[], location: S3Location): Map<bigint, RemoteVersion> {
  const strip = location.prefix === "" ? 0 : location.prefix.length + 1;
  const found = new Map<bigint, RemoteVersion>();
  for (const object of [...objects].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const match = /^(\d+)\/(.+)$/.exec(object.key.slice(strip));
    if (!match || object.key.endsWith("/")) continue;
    const [, name, relative] = match as unknown as [string, string, string];
    const version = BigInt(name);
    if (version > MAX_VERSION) continue;
    const entry = found.get(version) ?? { name, objects: new Map() };
    if (entry.name !== name) continue;
    entry.objects.set(relative, object);
    found.set(version, entry);
  }
  return found;
}

/** A version's listing as one hash: any uploaded, replaced or deleted object changes it. */
function fingerprint(remote: RemoteVersion): string {
  const hash = createHash("sha256").update(`${remote.name}\n`);
  for (const [path, object] of [...remote.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    hash.update(`${path}\0${object.size}\0${object.etag}\n`);
  }
  return hash.digest("hex");
}
