import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** ../shared beside the checkout: TF Serving's test models and real SavedModels, read in place. */
export const SHARED = resolve(REPO_ROOT, "../shared");
export const TFSERVING_FIXTURES = join(SHARED, "fixtures/tfserving");
export const SAVEDMODEL_FIXTURES = join(SHARED, "fixtures/savedmodels");

const present = existsSync(TFSERVING_FIXTURES) && existsSync(SAVEDMODEL_FIXTURES);

if (!present && process.env.CI === "true") {
  throw new Error(`CI=true but the shared fixtures are missing at ${SHARED}`);
}

/**
 * Test option that skips a fixture-based test in a user's clone without ../shared,
 * with a message saying why. Under CI (CI=true) a missing ../shared fails at import instead.
 */
export const needsFixtures: { skip: string | false } = {
  skip: present ? false : `../shared fixtures not found at ${SHARED} (they ship beside the project checkout)`,
};

export const tfServingModel = (name: string, version = "00000123"): string =>
  join(TFSERVING_FIXTURES, name, version);
export const savedModelFixture = (name: string): string => join(SAVEDMODEL_FIXTURES, name);

/** The TensorBundle prefix (`.../variables/variables`) of every variables/ under both fixture folders, sorted. */
export async function fixtureBundlePrefixes(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name === "variables.index") found.push(path.slice(0, -".index".length));
    }
  };
  await walk(TFSERVING_FIXTURES);
  await walk(SAVEDMODEL_FIXTURES);
  return found.sort();
}
