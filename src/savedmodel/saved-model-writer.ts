import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import {
  type FingerprintDef,
  FingerprintDefSchema,
} from "../proto/gen/tensorflow/core/protobuf/fingerprint_pb.js";
import { type SavedModel, SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import type { Tensor } from "../tensor/tensor.js";
import { writeBundle } from "./bundle/index.js";

/** Everything a SavedModel version directory holds. */
export interface SavedModelContents {
  readonly savedModel: SavedModel;
  /** Checkpoint key → value, written to variables/ as a TensorBundle. */
  readonly variables?: Iterable<[string, Tensor]>;
  /** File name → bytes, written to assets/. */
  readonly assets?: Iterable<[string, Uint8Array]>;
  /** File name → bytes, written to assets.extra/ (e.g. tf_serving_warmup_requests). */
  readonly assetsExtra?: Iterable<[string, Uint8Array]>;
  readonly fingerprint?: FingerprintDef;
}

export interface WriteOptions {
  /** Start a new variables shard once one holds this many bytes. */
  readonly maxShardBytes?: number;
  /** Replace an existing directory instead of failing. */
  readonly overwrite?: boolean;
}

/**
 * Writes a SavedModel version directory in TensorFlow's format. The directory is assembled under a
 * hidden sibling name and renamed into place, so a server polling the base path never sees it half-written.
 *
 * @example
 * await writeSavedModel("/models/ranking/1", { savedModel, variables: new Map([["dense/kernel", kernel]]) });
 */
export async function writeSavedModel(
  dir: string,
  contents: SavedModelContents,
  options: WriteOptions = {},
): Promise<void> {
  if (!options.overwrite && (await isNonEmptyDir(dir))) {
    throw new ServingError(Code.ALREADY_EXISTS, `${dir} already exists and is not empty`);
  }
  const staging = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}-${Date.now()}`);
  await rm(staging, { recursive: true, force: true });
  try {
    await mkdir(staging, { recursive: true });
    if (contents.variables) {
      await mkdir(join(staging, "variables"));
      const bundleOptions =
        options.maxShardBytes === undefined ? {} : { maxShardBytes: options.maxShardBytes };
      await writeBundle(join(staging, "variables", "variables"), contents.variables, bundleOptions);
    }
    await writeFiles(join(staging, "assets"), contents.assets);
    await writeFiles(join(staging, "assets.extra"), contents.assetsExtra);
    if (contents.fingerprint) {
      await writeFile(join(staging, "fingerprint.pb"), toBinary(FingerprintDefSchema, contents.fingerprint));
    }
    // saved_model.pb last: its presence marks the directory complete.
    await writeFile(join(staging, "saved_model.pb"), toBinary(SavedModelSchema, contents.savedModel));
    // Checked above: without overwrite, dir is absent or empty; either way it must go before the rename.
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await rename(staging, dir);
  } catch (error: unknown) {
    await rm(staging, { recursive: true, force: true });
    throw ServingError.from(error, Code.INTERNAL);
  }
}

async function writeFiles(dir: string, files: Iterable<[string, Uint8Array]> | undefined): Promise<void> {
  if (!files) return;
  let made = false;
  for (const [name, bytes] of files) {
    if (name !== basename(name) || name === "" || name.startsWith(".")) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `asset file name must be a plain file name, got "${name}"`,
      );
    }
    if (!made) await mkdir(dir, { recursive: true });
    made = true;
    await writeFile(join(dir, name), bytes);
  }
}

async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}
