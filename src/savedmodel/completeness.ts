import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import { BundleReader, dataFilename } from "./bundle/index.js";
import { inspectModelDir } from "./model-dir.js";
import { decodeProtoFile } from "./proto-file.js";

/**
 * Whether a version directory holds a whole model yet, judged from its contents rather than its
 * file names: saved_model.pb parses; when the graph has a Saver (it restores variables), the
 * variables index opens with every block checksum valid and every shard holds the bytes its entries
 * point at. A copy in progress fails one of these (a truncated pb does not parse, a shard is short),
 * whatever order the files arrive in. Returns the reason when incomplete.
 *
 * @example
 * const { complete, reason } = await modelDirComplete("/models/ranking/2");
 */
export async function modelDirComplete(dir: string): Promise<{ complete: boolean; reason?: string }> {
  try {
    const contents = await inspectModelDir(dir);
    if (contents.kind !== "savedmodel" || contents.file !== "saved_model.pb") return { complete: true };
    const pbPath = join(dir, contents.file);
    const savedModel = decodeProtoFile(SavedModelSchema, await readFile(pbPath), pbPath);
    const restores = savedModel.metaGraphs.some((m) => (m.saverDef?.restoreOpName ?? "") !== "");
    if (!restores) return { complete: true };
    const prefix = join(dir, "variables", "variables");
    const reader = await BundleReader.open(prefix);
    try {
      const needed = new Map<number, number>();
      for (const key of reader.keys()) {
        const entry = reader.entry(key);
        const end = Number(entry.offset + entry.size);
        needed.set(entry.shardId, Math.max(needed.get(entry.shardId) ?? 0, end));
      }
      for (const [shard, bytes] of needed) {
        const path = dataFilename(prefix, shard, reader.header.numShards);
        if ((await stat(path)).size < bytes) return { complete: false, reason: `${path} is still short` };
      }
    } finally {
      await reader.close();
    }
    return { complete: true };
  } catch (error: unknown) {
    return { complete: false, reason: error instanceof Error ? error.message : String(error) };
  }
}
