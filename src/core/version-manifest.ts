/**
 * The publish manifest, `<base_path>/<version>/ts-serving-manifest.json`: the list of a version's
 * files with their size and SHA-256, written LAST by `ts-serving push`. Its presence says "this
 * version is complete"; its checksums let a source verify what it is about to load (see docs/s3.md).
 */
import { createHash } from "node:crypto";
import { createReadStream, type Dirent, promises as fs } from "node:fs";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { Code, ServingError } from "../errors.js";

/** The manifest's file name inside a version directory. */
export const MANIFEST_NAME = "ts-serving-manifest.json";

/** Format marker: readers reject manifests of another format. */
export const MANIFEST_FORMAT = "ts-serving-manifest/v1";

/** One file of a version: its path relative to the version directory (`/`-separated). */
export interface ManifestFile {
  readonly path: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the contents. */
  readonly sha256: string;
}

export interface VersionManifest {
  readonly format: typeof MANIFEST_FORMAT;
  /** The version number, as a decimal string. */
  readonly version: string;
  readonly createdAt: string;
  /** Sorted by path; the manifest itself is not listed. */
  readonly files: readonly ManifestFile[];
}

/**
 * Hashes every file under `dir` (the manifest itself and hidden top-level entries excluded) into a
 * manifest for `version`. Symbolic links are followed; other special files are an error.
 *
 * @example
 * const manifest = await buildManifest("./export/1", 7n);
 */
export async function buildManifest(dir: string, version: bigint): Promise<VersionManifest> {
  const paths = await listFiles(dir);
  const files: ManifestFile[] = [];
  for (const path of paths) {
    const { size, sha256 } = await hashFile(join(dir, ...path.split("/")));
    files.push({ path, size, sha256 });
  }
  return { format: MANIFEST_FORMAT, version: String(version), createdAt: new Date().toISOString(), files };
}

/** The manifest as written to storage: pretty JSON, one trailing newline. */
export function serializeManifest(manifest: VersionManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Parses and validates a manifest: the format marker, and file paths that stay inside the version
 * directory (relative, no `..`, no empty segment, no backslash), each listed once. A bad manifest
 * is DATA_LOSS naming `where`.
 *
 * @example
 * const manifest = parseManifest(await readFile(path, "utf8"), path);
 */
export function parseManifest(text: string, where: string): VersionManifest {
  const bad = (why: string) => new ServingError(Code.DATA_LOSS, `${where}: invalid manifest: ${why}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error: unknown) {
    throw bad(error instanceof Error ? error.message : String(error));
  }
  if (typeof raw !== "object" || raw === null) throw bad("not a JSON object");
  const record = raw as Record<string, unknown>;
  if (record.format !== MANIFEST_FORMAT) throw bad(`format is not ${MANIFEST_FORMAT}`);
  if (typeof record.version !== "string" || !/^\d+$/.test(record.version)) throw bad("version");
  if (!Array.isArray(record.files)) throw bad("files is not a list");
  const seen = new Set<string>();
  const files = record.files.map((entry: unknown, i): ManifestFile => {
    const file = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const { path, size, sha256 } = file;
    if (typeof path !== "string" || !safeRelativePath(path) || path === MANIFEST_NAME) {
      throw bad(`files[${i}].path ${JSON.stringify(path)}`);
    }
    if (seen.has(path)) throw bad(`${path} listed twice`);
    seen.add(path);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw bad(`${path}: size`);
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) throw bad(`${path}: sha256`);
    return { path, size, sha256 };
  });
  return {
    format: MANIFEST_FORMAT,
    version: record.version,
    createdAt: typeof record.createdAt === "string" ? record.createdAt : "",
    files,
  };
}

/**
 * Checks a local version directory against its manifest: every listed file exists with the listed
 * size and SHA-256. Files not listed are ignored. Returns the first mismatch, or undefined.
 *
 * @example
 * const problem = await verifyAgainstManifest("/models/ranking/3", manifest);
 */
export async function verifyAgainstManifest(
  dir: string,
  manifest: VersionManifest,
): Promise<string | undefined> {
  for (const file of manifest.files) {
    const path = join(dir, ...file.path.split("/"));
    let stats: { size: number };
    try {
      stats = await fs.stat(path);
    } catch {
      return `${file.path} is missing`;
    }
    if (stats.size !== file.size)
      return `${file.path} has ${stats.size} bytes, the manifest says ${file.size}`;
    const { sha256 } = await hashFile(path);
    if (sha256 !== file.sha256) return `${file.path} does not match its sha256 in the manifest`;
  }
  return undefined;
}

/** Reads and verifies `<dir>/ts-serving-manifest.json`; undefined when the directory has none. */
export async function checkManifestDir(dir: string): Promise<{ problem?: string } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(join(dir, MANIFEST_NAME), "utf8");
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { problem: `${MANIFEST_NAME} is unreadable: ${(error as Error).message}` };
  }
  try {
    const problem = await verifyAgainstManifest(dir, parseManifest(text, join(dir, MANIFEST_NAME)));
    return problem === undefined ? {} : { problem };
  } catch (error: unknown) {
    return { problem: ServingError.from(error).message };
  }
}

/** Size and SHA-256 (hex) of a file, streamed. */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(createReadStream(path), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      size += chunk.length;
      hash.update(chunk);
    }
  });
  return { size, sha256: hash.digest("hex") };
}

/** True for a `/`-separated relative path that cannot leave its directory. */
export function safeRelativePath(path: string): boolean {
  if (path === "" || path.includes("\\") || path.includes("\0") || path.startsWith("/")) return false;
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

/** Every file under `dir`, as sorted `/`-separated relative paths (hidden top-level entries skipped). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (path: string, prefix: string): Promise<void> => {
    const entries: Dirent[] = await fs.readdir(path, { withFileTypes: true });
    for (const entry of entries) {
      if (prefix === "" && (entry.name.startsWith(".") || entry.name === MANIFEST_NAME)) continue;
      const full = join(path, entry.name);
      const stats = await fs.stat(full);
      const relative = prefix === "" ? entry.name : posix.join(prefix, entry.name);
      if (stats.isDirectory()) await walk(full, relative);
      else if (stats.isFile()) out.push(relative);
      else throw new ServingError(Code.INVALID_ARGUMENT, `${full} is not a regular file or directory`);
    }
  };
  await walk(dir, "");
  return out.sort();
}
