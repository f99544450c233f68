import { basename } from "node:path";
import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ServingError } from "../errors.js";

/**
 * Decodes a binary protobuf file. A corrupt or truncated file becomes a one-line DATA_LOSS
 * error naming the file, the byte offset and the field path where decoding broke, e.g.
 * `saved_model.pb: corrupt protobuf at byte 8123 (meta_graphs[0].graph_def.node[12]): premature EOF`.
 *
 * @example
 * const model = decodeProtoFile(SavedModelSchema, bytes, "/models/m/1/saved_model.pb");
 */
export function decodeProtoFile<Desc extends DescMessage>(
  schema: Desc,
  bytes: Uint8Array,
  path: string,
): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = locateDecodeError(schema, bytes);
    const at = where ? ` at byte ${where.offset}${where.path ? ` (${where.path})` : ""}` : "";
    throw new ServingError(
      Code.DATA_LOSS,
      `${basename(path)}: corrupt protobuf${at}: ${where?.reason ?? reason} [${path}, ${bytes.byteLength} bytes]`,
      { cause: error },
    );
  }
}

interface DecodeFailure {
  offset: number;
  path: string;
  reason: string;
}

/**
 * Walks the wire format guided by the schema to find the first structural fault.
 * Only runs after decoding failed, so it favours clarity over speed.
 */
export function locateDecodeError(
  schema: DescMessage,
  bytes: Uint8Array,
  base = 0,
  path = "",
): DecodeFailure | undefined {
  const reader = new BinaryReader(bytes);
  const counts = new Map<number, number>();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    let fieldNo: number;
    let wireType: WireType;
    try {
      [fieldNo, wireType] = reader.tag();
    } catch (error: unknown) {
      return { offset: base + start, path, reason: messageOf(error) };
    }
    const field = schema.fields.find((f) => f.number === fieldNo);
    const index = counts.get(fieldNo) ?? 0;
    counts.set(fieldNo, index + 1);
    const fieldPath = field
      ? joinPath(path, field.name, field.fieldKind === "scalar" ? undefined : index)
      : path;
    if (wireType === WireType.LengthDelimited) {
      let length: number;
      try {
        length = reader.uint32();
      } catch (error: unknown) {
        return { offset: base + start, path: fieldPath, reason: messageOf(error) };
      }
      if (reader.pos + length > reader.len) {
        return {
          offset: base + start,
          path: fieldPath,
          reason: `field ${fieldNo} claims ${length} bytes but only ${reader.len - reader.pos} remain (truncated?)`,
        };
      }
      const body = bytes.subarray(reader.pos, reader.pos + length);
      const inner = field && nestedMessage(field);
      if (inner) {
        const failure = locateDecodeError(inner, body, base + reader.pos, fieldPath);
        if (failure) return failure;
      }
      reader.pos += length;
      continue;
    }
    try {
      reader.skip(wireType, fieldNo);
    } catch (error: unknown) {
      return { offset: base + start, path: fieldPath, reason: messageOf(error) };
    }
  }
  return undefined;
}

/** The message type carried by a length-delimited field, including map entries' message values. */
function nestedMessage(field: DescMessage["fields"][number]): DescMessage | undefined {
  switch (field.fieldKind) {
    case "message":
      return field.message;
    case "list":
      return field.listKind === "message" ? field.message : undefined;
    case "map":
      // A map entry is a message {1: key, 2: value}; only message values can hide faults worth naming.
      return undefined;
    default:
      return undefined;
  }
}

function joinPath(path: string, name: string, index: number | undefined): string {
  const part = index === undefined ? name : `${name}[${index}]`;
  return path ? `${path}.${part}` : part;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
