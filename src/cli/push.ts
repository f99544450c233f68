// The `push` subcommand: publish a model version to a local or s3:// model repository (the work is
// in core/publish.ts; the protocol in docs/s3.md).
import { isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { publishVersion } from "../core/publish.js";
import { invalidArgument } from "../errors.js";

type Opts = Record<string, string | boolean | undefined>;

/**
 * Adds `ts-serving push` to `program`; it prints the version it published.
 *
 * @example
 * addPushCommand(program, (t) => process.stdout.write(t)); // ts-serving push --dir ./export --to s3://b/models/ranking
 */
export function addPushCommand(program: Command, write: (text: string) => void): Command {
  return program
    .command("push")
    .description(
      "Publish a SavedModel/ONNX version directory to a model base path (a local path or s3://bucket/prefix) so that servers never see it half-written (docs/s3.md).",
    )
    .requiredOption(
      "--dir <dir>",
      "the version directory to publish (saved_model.pb + variables/, or model.onnx)",
    )
    .requiredOption(
      "--to <base_path>",
      "the model's base path: /models/ranking or s3://bucket/models/ranking",
    )
    .option("--version <N>", "version number (default: the highest version under --to, plus 1)")
    .option(
      "--s3_endpoint <url>",
      "S3 endpoint for s3:// (MinIO, moto...; default: env S3_ENDPOINT, AWS_ENDPOINT_URL, else AWS)",
    )
    .action(async (opts: Opts) => {
      const version = typeof opts.version === "string" ? opts.version : undefined;
      if (version !== undefined && !/^\d+$/.test(version)) {
        throw invalidArgument(`--version=${version}: expected a version number`);
      }
      const to = String(opts.to);
      const endpoint = typeof opts.s3_endpoint === "string" ? opts.s3_endpoint : undefined;
      const result = await publishVersion({
        dir: String(opts.dir),
        // A relative local target is taken from the working directory (servers need absolute paths).
        to: /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(to) || isAbsolute(to) ? to : resolve(to),
        ...(version === undefined ? {} : { version: BigInt(version) }),
        ...(endpoint ? { s3: { endpoint } } : {}),
      });
      write(
        `published version ${result.version} at ${result.location} (${result.files} files, ${result.bytes} bytes)\n`,
      );
    });
}
