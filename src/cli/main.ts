#!/usr/bin/env node
import { Command } from "commander";
import { ServingError } from "../errors.js";
import { ensureDefaultModel } from "./default-model.js";
import { inspect } from "./inspect.js";
import { runCommand } from "./run.js";

const program = new Command();

program
  .name("ts-serving")
  .description("TensorFlow Serving for Node.js: serve SavedModels and ONNX models over TF Serving's APIs.")
  .version("0.1.0")
  .showHelpAfterError()
  .action(async () => {
    // The model server arrives with the serving core; until then the default command prepares and
    // describes the embedded default model.
    const { basePath, created } = await ensureDefaultModel();
    process.stdout.write(
      `${created ? "Wrote" : "Found"} the default model ranking_model at ${basePath}/1\n\n`,
    );
    process.stdout.write(await inspect({ dir: `${basePath}/1`, all: true }));
    process.stdout.write(`\n${await inspect({ dir: `${basePath}/1`, variables: true })}`);
  });

program
  .command("inspect")
  .alias("show")
  .description("Show a SavedModel's tag sets, signatures and variables, like saved_model_cli show.")
  .requiredOption("--dir <dir>", "SavedModel version directory (or a base path: its highest version is used)")
  .option("--tag_set <tags>", "comma-separated tag set of the MetaGraphDef to show, e.g. serve")
  .option("--signature_def <key>", "show the inputs and outputs of this SignatureDef (needs --tag_set)")
  .option("--all", "show every MetaGraphDef and SignatureDef")
  .option("--variables", "list the variables: checkpoint key, dtype, shape and size")
  .option("--json", "print the signature map as TF Serving's GetModelMetadata JSON")
  .option("--model_name <name>", "model name to put in the --json model_spec", "default")
  .action(async (opts: Record<string, string | boolean | undefined>) => {
    const text = await inspect(
      {
        dir: String(opts.dir),
        ...(typeof opts.tag_set === "string" ? { tagSet: opts.tag_set } : {}),
        ...(typeof opts.signature_def === "string" ? { signatureDef: opts.signature_def } : {}),
        all: opts.all === true,
        variables: opts.variables === true,
        json: opts.json === true,
        modelName: String(opts.model_name),
      },
      (line) => process.stderr.write(`${line}\n`),
    );
    process.stdout.write(text);
  });

program
  .command("run")
  .description("Run a SignatureDef on given inputs and print or save its outputs, like saved_model_cli run.")
  .requiredOption("--dir <dir>", "SavedModel version directory")
  .option("--tag_set <tags>", "comma-separated tag set of the MetaGraphDef to load (default: serve)")
  .option("--signature_def <key>", "SignatureDef key to run", "serving_default")
  .option("--inputs <inputs>", "'<input_key>=<filename>.npy' pairs separated by ';'")
  .option(
    "--input_exprs <exprs>",
    "'<input_key>=<python expression>' pairs separated by ';', e.g. 'x=[[1.0], [2.0]];y=np.ones((2, 3))'",
  )
  .option(
    "--input_examples <examples>",
    "'<input_key>=[{\"feature\": [values]}, ...]' pairs separated by ';': serialized tf.Example inputs",
  )
  .option("--outdir <dir>", "save each output as <outdir>/<output_key>.npy instead of printing it")
  .option("--overwrite", "with --outdir, overwrite existing .npy files")
  .action(async (opts: Record<string, string | boolean | undefined>) => {
    const text = (value: unknown) => (typeof value === "string" ? value : undefined);
    await runCommand(
      {
        dir: String(opts.dir),
        tagSet: text(opts.tag_set),
        signatureDef: text(opts.signature_def),
        inputs: text(opts.inputs),
        inputExprs: text(opts.input_exprs),
        inputExamples: text(opts.input_examples),
        outdir: text(opts.outdir),
        overwrite: opts.overwrite === true,
      },
      (chunk) => process.stdout.write(chunk),
    );
  });

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  // Users get one line; TS_SERVING_DEBUG=1 shows the stack.
  const serving = ServingError.from(error);
  process.stderr.write(`ts-serving: error: ${serving.message}\n`);
  if (process.env.TS_SERVING_DEBUG) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
  process.exitCode = 1;
}
