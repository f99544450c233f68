// `ts-serving new-api-key`: makes a random API key and the line that authorizes it in --auth_api_keys_file.
import type { Command } from "commander";
import { newApiKey } from "../security/api-keys.js";

/**
 * Adds the `new-api-key` subcommand: prints the key (give it to the caller once; it is not stored) and
 * the hashed line to append to the keys file.
 *
 * @example
 * addApiKeyCommand(program, (text) => process.stdout.write(text));
 * // $ ts-serving new-api-key --name ci-job --models half_plus_two
 */
export function addApiKeyCommand(program: Command, write: (text: string) => void): void {
  program
    .command("new-api-key")
    .description(
      "Make a random API key and print it with its line for --auth_api_keys_file (docs/security.md).",
    )
    .requiredOption("--name <name>", "caller name, shown in errors and logs instead of the key")
    .option("--models <models>", "comma-separated models the key may use (default: every model)")
    .action((opts: { name: string; models?: string }) => {
      const models = (opts.models ?? "").split(",").filter((m) => m !== "");
      const { key, line } = newApiKey(opts.name, models);
      write(
        `API key (shown once; give it to the caller):\n  ${key}\nLine for --auth_api_keys_file:\n  ${line}\n`,
      );
    });
}
