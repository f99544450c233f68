// Protobuf text format — the syntax of TF Serving's config files and of
// saved_model.pbtxt — through @bufbuild/protobuf's own reader and writer.
import type { DescMessage, MessageShape, Registry } from "@bufbuild/protobuf";
import { fromText, toText } from "@bufbuild/protobuf/txtpb";
import { invalidArgument } from "../errors.js";

/**
 * Parses `text` as a `schema` message in protobuf text format: TF Serving's
 * config files (--model_config_file, --batching_parameters_file,
 * --monitoring_config_file, --ssl_config_file, --platform_config_file) and
 * saved_model.pbtxt.
 *
 * `source` names the text in errors (a file name); `registry` resolves the
 * expanded form of google.protobuf.Any (`[type.googleapis.com/pkg.Msg] { ... }`).
 * Throws a ServingError (INVALID_ARGUMENT) reading "<source>: <problem>"; an
 * unknown field name that no message of `schema` declares gets " (line N)",
 * the first line using it as a field name.
 *
 * @example
 * const config = parseTextProto(ModelServerConfigSchema, readFileSync(path, "utf8"), path);
 * // on a typo: 'models.config: unknown field "nme" for message tensorflow.serving.ModelConfig (line 3)'
 */
export function parseTextProto<Desc extends DescMessage>(
  schema: Desc,
  text: string,
  source = "text proto",
  registry?: Registry,
): MessageShape<Desc> {
  try {
    return fromText(schema, text, { registry });
  } catch (error) {
    const problem = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
    throw invalidArgument(`${source}: ${problem}${unknownFieldHint(schema, registry, text, problem)}`);
  }
}

/**
 * Prints a message in protobuf text format, as txtpbfmt lays it out: set fields
 * only, in declaration order, `name: {` blocks with a two-space indent, map
 * entries in insertion order. With a `registry`, an Any whose type it knows is
 * printed in expanded form. The output reads back with parseTextProto.
 *
 * @example
 * writeFileSync("saved_model.pbtxt", printTextProto(SavedModelSchema, savedModel));
 */
export function printTextProto<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  registry?: Registry,
): string {
  return toText(schema, message, { registry });
}

/**
 * " (line N)" for `unknown field "X"` when the line is certain: no message reachable
 * from `schema` or in `registry` declares X (so every use of X fails and the parser
 * stops at the first), and a line uses X as a field name outside a comment.
 */
function unknownFieldHint(
  schema: DescMessage,
  registry: Registry | undefined,
  text: string,
  problem: string,
) {
  const name = /^unknown field "([A-Za-z_]\w*)"/.exec(problem)?.[1];
  const roots = [schema, ...[...(registry ?? [])].filter((t): t is DescMessage => t.kind === "message")];
  if (name === undefined || declaredFieldNames(roots).has(name)) return "";
  for (const use of text.matchAll(new RegExp(`(?:^|[\\s{<,;])(?=${name}\\s*[:{<])`, "g"))) {
    const at = use.index + use[0].length;
    const lineStart = text.lastIndexOf("\n", at - 1) + 1;
    if (!text.slice(lineStart, at).includes("#")) return ` (line ${text.slice(0, at).split("\n").length})`;
  }
  return "";
}

/** The field names of every message reachable from `roots`. */
function declaredFieldNames(roots: DescMessage[]): Set<string> {
  const names = new Set<string>();
  const messages = new Set(roots);
  for (const desc of messages) {
    for (const field of desc.fields) {
      names.add(field.name);
      if (field.message !== undefined) messages.add(field.message);
    }
  }
  return names;
}
