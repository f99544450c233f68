/**
 * The file-system source: polls each model's base path for numeric version directories and tells
 * the manager which versions to serve (its "aspired versions"), as TF Serving's
 * FileSystemStoragePathSource does: `<base_path>/<int64 version>/`, leading zeros allowed, other
 * names ignored; the version policy picks among the versions found; a version that disappears or
 * drops out of the policy stops being aspired (the manager then unloads it); a missing base path is
 * an error for that model (`Could not find base path <p> for servable <n>`) that changes nothing,
 * and the next poll tries again.
 *
 * ## Safe pickup (beyond TF Serving)
 *
 * TF Serving aspires a version the moment its directory exists, so copying a large model into the
 * base path (`cp -r`, `gsutil cp`, `rsync`) races the copy: the load fails or, worse, sees half a
 * variables file. Here a *new* version directory is aspired only once it is **complete** and **stable**:
 *
 * - complete: its top level holds a model file — `saved_model.pb`, `saved_model.pbtxt`,
 *   `model.onnx` or another `*.onnx` — whose name does not start with `.`, and a `variables/`
 *   directory, if any, holds `variables.index` and every `variables.data-NNNNN-of-MMMMM` shard its
 *   names announce (a copy that wrote saved_model.pb first is not complete yet);
 * - stable: its recursive listing (every entry's relative path, type, size and mtime, hidden
 *   entries included, so an `rsync` temp file that grows or gets renamed counts as a change) is
 *   identical in `stabilityPolls + 1` consecutive polls (default `stabilityPolls` 1: one extra poll,
 *   i.e. about `--file_system_poll_wait_seconds` of quiet; 0 = aspire a complete directory at once).
 *
 * A directory that stays incomplete but stable for `incompletePolls` polls (default 30) is aspired
 * anyway, so that an empty directory or a foreign format (a legacy SessionBundle, a .tflite file)
 * ends as a failed load with a message instead of being ignored in silence. Version directories
 * whose names start with `.` (e.g. writeSavedModel's `.1.partial-*` staging directory) never count:
 * a writer that assembles a version under a hidden name and renames it into place is picked up
 * whole, in one poll (after the stability polls).
 *
 * Only versions the policy could select are examined (for `latest N`, the N highest present), and a
 * version, once picked up, is not re-examined while its directory exists. While a higher version is
 * pending, the policy selects among the picked-up ones, so `latest 1` keeps serving the current
 * version until the new one is ready, and while *no* version is ready but some are pending (the only
 * version was deleted as its successor is being copied, or the base path changed) the previous
 * aspired versions stand. Pending versions are visible in `status(model).pending`.
 * A version directory holding a `ts-serving-manifest.json` (written by `ts-serving push`, see
 * docs/s3.md) is judged by it instead: aspired as soon as every file it lists has its size and
 * SHA-256, and never while one does not (pending as `unverified`). Remote base paths (`s3://`) are
 * listed by the `lister` option, which hands over local, verified copies.
 *
 * Limits: a copy that stalls for longer than the stability window with a model file already in
 * place is picked up early (its load then fails and is retried as configured); files changed inside
 * a version after pickup are not noticed (as in TF Serving).
 */
import { type Dirent, promises as fs, type Stats } from "node:fs";
import { join } from "node:path";
import { Code, ServingError } from "../errors.js";
import { modelDirComplete } from "../savedmodel/completeness.js";
import type { VersionLister } from "./version-lister.js";
import { checkManifestDir, MANIFEST_NAME } from "./version-manifest.js";
import {
  descending,
  MAX_VERSION,
  missingSpecificVersions,
  selectVersions,
  type VersionPolicy,
} from "./version-policy.js";

/** A model the source watches. */
export interface SourceModel {
  readonly name: string;
  readonly basePath: string;
  readonly versionPolicy: VersionPolicy;
}

/** A version to serve and its directory. */
export interface AspiredVersion {
  readonly version: bigint;
  readonly dir: string;
}

/** A new version directory not picked up yet, and why. */
export interface PendingVersion {
  readonly version: bigint;
  readonly dir: string;
  /** `unverified`: its ts-serving-manifest.json does not match its files (never loaded as is). */
  readonly reason: "incomplete" | "changing" | "unverified";
  /** Consecutive polls it has looked the same in, this one excluded. */
  readonly stablePolls: number;
}

/** What the last poll of a model found. */
export interface SourceModelStatus {
  /** Why the last poll failed (e.g. a missing base path); the previous aspired versions stand. */
  readonly error?: ServingError;
  readonly warning?: string;
  readonly aspired: readonly AspiredVersion[];
  readonly pending: readonly PendingVersion[];
}

/** A log-worthy change: an error or warning that appeared for a model, or a pending version. */
export type SourceEvent =
  | { readonly type: "error"; readonly model: string; readonly error: ServingError }
  | { readonly type: "warning"; readonly model: string; readonly message: string }
  | { readonly type: "pending"; readonly model: string; readonly version: PendingVersion };

export interface FileSystemSourceOptions {
  /** Called after every successful poll of a model with the versions to serve, highest first. */
  readonly onAspiredVersions: (model: string, versions: readonly AspiredVersion[]) => void;
  /** Errors, warnings and pending versions, each reported once until it changes (for logs). */
  readonly onEvent?: (event: SourceEvent) => void;
  /** Extra polls a new version must look the same in before it is aspired (default 1). */
  readonly stabilityPolls?: number;
  /** Polls a stable directory without a model file waits before it is aspired anyway (default 30). */
  readonly incompletePolls?: number;
  /** In poll-once mode, the wait between polls while versions are pending (default 1000 ms). */
  readonly settleIntervalMs?: number;
  /** Lists base paths the file system cannot (`s3://`, see version-lister.ts). */
  readonly lister?: VersionLister;
}

interface Candidate {
  dir: string;
  fingerprint: string;
  complete: boolean;
  stablePolls: number;
  /** The listing whose contents were checked complete (see modelDirComplete). */
  contentChecked?: string;
  /** With a ts-serving-manifest.json: whether the files match it (checked once per listing). */
  manifest?: "verified" | "mismatch";
}

interface Watch {
  readonly model: SourceModel;
  /** Versions picked up (complete and stable), by version: their directory. */
  readonly picked: Map<bigint, string>;
  readonly candidates: Map<bigint, Candidate>;
  status: SourceModelStatus;
  /** Keys of the events the last poll reported, so each is reported once while it lasts. */
  reported: Set<string>;
}

const MODEL_FILES = new Set(["saved_model.pb", "saved_model.pbtxt", "model.onnx"]);

/**
 * Polls model base paths and reports aspired versions (see the file header for safe pickup).
 *
 * @example
 * const source = new FileSystemSource({ onAspiredVersions: (m, v) => manager.setAspiredVersions(m, v) });
 * source.setModels([{ name: "ranking", basePath: "/models/ranking", versionPolicy: { kind: "all" } }]);
 * source.start(1000);
 */
export class FileSystemSource {
  private readonly stabilityPolls: number;
  private readonly incompletePolls: number;
  private readonly settleIntervalMs: number;
  private watches = new Map<string, Watch>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: FileSystemSourceOptions) {
    this.stabilityPolls = nonNegative(options.stabilityPolls ?? 1, "stabilityPolls");
    this.incompletePolls = nonNegative(options.incompletePolls ?? 30, "incompletePolls");
    this.settleIntervalMs = nonNegative(options.settleIntervalMs ?? 1000, "settleIntervalMs");
  }

  /**
   * Replaces the watched models. Removed models get an empty aspired-versions list at once (their
   * versions get unloaded); a model whose base path changed starts afresh. Takes effect for
   * versions at the next poll.
   */
  setModels(models: readonly SourceModel[]): void {
    const next = new Map<string, Watch>();
    for (const model of models) {
      const old = this.watches.get(model.name);
      next.set(
        model.name,
        old && old.model.basePath === model.basePath
          ? { ...old, model }
          : {
              model,
              picked: new Map(),
              candidates: new Map(),
              status: { aspired: old?.status.aspired ?? [], pending: [] },
              reported: new Set(),
            },
      );
    }
    const removed = [...this.watches.keys()].filter((name) => !next.has(name));
    this.watches = next;
    for (const name of removed) this.options.onAspiredVersions(name, []);
  }

  /** What the last poll of `model` found; undefined for a model not watched. */
  status(model: string): SourceModelStatus | undefined {
    return this.watches.get(model)?.status;
  }

  /** True while some watched model has a version waiting to be picked up. */
  hasPending(): boolean {
    return [...this.watches.values()].some((w) => w.status.pending.length > 0);
  }

  /** Polls every model once (polls never overlap: this one runs after any in progress). */
  poll(): Promise<void> {
    const run = this.chain.then(() => this.pollAll());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts polling: every `pollWaitMs` (> 0); once (0), repeated every `settleIntervalMs` only
   * while versions are pending, so that poll-once still waits for copies to finish; never (< 0).
   * Resolves after the first poll (in poll-once mode, after the last).
   */
  async start(pollWaitMs: number): Promise<void> {
    this.stopped = false;
    if (pollWaitMs < 0) return;
    if (pollWaitMs === 0) return this.pollUntilSettled();
    await this.poll();
    this.schedule(pollWaitMs);
  }

  /** Polls, then again every `settleIntervalMs` while versions are pending (or until stopped). */
  async pollUntilSettled(): Promise<void> {
    await this.poll();
    while (!this.stopped && this.hasPending()) {
      await delay(this.settleIntervalMs);
      if (!this.stopped) await this.poll();
    }
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private schedule(pollWaitMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule(pollWaitMs));
    }, pollWaitMs);
  }

  private async pollAll(): Promise<void> {
    await Promise.all([...this.watches.values()].map((watch) => this.pollModel(watch)));
  }

  private async pollModel(watch: Watch): Promise<void> {
    const { name, basePath, versionPolicy } = watch.model;
    let present: Map<bigint, string>;
    let listerWarnings: readonly string[] = [];
    const verified = new Set<bigint>();
    try {
      const listed = await this.options.lister?.list(watch.model);
      if (listed) {
        present = new Map([...listed.versions].map(([v, l]) => [v, l.dir]));
        for (const [v, l] of listed.versions) if (l.verified) verified.add(v);
        listerWarnings = listed.warnings;
      } else {
        present = await listVersions(name, basePath);
      }
    } catch (error: unknown) {
      const failure = ServingError.from(error, Code.UNAVAILABLE);
      watch.status = { ...watch.status, error: failure };
      this.report(watch, [{ type: "error", model: name, error: failure }]);
      return;
    }
    for (const version of watch.picked.keys()) {
      if (present.get(version) !== watch.picked.get(version)) watch.picked.delete(version);
    }
    const pending: PendingVersion[] = [];
    for (const version of selectVersions(versionPolicy, present.keys())) {
      const dir = present.get(version)!;
      if (watch.picked.has(version)) continue;
      if (verified.has(version)) {
        watch.picked.set(version, dir);
        watch.candidates.delete(version);
        continue;
      }
      const candidate = await this.examine(watch.candidates.get(version), dir);
      const needed = candidate.complete
        ? this.stabilityPolls
        : Math.max(this.stabilityPolls, this.incompletePolls);
      // A manifest that matches is proof of completeness; one that does not match is never loaded.
      const ready =
        candidate.manifest === "verified" ||
        (candidate.manifest === undefined &&
          candidate.stablePolls >= needed &&
          (candidate.complete || candidate.fingerprint !== ""));
      if (ready) {
        watch.picked.set(version, dir);
        watch.candidates.delete(version);
      } else {
        watch.candidates.set(version, candidate);
        pending.push({
          version,
          dir,
          reason:
            candidate.manifest === "mismatch" ? "unverified" : candidate.complete ? "changing" : "incomplete",
          stablePolls: candidate.stablePolls,
        });
      }
    }
    for (const version of watch.candidates.keys()) {
      if (!pending.some((p) => p.version === version)) watch.candidates.delete(version);
    }
    if (this.watches.get(name) !== watch) return; // removed or replaced while polling
    const picked = selectVersions(versionPolicy, watch.picked.keys()).map((version) => ({
      version,
      dir: watch.picked.get(version)!,
    }));
    // Nothing ready but something pending: keep what is served until it is ready.
    const aspired = picked.length === 0 && pending.length > 0 ? watch.status.aspired : picked;
    const warning =
      [warningFor(watch.model, present), ...listerWarnings].filter((w) => w !== undefined).join("; ") ||
      undefined;
    watch.status = { aspired, pending, ...(warning === undefined ? {} : { warning }) };
    this.report(watch, [
      ...(warning === undefined ? [] : [{ type: "warning" as const, model: name, message: warning }]),
      ...pending.map((version) => ({ type: "pending" as const, model: name, version })),
    ]);
    this.options.onAspiredVersions(name, aspired);
  }

  /** Lists a candidate version directory and compares it with the previous poll's listing. */
  private async examine(previous: Candidate | undefined, dir: string): Promise<Candidate> {
    let fingerprint: string;
    let complete: boolean;
    try {
      const entries = await fs.readdir(dir, { withFileTypes: true });
      complete = entries.some((e) => isModelFile(e.name)) && (await variablesComplete(dir, entries));
      fingerprint = await listing(dir, entries);
    } catch {
      fingerprint = "";
      complete = false;
    }
    const same = previous !== undefined && previous.dir === dir && previous.fingerprint === fingerprint;
    if (`\n${fingerprint}`.includes(`\n${MANIFEST_NAME}\tf`)) {
      // Published by `ts-serving push` (or copied with its manifest): the checksums decide, at once.
      const manifest =
        same && previous.manifest !== undefined
          ? previous.manifest
          : (await checkManifestDir(dir))?.problem === undefined
            ? "verified"
            : "mismatch";
      return {
        dir,
        fingerprint,
        complete: manifest === "verified",
        stablePolls: same ? previous.stablePolls + 1 : 0,
        manifest,
      };
    }
    // Names alone can look complete while a file is still short (saved_model.pb copied first, then a
    // pause): once the listing is stable, check the contents too — once per distinct listing.
    const settled = same || this.stabilityPolls === 0;
    if (complete && settled) {
      complete = previous?.contentChecked === fingerprint || (await modelDirComplete(dir)).complete;
    }
    return {
      dir,
      fingerprint,
      complete,
      stablePolls: same ? previous.stablePolls + 1 : 0,
      ...(complete && settled ? { contentChecked: fingerprint } : {}),
    };
  }

  /** Reports this poll's events, except those the previous poll of the model reported already. */
  private report(watch: Watch, events: readonly SourceEvent[]): void {
    const previous = watch.reported;
    watch.reported = new Set();
    for (const event of events) {
      const key =
        event.type === "error"
          ? `error:${event.error.message}`
          : event.type === "warning"
            ? `warning:${event.message}`
            : `pending:${event.version.version}:${event.version.reason}`;
      watch.reported.add(key);
      if (previous.has(key)) continue;
      try {
        this.options.onEvent?.(event);
      } catch {
        // A failing log listener must not stop polling.
      }
    }
  }
}

/** The numeric version directories of a base path: version → directory (one per version number). */
async function listVersions(name: string, basePath: string): Promise<Map<bigint, string>> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(basePath, { withFileTypes: true });
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `Could not find base path ${basePath} for servable ${name}`,
      );
    }
    throw error;
  }
  const found = new Map<bigint, string>();
  // Sorted, so that of `1` and `001` the same one wins every poll.
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!/^\d+$/.test(entry.name)) continue;
    const version = BigInt(entry.name);
    if (version > MAX_VERSION || found.has(version)) continue;
    const dir = join(basePath, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && (await isDirectory(dir)))) found.set(version, dir);
  }
  return found;
}

function warningFor(model: SourceModel, present: ReadonlyMap<bigint, string>): string | undefined {
  if (present.size === 0) {
    return `No versions of servable ${model.name} found under base path ${model.basePath}. Did you forget to name your leaf directory as a number (eg. '/1/')?`;
  }
  const missing = missingSpecificVersions(model.versionPolicy, present.keys());
  if (missing.length > 0) {
    return `Version(s) ${missing.sort(descending).reverse().join(", ")} of servable ${model.name} requested by the version policy not found under base path ${model.basePath}`;
  }
  return undefined;
}

function isModelFile(name: string): boolean {
  return !name.startsWith(".") && (MODEL_FILES.has(name) || name.endsWith(".onnx"));
}

/** True unless `variables/` lacks its index or one of the data shards its file names announce. */
async function variablesComplete(dir: string, top: readonly Dirent[]): Promise<boolean> {
  if (!top.some((e) => e.name === "variables" && e.isDirectory())) return true;
  const names = new Set(await fs.readdir(join(dir, "variables")));
  const shards = [...names]
    .map((n) => /^variables\.data-(\d{5})-of-(\d{5})$/.exec(n))
    .filter((m) => m !== null);
  if (shards.length === 0) return !names.has("variables.index");
  if (!names.has("variables.index")) return false;
  const count = Number(shards[0]?.[2]);
  for (let i = 0; i < count; i++) {
    const shard = `variables.data-${String(i).padStart(5, "0")}-of-${String(count).padStart(5, "0")}`;
    if (!names.has(shard)) return false;
  }
  return true;
}

/** A directory's recursive listing as one string: path, type, size, mtime of every entry. */
async function listing(dir: string, top: Dirent[]): Promise<string> {
  const lines: string[] = [];
  const walk = async (path: string, prefix: string, entries: Dirent[]): Promise<void> => {
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(path, entry.name);
      const stats: Stats = await fs.lstat(full);
      lines.push(
        `${prefix}${entry.name}\t${stats.isDirectory() ? "d" : "f"}\t${stats.size}\t${stats.mtimeMs}`,
      );
      if (stats.isDirectory()) {
        await walk(full, `${prefix}${entry.name}/`, await fs.readdir(full, { withFileTypes: true }));
      }
    }
  };
  await walk(dir, "", top);
  return lines.join("\n") || "(empty)";
}

/** Whether `path` is a directory (following symbolic links); false when it does not exist. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ServingError(Code.INVALID_ARGUMENT, `${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
