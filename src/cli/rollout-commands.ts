// The `rollout` and `rollback` subcommands' flags (the work is in rollout.ts).
import type { Command } from "commander";
import { invalidArgument } from "../errors.js";
import { type RollbackOptions, type RolloutOptions, rollback, rollout } from "./rollout.js";

type Opts = Record<string, string | boolean | undefined>;

/**
 * Adds `ts-serving rollout` and `ts-serving rollback` to `program`; they print what they changed.
 *
 * @example
 * addRolloutCommands(program); // ts-serving rollout --config models.config --model ranking --version 2 --canary 10
 */
export function addRolloutCommands(program: Command, write: (text: string) => void): Command {
  const common = (command: Command) =>
    command
      .requiredOption("--model <name>", "the model, as named in the model config")
      .option(
        "--config <path>",
        "the server's --model_config_file (checked; rollout widens its version policy so both versions load)",
      )
      .option(
        "--split_file <path>",
        "the server's --traffic_split_file (default: traffic_split.json beside --config)",
      )
      .option("--stable <version|label>", "the stable target (default: the one the split file records)");

  common(
    program
      .command("rollout")
      .description(
        "Send a percentage of a model's traffic to a canary version; the server applies it at its next config poll or SIGHUP (docs/canary.md).",
      ),
  )
    .requiredOption(
      "--canary <percent>",
      "share of the traffic for the canary, an integer 0..100 (100: full rollout)",
    )
    .option(
      "--version <N>",
      "the canary version (default: the `canary` label, or the split's current canary)",
    )
    .option("--sticky_header <name>", "request header / gRPC metadata key that pins each key to one version")
    .action(async (opts: Opts) => {
      const canary = text(opts.canary) ?? "";
      if (!/^\d+$/.test(canary)) throw invalidArgument(`--canary=${canary}: expected an integer 0..100`);
      const version = text(opts.version);
      if (version !== undefined && !/^\d+$/.test(version)) {
        throw invalidArgument(`--version=${version}: expected a version number`);
      }
      const options: RolloutOptions = {
        ...shared(opts),
        canary: Number(canary),
        ...(version === undefined ? {} : { version: BigInt(version) }),
        ...(text(opts.sticky_header) === undefined ? {} : { stickyHeader: text(opts.sticky_header) }),
      };
      write(await rollout(options));
    });

  common(
    program
      .command("rollback")
      .description(
        "Send all of a model's traffic back to its stable version; the server applies it at its next config poll or SIGHUP.",
      ),
  ).action(async (opts: Opts) => {
    write(await rollback(shared(opts)));
  });
  return program;
}

function shared(opts: Opts): RollbackOptions {
  const optional = (key: "stable" | "splitFile" | "config", value: string | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    model: text(opts.model) ?? "",
    ...optional("stable", text(opts.stable)),
    ...optional("splitFile", text(opts.split_file)),
    ...optional("config", text(opts.config)),
  };
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
