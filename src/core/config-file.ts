// The one way the server reads its config files (--model_config_file, --monitoring_config_file,
// --traffic_split_file), so a missing or unreadable one fails with the same status everywhere.
import { readFile } from "node:fs/promises";
import { Code, ServingError } from "../errors.js";

/**
 * A config file's text. Errors as TF Serving's file reads: a missing file is NOT_FOUND
 * `<path>; No such file or directory`, a directory FAILED_PRECONDITION `<path>; Is a directory`,
 * anything else UNAVAILABLE.
 *
 * @example
 * const text = await readConfigFile("/models/models.config");
 */
export async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ServingError(Code.NOT_FOUND, `${path}; No such file or directory`);
    if (code === "EISDIR") throw new ServingError(Code.FAILED_PRECONDITION, `${path}; Is a directory`);
    throw ServingError.from(error, Code.UNAVAILABLE);
  }
}
