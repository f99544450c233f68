import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { RANKING_MODEL, rankingModel } from "../export/ranking-model.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";

/**
 * Makes sure the embedded default model exists as `<modelsDir>/ranking_model/1`, writing it with
 * the project's own SavedModel writer on first use. Returns the model's base path.
 */
export async function ensureDefaultModel(
  modelsDir = "models",
): Promise<{ basePath: string; created: boolean }> {
  const basePath = resolve(modelsDir, RANKING_MODEL.name);
  const versionDir = join(basePath, "1");
  try {
    await access(join(versionDir, "saved_model.pb"));
    return { basePath, created: false };
  } catch {
    await writeSavedModel(versionDir, rankingModel(), { overwrite: true });
    return { basePath, created: true };
  }
}
