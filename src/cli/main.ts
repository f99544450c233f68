#!/usr/bin/env node
import { Command } from "commander";
import { ServingError } from "../errors.js";
import { RANKING_MODEL } from "../export/ranking-model.js";
import { lifecycleLog } from "../observability/logger.js";
import { addApiKeyCommand } from "./api-key-command.js";
import { inspect } from "./inspect.js";
import { addPushCommand } from "./push.js";
import { addRolloutCommands } from "./rollout-commands.js";
import { runCommand } from "./run.js";
import { type RunningServer, reloadConfigFile, startModelServer } from "./serve.js";
import { addServerFlags, type ServerFlags, serverFlags } from "./server-flags.js";

const VERSION = "0.1.0";

const program = new Command();

addServerFlags(program)
  .name("ts-serving")
  .description(
    "TensorFlow Serving for Node.js. Without a subcommand: the model server, with tensorflow_model_server's flags\n" +
      "(no model flags: serves the embedded ranking_model). Subcommands: inspect, run, push, rollout, rollback.",
  )
  .version(VERSION, "--ts_serving_version", "print the ts-serving version")
  .showHelpAfterError()
  // Server flags only before a subcommand: `rollout --version 2` is the subcommand's --version.
  .enablePositionalOptions()
  .action(async (opts: Record<string, unknown>) => {
    const flags = serverFlags(opts);
    if (flags.bool("version")) {
      process.stdout.write(
        `TensorFlow ModelServer: ts-serving ${VERSION}\nTensorFlow Library: none (onnxruntime)\n`,
      );
      return;
    }
    // Text lines for people by default; --log_format=json for log pipelines (docs/observability.md).
    const log = lifecycleLog(flags.string("log_format") === "json" ? "json" : "text");
    const server = await startModelServer(flags, log);
    announce(server, flags);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: draining in-flight requests and unloading models`);
      server.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`shutdown failed: ${ServingError.from(error).message}`);
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGHUP", () => {
      const path = flags.string("model_config_file");
      if (path === "" && !server.trafficSplit) log("SIGHUP: no --model_config_file to reload");
      // The config first: a split may name labels that the new config defines.
      const config = path === "" ? Promise.resolve() : reloadConfigFile(server.core, path, log);
      void config.then(() => server.trafficSplit?.reload(true));
    });
  });

/** The ready line, and for the default model a curl command to paste. */
function announce(server: RunningServer, flags: ServerFlags): void {
  const port = server.restPort;
  const models = server.core.models().map((m) => m.name);
  const origin = `${server.restTls ? "https" : "http"}://localhost:${port}`;
  const rest = port ? ` REST on ${origin}` : "";
  const grpc = server.grpcPort ? ` gRPC on localhost:${server.grpcPort}` : "";
  process.stdout.write(`ts-serving ready: ${models.join(", ")};${rest}${grpc}\n`);
  if (!port || flags.string("model_base_path") !== "" || flags.string("model_config_file") !== "") return;
  const row = Array.from({ length: RANKING_MODEL.features }, (_, i) => ((i % 7) / 10).toFixed(1)).join(", ");
  process.stdout.write(
    `\nTry it:\n  curl -s ${origin}/v1/models/${models[0]}:predict -d '{"instances": [[${row}]]}'\n` +
      `  curl -s ${origin}/v1/models/${models[0]}\n  curl -s ${origin}/v1/models/${models[0]}/metadata\n`,
  );
}

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

addRolloutCommands(program, (text) => process.stdout.write(text));
addApiKeyCommand(program, (text) => process.stdout.write(text));
addPushCommand(program, (text) => process.stdout.write(text));

try {
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  // Users get one line; TS_SERVING_DEBUG=1 shows the stack.
  const serving = ServingError.from(error);
  process.stderr.write(`ts-serving: error: ${serving.message}\n`);
  if (process.env.TS_SERVING_DEBUG) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
  process.exitCode = 1;
}
