// Weighted traffic split between the versions of a model (canary releases), beyond TF Serving: the
// split lives in its own JSON file (--traffic_split_file) so the model config stays a file real
// TF Serving accepts. A request that names a version or a label is never re-routed.
import { fingerprint32 } from "farmhash-modern";
import { invalidArgument } from "../errors.js";
import { readConfigFile } from "./config-file.js";
import type { VersionRequest } from "./manager.js";
import type { ShadowConfig } from "./shadow-traffic.js";
import type { LabelMap } from "./version-labels.js";

/** Where a share of a model's traffic goes: a version label of the model config, or a version number. */
export type SplitTarget = { readonly label: string } | { readonly version: bigint };

/** One weighted target; `key` is how the file wrote it ("stable", "3"). */
export interface SplitEntry {
  readonly key: string;
  readonly target: SplitTarget;
  readonly weight: number;
}

/** A model's split, validated. */
export interface ModelSplit {
  readonly entries: readonly SplitEntry[];
  /** Header (REST) / metadata key (gRPC), lower case, whose value pins a request to one target. */
  readonly stickyHeader?: string;
  /** The key rollback sends all traffic to (written by `ts-serving rollout`). */
  readonly stable?: string;
  /** A candidate that a share of the requests is mirrored to, its answers discarded (shadow-traffic.ts). */
  readonly shadow?: ShadowConfig;
}

/** Model name → its split. Models without an entry are served as TF Serving does (latest version). */
export type TrafficSplit = ReadonlyMap<string, ModelSplit>;

/** The file's JSON shape, per model (see docs/canary.md). */
export interface ModelSplitJson {
  weights?: Record<string, number>;
  sticky_header?: string;
  stable?: string;
  shadow?: { target: string; percent: number };
}
export type TrafficSplitJson = Record<string, ModelSplitJson>;

const MODEL_FIELDS = new Set(["weights", "sticky_header", "stable", "shadow"]);
/** An HTTP header name (RFC 9110 token), which is also a valid gRPC metadata key once lower-cased. */
const HEADER_TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Parses and validates a traffic split file's text. Every problem is INVALID_ARGUMENT naming
 * `source`, the model and the key: weights must be non-negative integers summing to more than 0,
 * a target may appear once, unknown fields are rejected (a typo must not silently change routing).
 *
 * @example
 * const split = parseTrafficSplit('{"ranking": {"weights": {"stable": 90, "canary": 10}}}', "traffic.json");
 * split.get("ranking")?.entries.map((e) => e.weight); // [90, 10]
 */
export function parseTrafficSplit(text: string, source = "traffic split"): TrafficSplit {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error: unknown) {
    throw invalidArgument(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(json)) throw invalidArgument(`${source}: expected a JSON object of model name → split`);
  const split = new Map<string, ModelSplit>();
  for (const [model, value] of Object.entries(json)) {
    split.set(model, parseModelSplit(value, `${source}: model ${model}`));
  }
  return split;
}

function parseModelSplit(value: unknown, where: string): ModelSplit {
  if (!isObject(value)) throw invalidArgument(`${where}: expected an object with "weights"`);
  for (const field of Object.keys(value)) {
    if (!MODEL_FIELDS.has(field)) {
      throw invalidArgument(
        `${where}: unknown field "${field}" (expected weights, sticky_header, stable, shadow)`,
      );
    }
  }
  const shadow = value.shadow === undefined ? undefined : parseShadow(value.shadow, where);
  // A model may be shadowed without a split.
  const weights = value.weights === undefined && shadow ? {} : value.weights;
  if (!isObject(weights) || (Object.keys(weights).length === 0 && !shadow)) {
    throw invalidArgument(`${where}: "weights" must be a non-empty object of label or version → weight`);
  }
  const entries: SplitEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const [key, weight] of Object.entries(weights)) {
    if (typeof weight !== "number" || !Number.isSafeInteger(weight) || weight < 0) {
      throw invalidArgument(
        `${where}: weight of "${key}" must be a non-negative integer, got ${JSON.stringify(weight)}`,
      );
    }
    const target = splitTarget(key, where);
    const id = "version" in target ? `version ${target.version}` : `label ${target.label}`;
    if (seen.has(id)) throw invalidArgument(`${where}: ${id} is listed twice`);
    seen.add(id);
    entries.push({ key, target, weight });
    total += weight;
  }
  if (total <= 0 && entries.length > 0) {
    throw invalidArgument(`${where}: the weights sum to 0; at least one must be positive`);
  }
  const split: { entries: SplitEntry[]; stickyHeader?: string; stable?: string; shadow?: ShadowConfig } = {
    entries,
  };
  if (shadow) split.shadow = shadow;
  if (value.sticky_header !== undefined) {
    const header = typeof value.sticky_header === "string" ? value.sticky_header.toLowerCase() : "";
    if (!HEADER_TOKEN.test(header)) {
      throw invalidArgument(
        `${where}: sticky_header must be a header name, got ${JSON.stringify(value.sticky_header)}`,
      );
    }
    split.stickyHeader = header;
  }
  if (value.stable !== undefined) {
    if (typeof value.stable !== "string" || !entries.some((e) => e.key === value.stable)) {
      throw invalidArgument(
        `${where}: stable must be one of the keys of "weights", got ${JSON.stringify(value.stable)}`,
      );
    }
    split.stable = value.stable;
  }
  return split;
}

function parseShadow(value: unknown, where: string): ShadowConfig {
  const fields = isObject(value) ? Object.keys(value) : [];
  if (!isObject(value) || fields.some((f) => f !== "target" && f !== "percent")) {
    throw invalidArgument(`${where}: shadow must be {"target": <label or version>, "percent": <0..100>}`);
  }
  const { target, percent } = value;
  if (typeof target !== "string")
    throw invalidArgument(`${where}: shadow target must be a label or version string`);
  if (typeof percent !== "number" || !(percent > 0 && percent <= 100)) {
    throw invalidArgument(
      `${where}: shadow percent must be a number in (0, 100], got ${JSON.stringify(percent)}`,
    );
  }
  return { key: target, target: splitTarget(target, `${where}: shadow`), percent };
}

/** "3" → version 3; anything else is a label (TF Serving labels are not numbers either). */
function splitTarget(key: string, where: string): SplitTarget {
  if (/^\d+$/.test(key)) return { version: BigInt(key) };
  if (key.trim() === "") throw invalidArgument(`${where}: an empty key in "weights"`);
  return { label: key };
}

/**
 * Checks a split against the served models: each model must be in the model config and each label
 * target one of its version_labels (INVALID_ARGUMENT otherwise). Version targets need not be loaded:
 * until AVAILABLE they get no traffic (see TrafficRouter).
 *
 * @example
 * checkTrafficSplit(split, core.models());
 */
export function checkTrafficSplit(
  split: TrafficSplit,
  models: readonly { readonly name: string; readonly labels: ReadonlyMap<string, bigint> }[],
): void {
  const byName = new Map(models.map((m) => [m.name, m]));
  for (const [model, { entries, shadow }] of split) {
    const config = byName.get(model);
    if (!config)
      throw invalidArgument(`traffic split names model ${model}, which is not in the model config`);
    for (const { target } of shadow ? [...entries, shadow] : entries) {
      if ("label" in target && !config.labels.has(target.label)) {
        const known = [...config.labels.keys()].join(", ") || "none";
        throw invalidArgument(
          `traffic split of model ${model} names label ${target.label}, which its version_labels do not define (labels: ${known})`,
        );
      }
    }
  }
}

/** Reads and parses a traffic split file; a missing file is NOT_FOUND. */
export async function readTrafficSplitFile(path: string): Promise<{ split: TrafficSplit; text: string }> {
  const text = await readConfigFile(path);
  return { split: parseTrafficSplit(text, path), text };
}

/**
 * Picks the version for requests that name none, by the split's weights. A target whose version
 * is not AVAILABLE (not loaded yet, unloading, label gone) gets no traffic and its share goes to the
 * others, so a split never fails a request the model could serve; with no target AVAILABLE the
 * request goes to the latest version, as without a split. With a sticky header present, the key's
 * 32-bit farmhash fingerprint picks the target, so one key always lands on the same version while
 * the split and the available versions stay the same (and raising the last target's weight keeps
 * the keys it had).
 *
 * @example
 * const router = new TrafficRouter();
 * router.set(parseTrafficSplit('{"ranking": {"weights": {"1": 90, "2": 10}}}'));
 * router.route("ranking", {}, labels, (model, version) => true); // { version: 1n } 90% of the time
 */
export class TrafficRouter {
  private split: TrafficSplit = new Map();

  /** `random` in [0, 1) draws the target of a request without a sticky key (tests inject it). */
  constructor(private readonly random: () => number = Math.random) {}

  set(split: TrafficSplit): void {
    this.split = split;
  }

  get(): TrafficSplit {
    return this.split;
  }

  route(
    model: string,
    request: VersionRequest,
    labels: LabelMap,
    isAvailable: (model: string, version: bigint) => boolean,
  ): VersionRequest {
    if (request.version !== undefined || request.label !== undefined) return request;
    const split = this.split.get(model);
    if (!split) return request;
    const candidates: { version: bigint; weight: number }[] = [];
    let total = 0;
    for (const { target, weight } of split.entries) {
      if (weight === 0) continue;
      const version = "version" in target ? target.version : labels.get(model)?.get(target.label);
      if (version === undefined || !isAvailable(model, version)) continue;
      candidates.push({ version, weight });
      total += weight;
    }
    if (candidates.length === 0) return request;
    const key = split.stickyHeader ? request.header?.(split.stickyHeader) : undefined;
    const point = (key ? stickyPoint(model, key) : this.random()) * total;
    let cumulative = 0;
    for (const candidate of candidates) {
      cumulative += candidate.weight;
      if (point < cumulative) return { version: candidate.version };
    }
    return { version: candidates[candidates.length - 1]!.version };
  }
}

/** A key's place in [0, 1), the same in every process and release (farmhash fingerprints are frozen). */
export function stickyPoint(model: string, key: string): number {
  return fingerprint32(`${model}\u0000${key}`) / 2 ** 32;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
