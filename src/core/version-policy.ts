import type { FileSystemStoragePathSourceConfig_ServableVersionPolicy as ServableVersionPolicyProto } from "../proto/gen/tensorflow_serving/config/file_system_storage_path_source_pb.js";

/**
 * Which of a model's version directories should be loaded (TF Serving's `model_version_policy`):
 * the highest `numVersions` (default, 1), every version, or the listed ones that exist.
 *
 * @example
 * const policy: VersionPolicy = { kind: "latest", numVersions: 2 };
 */
export type VersionPolicy =
  | { readonly kind: "latest"; readonly numVersions: number }
  | { readonly kind: "all" }
  | { readonly kind: "specific"; readonly versions: readonly bigint[] };

/** The highest version number (int64 max): a larger numeric directory name is not a version. */
export const MAX_VERSION = 0x7fffffffffffffffn;

/** TF Serving's default: the highest version only. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = { kind: "latest", numVersions: 1 };

/**
 * The policy a `ServableVersionPolicy` message asks for; unset means latest 1, and
 * `latest { num_versions: 0 }` is treated as 1, as TF Serving does.
 *
 * @example
 * versionPolicyFromProto(config.modelVersionPolicy); // { kind: "latest", numVersions: 1 }
 */
export function versionPolicyFromProto(proto: ServableVersionPolicyProto | undefined): VersionPolicy {
  const choice = proto?.policyChoice;
  switch (choice?.case) {
    case "latest":
      return { kind: "latest", numVersions: Math.max(1, choice.value.numVersions) };
    case "all":
      return { kind: "all" };
    case "specific":
      return { kind: "specific", versions: [...new Set(choice.value.versions)] };
    default:
      return DEFAULT_VERSION_POLICY;
  }
}

/**
 * The versions a policy aspires to among `present` (the version numbers found on disk), highest first.
 * `specific` versions that are not present are simply not aspired (TF Serving logs a warning).
 *
 * @example
 * selectVersions({ kind: "latest", numVersions: 2 }, [1n, 3n, 2n]); // [3n, 2n]
 */
export function selectVersions(policy: VersionPolicy, present: Iterable<bigint>): bigint[] {
  const sorted = [...new Set(present)].sort(descending);
  switch (policy.kind) {
    case "latest":
      return sorted.slice(0, Math.max(1, policy.numVersions));
    case "all":
      return sorted;
    case "specific": {
      const wanted = new Set(policy.versions);
      return sorted.filter((v) => wanted.has(v));
    }
  }
}

/** The `specific` versions that are not among `present` (for a warning); empty for other policies. */
export function missingSpecificVersions(policy: VersionPolicy, present: Iterable<bigint>): bigint[] {
  if (policy.kind !== "specific") return [];
  const found = new Set(present);
  return policy.versions.filter((v) => !found.has(v)).sort(descending);
}

/** The policy in words, for logs: `latest 2`, `all`, `specific [1, 3]`. */
export function describeVersionPolicy(policy: VersionPolicy): string {
  switch (policy.kind) {
    case "latest":
      return `latest ${policy.numVersions}`;
    case "all":
      return "all";
    case "specific":
      return `specific [${[...policy.versions].sort(descending).reverse().join(", ")}]`;
  }
}

/** Comparator for bigints, highest first. */
export function descending(a: bigint, b: bigint): number {
  return a < b ? 1 : a > b ? -1 : 0;
}
