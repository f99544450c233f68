// `--grpc_channel_arguments` as TF Serving reads it (server.cc): comma-separated `key=value` pairs,
// each value an int32 when it parses as one, otherwise a string, handed to the gRPC server builder.
import { invalidArgument } from "../../errors.js";

/** gRPC server options by gRPC's argument names, e.g. `grpc.max_receive_message_length`. */
export type GrpcChannelArguments = Readonly<Record<string, number | string>>;

const INT32 = /^[-+]?\d+$/;

/**
 * Parses TF Serving's `--grpc_channel_arguments` text. Values that are int32 numbers become
 * numbers (as `safe_strto32` decides in TF Serving), all others stay strings; a later duplicate key
 * wins; spaces around keys and values are dropped. TF Serving logs and skips a malformed pair; here
 * it is an INVALID_ARGUMENT naming the pair, so a typo in a size limit cannot pass unnoticed.
 *
 * @example
 * parseGrpcChannelArguments("grpc.max_receive_message_length=1073741824,grpc.primary_user_agent=x");
 * // → { "grpc.max_receive_message_length": 1073741824, "grpc.primary_user_agent": "x" }
 */
export function parseGrpcChannelArguments(text: string): GrpcChannelArguments {
  const args: Record<string, number | string> = {};
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const parts = pair.split("=");
    const key = parts[0]?.trim() ?? "";
    const value = parts[1]?.trim() ?? "";
    if (parts.length !== 2 || key === "") {
      throw invalidArgument(
        `--grpc_channel_arguments: "${pair.trim()}" is not key=value (expected e.g. ` +
          "grpc.max_receive_message_length=1073741824,grpc.max_send_message_length=1073741824)",
      );
    }
    args[key] = int32(value) ?? value;
  }
  return args;
}

function int32(text: string): number | undefined {
  if (!INT32.test(text)) return undefined;
  const n = Number(text);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : undefined;
}
