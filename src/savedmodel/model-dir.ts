import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Code, ServingError } from "../errors.js";

/** What a version directory holds, decided from its file names alone. */
export type ModelDirContents =
  | { readonly kind: "savedmodel"; readonly file: "saved_model.pb" | "saved_model.pbtxt" }
  | { readonly kind: "onnx"; readonly file: string };

const FOREIGN_FORMATS: readonly { test: (names: ReadonlySet<string>) => boolean; what: string }[] = [
  {
    test: (n) => n.has("export.meta") || (n.has("export") && n.has("checkpoint")),
    what: "a legacy TF Serving SessionBundle (export.meta + export checkpoint), not a SavedModel; re-export it with tf.saved_model.save",
  },
  {
    test: (n) => [...n].some((f) => f.endsWith(".tflite")),
    what: "a TensorFlow Lite model (.tflite); ts-serving serves SavedModels and ONNX models",
  },
  {
    test: (n) => n.has("saved_model.cpb"),
    what: "a chunked SavedModel (saved_model.cpb, TF >= 2.13 for protos over 2 GiB), which is not supported yet",
  },
  {
    test: (n) => [...n].some((f) => f.endsWith(".h5") || f.endsWith(".keras")),
    what: "a Keras model file (.h5/.keras); export a SavedModel with model.export(path) or tf.saved_model.save",
  },
  {
    test: (n) => n.has("checkpoint") || [...n].some((f) => f.endsWith(".index")),
    what: "a TensorFlow training checkpoint, not a SavedModel",
  },
  {
    test: (n) => n.has("model.json"),
    what: "a TensorFlow.js model (model.json), not a SavedModel",
  },
];

/**
 * Decides what a model version directory holds. Anything that is neither a SavedModel nor an ONNX
 * model is a NOT_FOUND error that says what was found instead.
 *
 * @example
 * const contents = await inspectModelDir("/models/ranking/1"); // { kind: "savedmodel", file: "saved_model.pb" }
 */
export async function inspectModelDir(dir: string): Promise<ModelDirContents> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ServingError(Code.NOT_FOUND, `${dir}: no such directory`);
    if (code === "ENOTDIR") throw new ServingError(Code.INVALID_ARGUMENT, `${dir}: not a directory`);
    throw ServingError.from(error, Code.UNAVAILABLE);
  }
  const names = new Set(entries);
  if (names.has("saved_model.pb")) return { kind: "savedmodel", file: "saved_model.pb" };
  if (names.has("saved_model.pbtxt")) return { kind: "savedmodel", file: "saved_model.pbtxt" };
  if (names.has("model.onnx")) return { kind: "onnx", file: "model.onnx" };
  const onnx = entries.filter((f) => f.endsWith(".onnx"));
  if (onnx.length === 1 && onnx[0]) return { kind: "onnx", file: onnx[0] };

  const foreign = FOREIGN_FORMATS.find((f) => f.test(names));
  const listing = entries.length === 0 ? "it is empty" : `found: ${entries.sort().slice(0, 8).join(", ")}`;
  const what = foreign ? `it holds ${foreign.what}` : "no saved_model.pb, saved_model.pbtxt or model.onnx";
  throw new ServingError(Code.NOT_FOUND, `${dir} is not a SavedModel: ${what} (${listing})`);
}

/** Numeric version subdirectories of a model base path, highest first (TF Serving's rule: int64 names, leading zeros fine). */
export async function listVersionDirs(basePath: string): Promise<{ version: bigint; dir: string }[]> {
  const entries = await readdir(basePath, { withFileTypes: true });
  const versions = entries
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name) && BigInt(e.name) <= 0x7fffffffffffffffn)
    .map((e) => ({ version: BigInt(e.name), dir: join(basePath, e.name) }));
  return versions.sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));
}
