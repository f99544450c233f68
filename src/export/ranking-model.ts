import type { SavedModelContents } from "../savedmodel/saved-model-writer.js";
import { type DenseLayer, mlpSavedModel } from "./mlp.js";

/** The embedded default model's serving interface. */
export const RANKING_MODEL = {
  name: "ranking_model",
  input: "input_features",
  output: "output_logits",
  features: 32,
  hidden: [64, 32] as const,
} as const;

/**
 * The ranking MLP served by default: input_features float32 [-1, 32] → Dense(64, relu) → Dense(32, relu)
 * → Dense(1) → output_logits float32 [-1, 1], with fixed weights.
 *
 * @example
 * await writeSavedModel("models/ranking_model/1", rankingModel());
 */
export function rankingModel(seed = 20261128): SavedModelContents & { layers: DenseLayer[] } {
  return mlpSavedModel({
    widths: [RANKING_MODEL.features, ...RANKING_MODEL.hidden, 1],
    input: RANKING_MODEL.input,
    output: RANKING_MODEL.output,
    seed,
  });
}
