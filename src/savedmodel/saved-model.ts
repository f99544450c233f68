import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ServingError } from "../errors.js";
import {
  type FingerprintDef,
  FingerprintDefSchema,
} from "../proto/gen/tensorflow/core/protobuf/fingerprint_pb.js";
import {
  type AssetFileDef,
  AssetFileDefSchema,
  type MetaGraphDef,
  type SignatureDef,
} from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { type SavedModel, SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import { parseTextProto } from "../proto/text-format.js";
import type { Tensor } from "../tensor/tensor.js";
import { readBundle } from "./bundle/index.js";
import { inspectModelDir } from "./model-dir.js";
import { decodeProtoFile } from "./proto-file.js";

/** The tag set TF Serving loads by default. */
export const SERVE_TAGS: readonly string[] = ["serve"];

/** Signature key TF Serving uses when a request names none. */
export const DEFAULT_SIGNATURE = "serving_default";

/** An asset file a graph reads at init: the tensor fed with its path, and the path on disk. */
export interface AssetFile {
  readonly tensorName: string;
  readonly filename: string;
  readonly path: string;
  /**
   * Whether the file is there. A missing asset is not an error here: TF1 exports often only store the
   * path in a variable and never open the file (TF Serving's own test models lack assets/ this way);
   * the engine fails the load when a graph really reads a missing asset.
   */
  readonly exists: boolean;
}

/** One SavedModel version directory, opened: the chosen MetaGraphDef and what lies around it. */
export interface SavedModelBundle {
  readonly dir: string;
  readonly savedModel: SavedModel;
  readonly metaGraph: MetaGraphDef;
  readonly tags: readonly string[];
  readonly signatures: ReadonlyMap<string, SignatureDef>;
  readonly assets: readonly AssetFile[];
  /** File names under assets.extra/ (warmup requests, saved_model_config.pb...). */
  readonly assetsExtra: readonly string[];
  readonly fingerprint: FingerprintDef | undefined;
  /** `<dir>/variables/variables` when the model has variables, else undefined. */
  readonly variablesPrefix: string | undefined;
}

/**
 * Reads saved_model.pb (or saved_model.pbtxt) of a version directory.
 *
 * @example
 * const savedModel = await readSavedModel("/models/half_plus_two/00000123");
 */
export async function readSavedModel(dir: string): Promise<SavedModel> {
  const contents = await inspectModelDir(dir);
  if (contents.kind !== "savedmodel") {
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      `${dir} holds an ONNX model (${contents.file}), not a SavedModel`,
    );
  }
  const path = join(dir, contents.file);
  const bytes = await readFile(path);
  const savedModel =
    contents.file === "saved_model.pb"
      ? decodeProtoFile(SavedModelSchema, bytes, path)
      : parseTextProto(SavedModelSchema, bytes.toString("utf8"), path);
  if (savedModel.metaGraphs.length === 0) {
    throw new ServingError(Code.DATA_LOSS, `${contents.file}: holds no MetaGraphDef [${path}]`);
  }
  return savedModel;
}

/** The tag sets of a SavedModel's MetaGraphDefs, as saved_model_cli lists them. */
export function listTagSets(savedModel: SavedModel): string[][] {
  return savedModel.metaGraphs.map((m) => [...(m.metaInfoDef?.tags ?? [])]);
}

/** Picks the MetaGraphDef whose tag set equals `tags` (order does not matter), as TF's loader does. */
export function selectMetaGraph(savedModel: SavedModel, tags: readonly string[], dir: string): MetaGraphDef {
  const wanted = new Set(tags);
  const found = savedModel.metaGraphs.find((m) => {
    const have = new Set(m.metaInfoDef?.tags ?? []);
    return have.size === wanted.size && [...wanted].every((t) => have.has(t));
  });
  if (found) return found;
  const available = listTagSets(savedModel)
    .map((t) => `{${t.join(",")}}`)
    .join(" ");
  throw new ServingError(
    Code.NOT_FOUND,
    `${dir}: no MetaGraphDef with tag set {${tags.join(",")}}; available tag sets: ${available}`,
  );
}

/**
 * Opens a SavedModel version directory: reads the proto, picks the MetaGraphDef by tags, resolves assets,
 * reads fingerprint.pb and lists assets.extra/. Variables are read later through `variablesPrefix`.
 *
 * @example
 * const bundle = await openSavedModel("/models/half_plus_two/00000123");
 * bundle.signatures.get("serving_default")?.methodName; // "tensorflow/serving/predict"
 */
export async function openSavedModel(
  dir: string,
  options: { tags?: readonly string[] } = {},
): Promise<SavedModelBundle> {
  const tags = options.tags ?? SERVE_TAGS;
  const savedModel = await readSavedModel(dir);
  const metaGraph = selectMetaGraph(savedModel, tags, dir);
  const [assets, assetsExtra, fingerprint, variablesPrefix] = await Promise.all([
    resolveAssets(metaGraph, dir),
    listAssetsExtra(dir),
    readFingerprint(dir),
    findVariables(dir),
  ]);
  return {
    dir,
    savedModel,
    metaGraph,
    tags,
    signatures: new Map(Object.entries(metaGraph.signatureDef)),
    assets,
    assetsExtra,
    fingerprint,
    variablesPrefix,
  };
}

/** AssetFileDefs from the MetaGraphDef, or from the TF1 `saved_model_assets` collection where old exporters put them. */
export function assetFileDefs(metaGraph: MetaGraphDef): AssetFileDef[] {
  if (metaGraph.assetFileDef.length > 0) return metaGraph.assetFileDef;
  const collection = metaGraph.collectionDef.saved_model_assets?.kind;
  if (collection?.case !== "anyList") return [];
  return collection.value.value
    .map((any) => anyUnpack(any, AssetFileDefSchema))
    .filter((def): def is AssetFileDef => def !== undefined);
}

async function resolveAssets(metaGraph: MetaGraphDef, dir: string): Promise<AssetFile[]> {
  return Promise.all(
    assetFileDefs(metaGraph).map(async (def) => {
      const path = join(dir, "assets", def.filename);
      return {
        tensorName: def.tensorInfo?.encoding.case === "name" ? def.tensorInfo.encoding.value : "",
        filename: def.filename,
        path,
        exists: await access(path).then(
          () => true,
          () => false,
        ),
      };
    }),
  );
}

async function listAssetsExtra(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, "assets.extra"))).sort();
  } catch {
    return [];
  }
}

async function readFingerprint(dir: string): Promise<FingerprintDef | undefined> {
  const path = join(dir, "fingerprint.pb");
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  return decodeProtoFile(FingerprintDefSchema, bytes, path);
}

async function findVariables(dir: string): Promise<string | undefined> {
  const prefix = join(dir, "variables", "variables");
  try {
    await access(`${prefix}.index`);
    return prefix;
  } catch {
    return undefined;
  }
}

/**
 * Reads every variable of a SavedModel (checkpoint key → value), verifying each checksum.
 * A model without variables/ yields an empty map.
 */
export async function readVariables(bundle: SavedModelBundle): Promise<Map<string, Tensor>> {
  return bundle.variablesPrefix ? readBundle(bundle.variablesPrefix) : new Map();
}
