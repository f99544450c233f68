import { access } from "node:fs/promises";
import { join } from "node:path";
import type { Servable } from "../runtime/servable.js";
import { BatchScheduler } from "./batch-scheduler.js";
import {
  type BatchingOptions,
  batchingOptions,
  DEFAULT_BATCHING_OPTIONS,
  PER_MODEL_BATCHING_PARAMS_FILE,
  readBatchingParametersFile,
} from "./batching-params.js";
import { withBatching } from "./batching-servable.js";
import type { BatchingObserver } from "./observer.js";

/** The server's batching settings, from `--enable_batching` and friends. */
export interface ServerBatchingConfig {
  readonly enableBatching: boolean;
  /** `--batching_parameters_file`: "" for TF Serving's defaults. */
  readonly batchingParametersFile: string;
  /** `--enable_per_model_batching_parameters`: a version's `batching_params.pbtxt` overrides the file. */
  readonly perModelParameters: boolean;
  /** `--batching_adaptive` (ts-serving only). */
  readonly adaptive: boolean;
  readonly observer?: BatchingObserver | undefined;
}

export type LoadServable = (dir: string) => Promise<Servable>;

/**
 * Reads and checks the batching parameters once at startup (a bad file stops the server, as in TF
 * Serving) and returns a wrapper for the server's load function: every loaded version batches.
 * One scheduler — one pool of num_batch_threads — serves all models; per-model files set the queue
 * options only.
 *
 * @example
 * const batching = await serverBatching({ enableBatching: true, batchingParametersFile: "batch.conf",
 *   perModelParameters: false, adaptive: false });
 * const load = batching((dir) => loadServable(dir));
 */
export async function serverBatching(
  config: ServerBatchingConfig,
): Promise<(load: LoadServable) => LoadServable> {
  if (!config.enableBatching) return (load) => load;
  const global: BatchingOptions =
    config.batchingParametersFile === ""
      ? DEFAULT_BATCHING_OPTIONS
      : batchingOptions(
          await readBatchingParametersFile(config.batchingParametersFile),
          config.batchingParametersFile,
        );
  const scheduler = new BatchScheduler(global.numBatchThreads);
  return (load) => async (dir) => {
    const servable = await load(dir);
    try {
      const options = (config.perModelParameters && (await perModelOptions(dir))) || global;
      return withBatching(servable, {
        options,
        scheduler,
        observer: config.observer,
        adaptive: config.adaptive,
      });
    } catch (error: unknown) {
      // A bad per-model file fails the load; the version's sessions must not leak.
      await servable.close();
      throw error;
    }
  };
}

/** The options of a version's own `batching_params.pbtxt`, or undefined when it has none. */
async function perModelOptions(dir: string): Promise<BatchingOptions | undefined> {
  const path = join(dir, PER_MODEL_BATCHING_PARAMS_FILE);
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return batchingOptions(await readBatchingParametersFile(path), path);
}
