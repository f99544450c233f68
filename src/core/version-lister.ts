/**
 * Model repositories the file-system source cannot list itself (`s3://`): a lister turns such a base
 * path into local version directories, verified, which then go through the same version policy,
 * manager and lifecycle as local ones.
 */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ServingError } from "../errors.js";
import type { SourceModel } from "./fs-source.js";
import type { S3Options } from "./s3-client.js";

/** A version a lister made available locally. */
export interface ListedVersion {
  readonly dir: string;
  /** Checked complete by the lister (e.g. against its manifest): picked up without stability polls. */
  readonly verified?: boolean;
}

/** What one listing of a remote base path found. */
export interface VersionListing {
  /** Version → local directory: only versions the model's policy selects and that are ready. */
  readonly versions: ReadonlyMap<bigint, ListedVersion>;
  /** Versions skipped and why (unpublished, failed verification), for the source's warning events. */
  readonly warnings: readonly string[];
}

/**
 * Lists remote base paths. `list` returns undefined for a base path it does not handle (a local
 * path), which the file-system source then lists itself. Throws for a missing base path or an
 * unreachable store (the source reports it; the previous versions stay served).
 *
 * @example
 * const source = new FileSystemSource({ onAspiredVersions, lister: remoteLister({ s3: { endpoint } }) });
 */
export interface VersionLister {
  list(model: SourceModel): Promise<VersionListing | undefined>;
  /** Releases clients (called when the source stops). */
  close(): Promise<void>;
}

/** Options for remote model repositories. */
export interface RemoteRepositoryOptions {
  readonly s3?: S3Options;
  /** Where remote versions are downloaded (default `<os tmpdir>/ts-serving-model-cache`). */
  readonly cacheDir?: string;
}

/** The default download cache. */
export const defaultModelCacheDir = (): string => join(tmpdir(), "ts-serving-model-cache");

/**
 * The lister for every remote scheme ts-serving knows (`s3://`). The S3 code and the AWS SDK are
 * loaded on the first `s3://` base path only, so local-only servers start as fast as before.
 *
 * @example
 * const lister = remoteLister({ s3: { endpoint: "http://127.0.0.1:9000" }, cacheDir: "/var/cache/models" });
 */
export function remoteLister(options: RemoteRepositoryOptions = {}): VersionLister {
  let s3: Promise<VersionLister> | undefined;
  const cacheDir = options.cacheDir || defaultModelCacheDir();
  return {
    async list(model) {
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(model.basePath)?.[1]?.toLowerCase();
      if (scheme === undefined || scheme === "file") return undefined;
      if (scheme !== "s3") {
        // TF's message for a file system it was built without.
        throw new ServingError(
          Code.UNIMPLEMENTED,
          `File system scheme '${scheme}' not implemented (file: '${model.basePath}')`,
        );
      }
      s3 ??= import("./s3-source.js").then(
        ({ S3VersionLister }) => new S3VersionLister({ ...options, cacheDir }),
      );
      return (await s3).list(model);
    },
    async close() {
      if (s3) await (await s3).close();
    },
  };
}

/** A directory name for a model's cache: readable, unique per (model, base path). */
export function cacheDirName(model: string, basePath: string): string {
  const hash = createHash("sha256").update(`${model}\0${basePath}`).digest("hex").slice(0, 12);
  return `${model.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64)}-${hash}`;
}
