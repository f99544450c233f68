// Reads the YAML manifests of a deploy/ directory for the tests: every document of every .yaml/.yml
// file, in file order, asserted to parse without errors and to be a mapping.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

/** One YAML document: the file it came from (a name inside the directory) and its value. */
export interface YamlDocument {
  file: string;
  value: Record<string, unknown>;
}

/**
 * Every document of the YAML files in `dir`, sorted by file name; a YAML error or a document that is
 * not a mapping fails the calling test.
 *
 * @example
 * yamlDocuments(join(REPO_ROOT, "deploy/k8s")).map((d) => d.value.kind); // ["Deployment", ...]
 */
export function yamlDocuments(dir: string): YamlDocument[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((doc) => {
        assert.deepEqual(
          doc.errors.map((e) => e.message),
          [],
          `${file}: YAML errors`,
        );
        const value: unknown = doc.toJS();
        assert.ok(
          value !== null && typeof value === "object" && !Array.isArray(value),
          `${file}: a document is not a mapping`,
        );
        return { file, value: value as Record<string, unknown> };
      }),
    );
}
