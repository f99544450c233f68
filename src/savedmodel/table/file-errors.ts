import { Code, ServingError } from "../../errors.js";

/**
 * Turns a Node fs error into a ServingError naming the file: a missing file is
 * NOT_FOUND (as TF reports it), no permission PERMISSION_DENIED, anything else UNKNOWN.
 */
export function fileError(path: string, error: unknown, what = "missing file"): ServingError {
  if (error instanceof ServingError) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (errno === "ENOENT")
    return new ServingError(Code.NOT_FOUND, `${path}: ${what} (ENOENT)`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  const code = errno === "EACCES" || errno === "EPERM" ? Code.PERMISSION_DENIED : Code.UNKNOWN;
  return new ServingError(code, `${path}: cannot read: ${message}`, { cause: error });
}
