// Reads a server argument list (a container's args, what the entrypoint builds) with the real
// `ts-serving` flag table, so a misspelt or unknown flag in a manifest fails the tests.
import { Command } from "commander";
import { addServerFlags, type ServerFlags, serverFlags } from "../../src/cli/server-flags.js";

/**
 * Parses `args` as the `ts-serving` server command does; throws on an unknown flag or a bad value.
 *
 * @example
 * parseServerArgs(["--port=8500", "--model_name=ranking"]).string("model_name"); // "ranking"
 */
export function parseServerArgs(args: readonly string[]): ServerFlags {
  const command = addServerFlags(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  command.parse([...args], { from: "user" });
  return serverFlags(command.opts());
}
