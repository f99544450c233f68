import type { RuntimeThreads } from "../compiler/session-options.js";
import type { SignatureDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { inspectModelDir } from "../savedmodel/model-dir.js";
import { SERVE_TAGS } from "../savedmodel/saved-model.js";
import { loadOnnxServable } from "./onnx-servable.js";
import { loadSavedModelServable } from "./savedmodel-servable.js";
import type { SignatureRunner } from "./signature-runner.js";

export type { SignatureRunner } from "./signature-runner.js";

/** A loaded model version: its signatures, each compiled and ready to run. */
export interface Servable {
  readonly platform: "tensorflow" | "onnx";
  readonly dir: string;
  readonly signatures: ReadonlyMap<string, SignatureRunner>;
  /** Every SignatureDef of the model as stored (plumbing like `__saved_model_init_op` included), for metadata. */
  readonly signatureDefs: ReadonlyMap<string, SignatureDef>;
  /** Frees the onnxruntime sessions; in-flight runs must have finished. */
  close(): Promise<void>;
}

/** The SignatureDefs of a servable, as GetModelMetadata reports them: all of the MetaGraphDef's. */
export function signatureDefs(servable: Servable): ReadonlyMap<string, SignatureDef> {
  return servable.signatureDefs;
}

/**
 * Loads a model version directory — a SavedModel or `model.onnx` — and compiles every signature.
 * Fails (never later, at request time) when a graph uses an op ts-serving cannot run, listing them all.
 *
 * @example
 * const servable = await loadServable("/models/half_plus_two/00000123");
 * const y = await servable.signatures.get("serving_default")!.run(new Map([["x", x]]));
 */
export async function loadServable(
  dir: string,
  options: { tags?: readonly string[]; threads?: RuntimeThreads } = {},
): Promise<Servable> {
  const contents = await inspectModelDir(dir);
  if (contents.kind === "onnx") return loadOnnxServable(dir, contents.file, options.threads);
  return loadSavedModelServable(dir, options.tags ?? SERVE_TAGS, options.threads);
}
