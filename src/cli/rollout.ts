// `ts-serving rollout` / `ts-serving rollback`: edit the traffic split file (and, for a canary
// version, the model config's version policy so that both versions stay loaded) with atomic
// writes; the running server applies them at its next poll or on SIGHUP (docs/canary.md).
import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { modelConfigEntries, readModelConfigFile } from "../core/model-config.js";
import {
  checkTrafficSplit,
  type ModelSplitJson,
  parseTrafficSplit,
  type TrafficSplitJson,
} from "../core/traffic-split.js";
import { Code, invalidArgument, ServingError } from "../errors.js";
import { FileSystemStoragePathSourceConfig_ServableVersionPolicySchema } from "../proto/gen/tensorflow_serving/config/file_system_storage_path_source_pb.js";
import {
  type ModelConfig,
  type ModelServerConfig,
  ModelServerConfigSchema,
} from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { printTextProto } from "../proto/text-format.js";

export interface RolloutOptions {
  readonly model: string;
  /** Percent of the model's unpinned traffic for the canary, an integer 0..100. */
  readonly canary: number;
  /** The canary version (default: the config's `canary` label, else the split's current canary). */
  readonly version?: bigint;
  /** The stable target, a version number or label (default: the split's `stable`, the config's `stable` label, or the highest version directory below the canary). */
  readonly stable?: string;
  /** The server's --traffic_split_file (default: traffic_split.json beside `config`); created if missing. */
  readonly splitFile?: string;
  /** The server's --model_config_file: checked, and widened to load both versions when needed. */
  readonly config?: string;
  /** Header / metadata key that pins a request's key to one version. */
  readonly stickyHeader?: string;
}

export type RollbackOptions = Pick<RolloutOptions, "model" | "stable" | "splitFile" | "config">;

/**
 * Sends `canary` percent of a model's traffic to the canary and the rest to the stable target.
 * Returns what it did, for the user.
 *
 * @example
 * await rollout({ config: "/models/models.config", model: "ranking", version: 2n, canary: 10 });
 * // traffic_split.json: {"ranking": {"weights": {"1": 90, "2": 10}, "stable": "1"}}
 */
export async function rollout(options: RolloutOptions): Promise<string> {
  if (!Number.isInteger(options.canary) || options.canary < 0 || options.canary > 100) {
    throw invalidArgument(`--canary=${options.canary}: a percentage is an integer 0..100`);
  }
  const splitFile = splitFilePath(options);
  const splits = await readSplitJson(splitFile);
  const current = splits[options.model];
  const config = options.config ? await readModelConfigFile(options.config) : undefined;
  const modelConfig = config ? findModel(config, options.model, options.config ?? "") : undefined;
  const labels = modelConfig?.versionLabels ?? {};

  const canary =
    options.version !== undefined
      ? String(options.version)
      : "canary" in labels
        ? "canary"
        : current && current.stable !== undefined
          ? Object.keys(current.weights ?? {}).find((key) => key !== current.stable)
          : undefined;
  if (canary === undefined) {
    throw invalidArgument(
      `name the canary of model ${options.model} with --version N (or a "canary" version label)`,
    );
  }
  const stable =
    options.stable ??
    current?.stable ??
    ("stable" in labels ? "stable" : await versionBelow(modelConfig, canary));
  if (stable === undefined) {
    throw invalidArgument(
      `cannot tell the stable version of model ${options.model}: pass --stable <version|label>`,
    );
  }
  const version = (key: string) =>
    /^\d+$/.test(key) ? String(BigInt(key)) : (labels[key]?.toString() ?? key);
  if (version(stable) === version(canary)) {
    throw invalidArgument(
      `the stable (${stable}) and canary (${canary}) targets are both ${version(stable)}`,
    );
  }

  // Other fields (a shadow) are kept.
  const next: ModelSplitJson = {
    ...current,
    weights: { [stable]: 100 - options.canary, [canary]: options.canary },
    stable,
  };
  const sticky = options.stickyHeader ?? current?.sticky_header;
  if (sticky !== undefined) next.sticky_header = sticky;
  const widened = modelConfig ? widenVersionPolicy(modelConfig, [stable, canary]) : [];
  const updated = { ...splits, [options.model]: next };
  // Checked before anything is written: the server would refuse what does not pass here.
  const parsed = parseTrafficSplit(JSON.stringify(updated), splitFile);
  if (config)
    checkTrafficSplit(new Map([[options.model, parsed.get(options.model)!]]), modelConfigEntries(config));

  const done: string[] = [];
  if (config && options.config && widened.length > 0) {
    // The config first: a version the split names gets traffic only once it is AVAILABLE.
    await writeFileAtomically(options.config, printTextProto(ModelServerConfigSchema, config));
    done.push(
      `${options.config}: model ${options.model} now loads versions ${widened.join(", ")} (version policy specific)`,
    );
  }
  await writeFileAtomically(splitFile, `${JSON.stringify(updated, null, 2)}\n`);
  done.push(
    `${splitFile}: model ${options.model} sends ${100 - options.canary}% to ${stable} (stable), ${options.canary}% to ${canary} (canary)` +
      (sticky ? `, sticky by ${sticky}` : ""),
  );
  return `${done.join("\n")}\n${APPLIED}\n`;
}

/**
 * Sends all of a model's unpinned traffic back to its stable target (the other targets keep weight 0,
 * so a later `rollout` finds the canary again). The canary stays loaded.
 *
 * @example
 * await rollback({ splitFile: "/models/traffic_split.json", model: "ranking" });
 */
export async function rollback(options: RollbackOptions): Promise<string> {
  const splitFile = splitFilePath(options);
  const splits = await readSplitJson(splitFile);
  const current = splits[options.model];
  if (!current) throw invalidArgument(`${splitFile} has no traffic split for model ${options.model}`);
  const stable =
    options.stable ?? current.stable ?? ("stable" in (current.weights ?? {}) ? "stable" : undefined);
  if (stable === undefined) {
    throw invalidArgument(
      `${splitFile} does not say which target of model ${options.model} is stable: pass --stable`,
    );
  }
  const weights: Record<string, number> = { [stable]: 100 };
  for (const key of Object.keys(current.weights ?? {})) if (key !== stable) weights[key] = 0;
  const updated = { ...splits, [options.model]: { ...current, weights, stable } };
  const parsed = parseTrafficSplit(JSON.stringify(updated), splitFile);
  if (options.config) {
    const entries = modelConfigEntries(await readModelConfigFile(options.config));
    checkTrafficSplit(new Map([[options.model, parsed.get(options.model)!]]), entries);
  }
  await writeFileAtomically(splitFile, `${JSON.stringify(updated, null, 2)}\n`);
  return `${splitFile}: model ${options.model} sends 100% to ${stable} (stable)\n${APPLIED}\n`;
}

const APPLIED =
  "The server applies it at its next --model_config_file_poll_wait_seconds poll, or at once on SIGHUP.";

/**
 * Replaces `path` with `text` so that a reader sees the old or the new file, never a partial one:
 * written and flushed under a temporary name in the same directory, then renamed over it.
 *
 * @example
 * await writeFileAtomically("/models/traffic_split.json", '{"ranking": {"weights": {"1": 100}}}\n');
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error: unknown) {
    await rm(temp, { force: true });
    throw error;
  }
}

function splitFilePath(options: { splitFile?: string; config?: string }): string {
  if (options.splitFile) return options.splitFile;
  if (options.config) return join(dirname(options.config), "traffic_split.json");
  throw invalidArgument("give --split_file (the server's --traffic_split_file) or --config");
}

/** The split file as JSON (validated first); a missing file is an empty split. */
async function readSplitJson(path: string): Promise<TrafficSplitJson> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw ServingError.from(error, Code.UNAVAILABLE);
  }
  parseTrafficSplit(text, path);
  return JSON.parse(text) as TrafficSplitJson;
}

function findModel(config: ModelServerConfig, model: string, path: string): ModelConfig {
  modelConfigEntries(config);
  const found =
    config.config.case === "modelConfigList"
      ? config.config.value.config.find((m) => m.name === model)
      : undefined;
  if (!found) throw invalidArgument(`${path} has no model named ${model}`);
  return found;
}

/**
 * Makes the version policy load every numeric target; returns the versions it now loads, or []
 * when it already did. `all` loads everything; `latest` would unload the stable version as soon as
 * a canary above it appears, so it becomes `specific`.
 */
function widenVersionPolicy(model: ModelConfig, targets: readonly string[]): bigint[] {
  const versions = targets.filter((t) => /^\d+$/.test(t)).map((t) => BigInt(t));
  const choice = model.modelVersionPolicy?.policyChoice;
  if (versions.length === 0 || choice?.case === "all") return [];
  const loaded = choice?.case === "specific" ? choice.value.versions : [];
  if (versions.every((v) => loaded.includes(v))) return [];
  const next = [...new Set([...loaded, ...versions])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  model.modelVersionPolicy = create(FileSystemStoragePathSourceConfig_ServableVersionPolicySchema, {
    policyChoice: { case: "specific", value: { versions: next } },
  });
  return next;
}

/**
 * The version serving before the canary: the highest below it among a `specific` policy's versions,
 * else among the version directories of a local base path.
 */
async function versionBelow(model: ModelConfig | undefined, canary: string): Promise<string | undefined> {
  if (!model || !/^\d+$/.test(canary)) return undefined;
  const choice = model.modelVersionPolicy?.policyChoice;
  let versions: bigint[] = [];
  if (choice?.case === "specific") {
    versions = choice.value.versions;
  } else if (isAbsolute(model.basePath)) {
    try {
      versions = (await readdir(model.basePath)).filter((n) => /^\d+$/.test(n)).map((n) => BigInt(n));
    } catch {
      return undefined;
    }
  }
  const below = versions.filter((v) => v < BigInt(canary)).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return below[0] === undefined ? undefined : String(below[0]);
}
