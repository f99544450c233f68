import { invalidArgument, notFound } from "../errors.js";
import { loadServable } from "../runtime/servable.js";
import { parseRunInputs } from "./run-inputs.js";
import { formatRunOutputs, saveRunOutputs } from "./run-output.js";

export interface RunCommandOptions {
  /** SavedModel (or ONNX model) version directory. */
  dir: string;
  /** Comma-separated tag set of the MetaGraphDef to load; the serve tags when absent. */
  tagSet?: string;
  /** SignatureDef key; serving_default when absent. */
  signatureDef?: string;
  /** `<key>=<file.npy>;...` */
  inputs?: string;
  /** `<key>=<Python expression>;...` */
  inputExprs?: string;
  /** `<key>=[{feature: [values]}, ...];...` */
  inputExamples?: string;
  /** Save each output as `<outdir>/<key>.npy` instead of printing it. */
  outdir?: string;
  /** With outdir: replace existing .npy files. */
  overwrite?: boolean;
}

/**
 * `ts-serving run`, our `saved_model_cli run`: loads the model, feeds the inputs to one signature and
 * prints each output (`Result for output key <key>:` and the NumPy-style array), or saves them as .npy
 * files under `outdir` (`Output <key> is saved to <path>`). Text goes to `out`.
 *
 * @example
 * await runCommand({ dir: "models/half_plus_two/1", inputExprs: "x=[1.0, 2.0]" }, (t) => process.stdout.write(t));
 */
export async function runCommand(options: RunCommandOptions, out: (text: string) => void): Promise<void> {
  if (
    options.inputs === undefined &&
    options.inputExprs === undefined &&
    options.inputExamples === undefined
  ) {
    throw invalidArgument("At least one of --inputs, --input_exprs or --input_examples must be given");
  }
  const tags = options.tagSet
    ?.split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const servable = await loadServable(options.dir, tags && tags.length > 0 ? { tags } : {});
  try {
    const key = options.signatureDef ?? "serving_default";
    const runner = servable.signatures.get(key);
    if (!runner) {
      const known = [...servable.signatures.keys()].sort();
      throw notFound(
        `${options.dir}: no SignatureDef "${key}"${tags ? ` in tag set '${[...tags].sort().join(", ")}'` : ""}; available: ${known.join(", ") || "none"}`,
      );
    }
    const feed = await parseRunInputs(options, runner.def);
    const outputs = await runner.run(feed);
    if (options.outdir !== undefined) {
      out(await saveRunOutputs(outputs, options.outdir, { overwrite: options.overwrite === true }));
    } else {
      out(formatRunOutputs(outputs));
    }
  } finally {
    await servable.close();
  }
}
