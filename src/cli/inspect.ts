import { basename, join } from "node:path";
import { Code, ServingError } from "../errors.js";
import type {
  MetaGraphDef,
  SignatureDef,
  TensorInfo,
} from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { BundleReader } from "../savedmodel/bundle/index.js";
import { modelMetadataJson } from "../savedmodel/metadata.js";
import { inspectModelDir, listVersionDirs } from "../savedmodel/model-dir.js";
import { listTagSets, readSavedModel, selectMetaGraph } from "../savedmodel/saved-model.js";
import { dtypeName } from "../tensor/dtype.js";
import { formatShape, shapeFromProto } from "../tensor/shape.js";

export interface InspectOptions {
  dir: string;
  tagSet?: string;
  signatureDef?: string;
  all?: boolean;
  variables?: boolean;
  json?: boolean;
  modelName?: string;
}

/**
 * `ts-serving inspect`, our `saved_model_cli show`: returns the text to print.
 *
 * @example
 * console.log(await inspect({ dir: "models/ranking_model/1", all: true }));
 */
export async function inspect(
  options: InspectOptions,
  notice: (line: string) => void = () => {},
): Promise<string> {
  const dir = await resolveVersionDir(options.dir, notice);
  const savedModel = await readSavedModel(dir);
  const tags = options.tagSet === undefined ? undefined : splitTags(options.tagSet);

  if (options.json) {
    const metaGraph = selectMetaGraph(savedModel, tags ?? ["serve"], dir);
    const version = /^\d+$/.test(basename(dir)) ? BigInt(basename(dir)).toString() : "";
    const json = modelMetadataJson(options.modelName ?? "default", version, signatureMap(metaGraph));
    return `${JSON.stringify(json, null, 1)}\n`;
  }
  if (options.variables) return listVariables(dir);
  if (options.all) {
    return savedModel.metaGraphs
      .map((metaGraph) => {
        const sigs = sortedSignatures(metaGraph)
          .map(([key, sig]) => `\nsignature_def['${key}']:\n${describeSignature(sig, "  ")}`)
          .join("");
        return `MetaGraphDef with tag-set: ${quoteTags(metaGraph.metaInfoDef?.tags ?? [])} contains the following SignatureDefs:\n${sigs}`;
      })
      .join("\n");
  }
  if (!tags) {
    const sets = listTagSets(savedModel).map((t) => quoteTags(t));
    return `The given SavedModel contains the following tag-sets:\n${sets.join("\n")}\n`;
  }
  const metaGraph = selectMetaGraph(savedModel, tags, dir);
  if (options.signatureDef === undefined) {
    const keys = sortedSignatures(metaGraph).map(([key]) => `SignatureDef key: "${key}"`);
    return `The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:\n${keys.join("\n")}\n`;
  }
  const signature = metaGraph.signatureDef[options.signatureDef];
  if (!signature) {
    const known = sortedSignatures(metaGraph).map(([key]) => key);
    throw new ServingError(
      Code.NOT_FOUND,
      `${dir}: no SignatureDef "${options.signatureDef}" in tag set ${quoteTags(tags)}; known: ${known.join(", ")}`,
    );
  }
  return describeSignature(signature, "");
}

/** A base path (numeric version subdirectories) resolves to its highest version, like TF Serving's default policy. */
async function resolveVersionDir(dir: string, notice: (line: string) => void): Promise<string> {
  try {
    await inspectModelDir(dir);
    return dir;
  } catch (error: unknown) {
    const versions = await listVersionDirs(dir).catch(() => []);
    const latest = versions[0];
    if (!latest) throw error;
    notice(`${dir} is a model base path; inspecting its highest version ${latest.version} (${latest.dir})`);
    return latest.dir;
  }
}

async function listVariables(dir: string): Promise<string> {
  const prefix = join(dir, "variables", "variables");
  let reader: BundleReader;
  try {
    reader = await BundleReader.open(prefix);
  } catch (error: unknown) {
    if (error instanceof ServingError && error.code === Code.NOT_FOUND)
      return "The given SavedModel has no variables.\n";
    throw error;
  }
  try {
    const rows = reader.keys().map((key) => {
      const entry = reader.entry(key);
      const shape = formatShape(shapeFromProto(entry?.shape));
      return { key, dtype: dtypeName(entry?.dtype ?? 0), shape, bytes: Number(entry?.size ?? 0n) };
    });
    const width = Math.max(...rows.map((r) => r.key.length), 3);
    const lines = rows.map(
      (r) => `  ${r.key.padEnd(width)}  ${r.dtype.padEnd(10)}  ${r.shape.padEnd(14)}  ${r.bytes} bytes`,
    );
    const total = rows.reduce((sum, r) => sum + r.bytes, 0);
    return `The given SavedModel has the following variables (checkpoint key, dtype, shape, size):\n${lines.join("\n")}\n${rows.length} variables, ${total} bytes\n`;
  } finally {
    await reader.close();
  }
}

function describeSignature(signature: SignatureDef, indent: string): string {
  const lines: string[] = [];
  const section = (title: string, kind: string, map: Record<string, TensorInfo>) => {
    lines.push(`${indent}The given SavedModel SignatureDef contains the following ${title}(s):`);
    for (const [alias, info] of Object.entries(map).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(
        `${indent}  ${kind}['${alias}'] tensor_info:`,
        ...describeTensorInfo(info, `${indent}      `),
      );
    }
  };
  section("input", "inputs", signature.inputs);
  section("output", "outputs", signature.outputs);
  lines.push(`${indent}Method name is: ${signature.methodName}`);
  return `${lines.join("\n")}\n`;
}

function describeTensorInfo(info: TensorInfo, indent: string): string[] {
  const lines = [
    `${indent}dtype: ${dtypeName(info.dtype)}`,
    `${indent}shape: ${formatShape(shapeFromProto(info.tensorShape))}`,
  ];
  const encoding = info.encoding;
  if (encoding.case === "name") lines.push(`${indent}name: ${encoding.value}`);
  else if (encoding.case === "cooSparse") {
    lines.push(
      `${indent}SparseTensor: indices ${encoding.value.indicesTensorName}, values ${encoding.value.valuesTensorName}, dense_shape ${encoding.value.denseShapeTensorName}`,
    );
  } else if (encoding.case === "compositeTensor") {
    lines.push(`${indent}CompositeTensor with ${encoding.value.components.length} components`);
  }
  return lines;
}

function signatureMap(metaGraph: MetaGraphDef): Map<string, SignatureDef> {
  return new Map(Object.entries(metaGraph.signatureDef));
}

function sortedSignatures(metaGraph: MetaGraphDef): [string, SignatureDef][] {
  return Object.entries(metaGraph.signatureDef).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function splitTags(tagSet: string): string[] {
  return tagSet
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** saved_model_cli prints a tag set as its sorted tags joined by ", " in quotes. */
function quoteTags(tags: readonly string[]): string {
  return `'${[...tags].sort().join(", ")}'`;
}
