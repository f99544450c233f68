// API keys stored hashed at rest: `--auth_api_keys_file` holds SHA-256 digests, never keys. Keys are
// random (new-api-key makes them with 256 bits), so a fast hash is enough; comparison is constant-time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Code, invalidArgument, ServingError } from "../errors.js";
import type { Principal } from "./principal.js";

interface ApiKeyEntry {
  readonly digest: Buffer;
  readonly principal: Principal;
}

const DIGEST = /^sha256:([0-9a-f]{64})$/i;
const NAME = /^[A-Za-z0-9_.@:-]+$/;

/**
 * The API keys of `--auth_api_keys_file`. One key per line, `#` starts a comment:
 *
 *     sha256:<64 hex digits of SHA-256(key)>  <caller name>  [models=<model>,<model>...]
 *
 * Without `models=` (or with `models=*`) the key may use every model.
 *
 * @example
 * const keys = ApiKeys.parse("sha256:9f86...0f00a08 ci-job models=half_plus_two", "keys.txt");
 * keys.verify("test")?.name; // "ci-job"
 */
export class ApiKeys {
  private constructor(private readonly entries: readonly ApiKeyEntry[]) {}

  /** Reads and parses the file; errors name the file and line, never echo its contents. */
  static async readFile(path: string): Promise<ApiKeys> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error: unknown) {
      throw new ServingError(Code.INVALID_ARGUMENT, `--auth_api_keys_file ${path}: cannot be read`, {
        cause: error,
      });
    }
    return ApiKeys.parse(text, path);
  }

  static parse(text: string, source: string): ApiKeys {
    const entries: ApiKeyEntry[] = [];
    const seen = new Set<string>();
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      const fail = (why: string) =>
        invalidArgument(`--auth_api_keys_file ${source}, line ${index + 1}: ${why}`);
      const [hash = "", name = "", ...options] = line.split(/\s+/);
      const digest = DIGEST.exec(hash)?.[1]?.toLowerCase();
      if (digest === undefined) {
        throw fail("expected sha256:<64 hex digits> (the file stores key hashes, not keys)");
      }
      if (!NAME.test(name)) throw fail("expected a caller name after the hash (letters, digits, _ . @ : -)");
      if (seen.has(digest)) throw fail("the same key hash appears twice");
      seen.add(digest);
      let models: ReadonlySet<string> | undefined;
      for (const option of options) {
        const match = /^models=(.+)$/.exec(option);
        if (!match?.[1]) throw fail(`unknown option (expected models=<model>,...)`);
        const list = match[1].split(",").filter((m) => m !== "");
        models = list.includes("*") ? undefined : new Set(list);
      }
      entries.push({ digest: Buffer.from(digest, "hex"), principal: { name, models } });
    });
    return new ApiKeys(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The caller `key` belongs to, or undefined. Every entry is compared, in constant time each. */
  verify(key: string): Principal | undefined {
    const digest = sha256(key);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(digest, entry.digest) && found === undefined) found = entry.principal;
    }
    return found;
  }
}

const sha256 = (key: string): Buffer => createHash("sha256").update(key, "utf8").digest();

/** The `sha256:<hex>` form of a key, as the keys file stores it. */
export function hashApiKey(key: string): string {
  return `sha256:${sha256(key).toString("hex")}`;
}

/**
 * A fresh random key (256 bits, base64url) and its keys-file line: give the key to the caller, put the
 * line in the file.
 *
 * @example
 * const { key, line } = newApiKey("ci-job", ["half_plus_two"]);
 */
export function newApiKey(name: string, models: readonly string[] = []): { key: string; line: string } {
  if (!NAME.test(name))
    throw invalidArgument(`caller name ${JSON.stringify(name)}: use letters, digits, _ . @ : -`);
  const key = `tss_${randomBytes(32).toString("base64url")}`;
  const suffix = models.length > 0 ? ` models=${models.join(",")}` : "";
  return { key, line: `${hashApiKey(key)} ${name}${suffix}` };
}
