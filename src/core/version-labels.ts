import { failedPrecondition, invalidArgument, type ServingError } from "../errors.js";

/** Model name → (label → version). */
export type LabelMap = ReadonlyMap<string, ReadonlyMap<string, bigint>>;

/** A model's labels as its config states them. */
export interface LabeledModel {
  readonly name: string;
  readonly labels: ReadonlyMap<string, bigint>;
}

/**
 * The label map a config asks for, checked as TF Serving's UpdateModelVersionLabelMap does (it runs
 * on every config load, before that config's models are loaded): a label may point only at a version
 * that is AVAILABLE now; with `allowUnavailable` (--allow_version_labels_for_unavailable_models) also
 * at an unavailable one, if the label is new or already points at that version. Otherwise
 * FAILED_PRECONDITION `Request to assign label to version <v> of model <m>, which is not currently
 * available for inference`.
 *
 * @example
 * const labels = computeLabelMap(models, manager.labelMap(), (m, v) => manager.isAvailable(m, v), false);
 */
export function computeLabelMap(
  models: readonly LabeledModel[],
  current: LabelMap,
  isAvailable: (model: string, version: bigint) => boolean,
  allowUnavailable: boolean,
): LabelMap {
  const next = new Map<string, Map<string, bigint>>();
  for (const model of models) {
    for (const [label, version] of model.labels) {
      const existing = current.get(model.name)?.get(label);
      const allowed = allowUnavailable && (existing === undefined || existing === version);
      if (!allowed && !isAvailable(model.name, version)) {
        throw failedPrecondition(
          `Request to assign label to version ${version} of model ${model.name}, which is not currently available for inference`,
        );
      }
      const labels = next.get(model.name) ?? new Map<string, bigint>();
      next.set(model.name, labels.set(label, version));
    }
  }
  return next;
}

/**
 * The version a label stands for; INVALID_ARGUMENT `Unrecognized servable version label: <label>`
 * when the model has no such label (or no labels at all).
 */
export function resolveLabel(labels: LabelMap, model: string, label: string): bigint {
  const version = labels.get(model)?.get(label);
  if (version === undefined) throw unrecognizedLabel(label);
  return version;
}

const unrecognizedLabel = (label: string): ServingError =>
  invalidArgument(`Unrecognized servable version label: ${label}`);
