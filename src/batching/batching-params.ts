import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Code, ServingError } from "../errors.js";
import {
  type BatchingParameters,
  BatchingParametersSchema,
} from "../proto/gen/tensorflow_serving/servables/tensorflow/session_bundle_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";

/** The file `--enable_per_model_batching_parameters` reads from a model version directory. */
export const PER_MODEL_BATCHING_PARAMS_FILE = "batching_params.pbtxt";

/** Resolved batching options of one model version: every BatchingParameters field with TF Serving's default applied. */
export interface BatchingOptions {
  /** Largest request a queue accepts (TF's `input_batch_size_limit`). */
  readonly maxBatchSize: number;
  /** Longest wait, from a batch's first request, before a partial batch runs. */
  readonly batchTimeoutMicros: number;
  /** Queue capacity in batches (the open one included); beyond it requests get UNAVAILABLE at once. */
  readonly maxEnqueuedBatches: number;
  /** Batches that run at once (one pool shared by every model). */
  readonly numBatchThreads: number;
  /** Batches are padded up to the next of these sizes; empty: no padding. */
  readonly allowedBatchSizes: readonly number[];
  /** Pads non-batch dimensions of inputs to the batch's largest instead of failing. */
  readonly padVariableLengthInputs: boolean;
  /** Splits a request across batches so no executed batch exceeds `maxExecutionBatchSize`. */
  readonly enableLargeBatchSplitting: boolean;
  /** Largest executed batch: `maxBatchSize` unless splitting is on and it is set. */
  readonly maxExecutionBatchSize: number;
}

/**
 * TF Serving's defaults for unset fields (SharedBatchScheduler's QueueOptions and BatchingSession):
 * max_batch_size 1000, batch_timeout_micros 0, max_enqueued_batches 10, num_batch_threads = cores.
 */
export const DEFAULT_BATCHING_OPTIONS: BatchingOptions = {
  maxBatchSize: 1000,
  batchTimeoutMicros: 0,
  maxEnqueuedBatches: 10,
  numBatchThreads: availableParallelism(),
  allowedBatchSizes: [],
  padVariableLengthInputs: false,
  enableLargeBatchSplitting: false,
  maxExecutionBatchSize: 1000,
};

/**
 * Parses a text-format BatchingParameters (`--batching_parameters_file`, `batching_params.pbtxt`).
 * Errors are INVALID_ARGUMENT and name `source`.
 *
 * @example
 * const params = parseBatchingParameters("max_batch_size { value: 64 } batch_timeout_micros { value: 5000 }");
 * batchingOptions(params).maxBatchSize; // 64
 */
export function parseBatchingParameters(text: string, source = "BatchingParameters"): BatchingParameters {
  return parseTextProto(BatchingParametersSchema, text, source);
}

/** Reads and parses a BatchingParameters text file. */
export async function readBatchingParametersFile(path: string): Promise<BatchingParameters> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error: unknown) {
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      `cannot read batching parameters file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return parseBatchingParameters(text, path);
}

/**
 * Applies TF Serving's defaults and checks the values as TF Serving does when a model loads
 * (positive sizes, allowed_batch_sizes increasing and ending at max_batch_size — or, with splitting,
 * at max_execution_batch_size). Throws INVALID_ARGUMENT with TF Serving's wording.
 *
 * @example
 * batchingOptions(parseBatchingParameters("max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 8"));
 */
export function batchingOptions(params: BatchingParameters, source = "batching parameters"): BatchingOptions {
  const d = DEFAULT_BATCHING_OPTIONS;
  const num = (value: bigint | undefined, fallback: number) =>
    value === undefined ? fallback : clampToSafe(value);
  const maxBatchSize = num(params.maxBatchSize, d.maxBatchSize);
  const splitting = params.enableLargeBatchSplitting ?? d.enableLargeBatchSplitting;
  const options: BatchingOptions = {
    maxBatchSize,
    batchTimeoutMicros: num(params.batchTimeoutMicros, d.batchTimeoutMicros),
    maxEnqueuedBatches: num(params.maxEnqueuedBatches, d.maxEnqueuedBatches),
    numBatchThreads: num(params.numBatchThreads, d.numBatchThreads),
    allowedBatchSizes: params.allowedBatchSizes.map(clampToSafe),
    padVariableLengthInputs: params.padVariableLengthInputs,
    enableLargeBatchSplitting: splitting,
    maxExecutionBatchSize: splitting ? num(params.maxExecutionBatchSize, maxBatchSize) : maxBatchSize,
  };
  validateBatchingOptions(options, source);
  return options;
}

function clampToSafe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(value);
}

/** The load-time checks of TF Serving's BatchingSession and SharedBatchScheduler. */
export function validateBatchingOptions(options: BatchingOptions, source = "batching parameters"): void {
  const fail = (message: string): never => {
    throw new ServingError(Code.INVALID_ARGUMENT, `${source}: ${message}`);
  };
  if (options.maxBatchSize <= 0) fail(`max_batch_size must be positive; was ${options.maxBatchSize}`);
  if (options.batchTimeoutMicros < 0)
    fail(`batch_timeout_micros must be non-negative; was ${options.batchTimeoutMicros}`);
  if (options.maxEnqueuedBatches <= 0)
    fail(`max_enqueued_batches must be positive; was ${options.maxEnqueuedBatches}`);
  if (options.numBatchThreads <= 0)
    fail(`num_batch_threads must be positive; was ${options.numBatchThreads}`);
  if (options.enableLargeBatchSplitting) {
    if (options.maxExecutionBatchSize <= 0)
      fail(`max_execution_batch_size must be positive; was ${options.maxExecutionBatchSize}`);
    if (options.maxExecutionBatchSize > options.maxBatchSize)
      fail(
        `max_execution_batch_size must be less than or equal to max_batch_size; was ${options.maxExecutionBatchSize}; max_batch_size is ${options.maxBatchSize}`,
      );
  }
  const sizes = options.allowedBatchSizes;
  if (sizes.length === 0) return;
  for (const [i, size] of sizes.entries()) {
    if (size <= 0) fail(`allowed_batch_sizes entries must be positive; entry ${i} was ${size}`);
    if (i > 0 && size <= (sizes[i - 1] ?? 0))
      fail("allowed_batch_sizes entries must be monotonically increasing");
  }
  const last = sizes.at(-1) ?? 0;
  if (options.enableLargeBatchSplitting) {
    if (last > options.maxBatchSize)
      fail(
        `Last entry in allowed_batch_sizes must be less than or equal to max_batch_size; last entry was ${last}; expected ${options.maxBatchSize}`,
      );
    if (last !== options.maxExecutionBatchSize)
      fail(
        `Last entry in allowed_batch_sizes must be equal to max_execution_batch_size; last entry was ${last}; expected ${options.maxExecutionBatchSize}`,
      );
  } else if (last !== options.maxBatchSize) {
    fail(
      `Last entry in allowed_batch_sizes must match max_batch_size; last entry was ${last}; expected ${options.maxBatchSize}`,
    );
  }
}

/** The smallest allowed batch size ≥ `size` (the batch is padded up to it); `size` itself when none is configured. */
export function paddedBatchSize(options: BatchingOptions, size: number): number {
  for (const allowed of options.allowedBatchSizes) if (allowed >= size) return allowed;
  return size;
}
