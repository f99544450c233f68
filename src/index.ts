/**
 * ts-serving's public TypeScript API: SavedModel and TensorBundle reading and writing, tensors,
 * protobuf text format, and the one error type.
 *
 * @example
 * import { openSavedModel, readVariables } from "ts-serving";
 * const bundle = await openSavedModel("/models/half_plus_two/00000123");
 * const variables = await readVariables(bundle);
 */

export { type RestBackend, type RestOptions, restHandler, startRestServer } from "./api/tfs-rest/server.js";
export * from "./core/index.js";
export * from "./core/inference/index.js";
export { warmupServable, writeWarmupFile } from "./core/warmup.js";
export { Code, ServingError } from "./errors.js";
export { attr, GraphBuilder } from "./export/graph-builder.js";
export { type DenseLayer, type MlpSpec, mlpReference, mlpSavedModel } from "./export/mlp.js";
export { RANKING_MODEL, rankingModel } from "./export/ranking-model.js";
export { parseTextProto, printTextProto } from "./proto/text-format.js";
export { loadServable, type Servable, type SignatureRunner, signatureDefs } from "./runtime/servable.js";
export { BundleReader, PartitionedTensor, writeBundle } from "./savedmodel/bundle/index.js";
export { modelMetadataJson, signatureDefMapJson } from "./savedmodel/metadata.js";
export { inspectModelDir, listVersionDirs, type ModelDirContents } from "./savedmodel/model-dir.js";
export {
  type AssetFile,
  DEFAULT_SIGNATURE,
  listTagSets,
  openSavedModel,
  readSavedModel,
  readVariables,
  type SavedModelBundle,
  SERVE_TAGS,
  selectMetaGraph,
} from "./savedmodel/saved-model.js";
export {
  type SavedModelContents,
  type WriteOptions,
  writeSavedModel,
} from "./savedmodel/saved-model-writer.js";
export * from "./tensor/index.js";
export { readNpy, writeNpy } from "./tensor/npy.js";
