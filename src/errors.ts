import { Code } from "./proto/gen/tensorflow/core/protobuf/error_codes_pb.js";

export { Code };

/**
 * The one error type of ts-serving: a message and a gRPC-style status code.
 * The REST layer maps the code to an HTTP status as TF Serving does; the CLI
 * prints the message on one line and exits non-zero.
 *
 * @example
 * throw new ServingError(Code.NOT_FOUND, "Servable not found for request: Latest(ranking)");
 */
export class ServingError extends Error {
  override readonly name = "ServingError";

  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The code's name as TF Serving prints it, e.g. "INVALID_ARGUMENT". */
  get codeName(): string {
    return Code[this.code] ?? "UNKNOWN";
  }

  /** Wraps anything thrown; a ServingError passes through unchanged. */
  static from(error: unknown, code: Code = Code.INTERNAL): ServingError {
    if (error instanceof ServingError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ServingError(code, message, { cause: error });
  }
}

export const invalidArgument = (message: string): ServingError =>
  new ServingError(Code.INVALID_ARGUMENT, message);
export const notFound = (message: string): ServingError => new ServingError(Code.NOT_FOUND, message);
export const dataLoss = (message: string): ServingError => new ServingError(Code.DATA_LOSS, message);
export const unimplemented = (message: string): ServingError => new ServingError(Code.UNIMPLEMENTED, message);
export const failedPrecondition = (message: string): ServingError =>
  new ServingError(Code.FAILED_PRECONDITION, message);
