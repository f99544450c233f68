// SavedModel warmup (TF Serving's saved_model_warmup{,_util}.cc): replays the requests recorded in
// <version dir>/assets.extra/tf_serving_warmup_requests against a freshly loaded version, before it
// serves, so the first real requests do not pay for lazy initialisation.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, invalidArgument, ServingError, unimplemented } from "../errors.js";
import { ClassificationRequestSchema } from "../proto/gen/tensorflow_serving/apis/classification_pb.js";
import { MultiInferenceRequestSchema } from "../proto/gen/tensorflow_serving/apis/inference_pb.js";
import { PredictRequestSchema } from "../proto/gen/tensorflow_serving/apis/predict_pb.js";
import {
  type PredictionLog,
  PredictionLogSchema,
} from "../proto/gen/tensorflow_serving/apis/prediction_log_pb.js";
import { RegressionRequestSchema } from "../proto/gen/tensorflow_serving/apis/regression_pb.js";
import type { Servable } from "../runtime/servable.js";
import { readTFRecordFile, writeTFRecordFile } from "../savedmodel/tfrecord.js";
import { classify } from "./inference/classify.js";
import type { InferenceOptions, ServableVersion } from "./inference/common.js";
import { runMultiInference } from "./inference/multi-inference.js";
import { predict } from "./inference/predict.js";
import { regress } from "./inference/regress.js";

/** The warmup file, relative to a model version directory (kSavedModelAssetsExtraDirectory + kRequestsFileName). */
export const WARMUP_FILE = join("assets.extra", "tf_serving_warmup_requests");
/** At most this many records are read (WarmupConsts::kMaxNumRecords). */
export const MAX_WARMUP_RECORDS = 1000;

export interface WarmupOptions extends InferenceOptions {
  /** The model's name (for the caller's logs; records' own model_spec names are not used for routing). */
  modelName: string;
  /** The version being loaded. */
  version: ServableVersion;
  /**
   * Times each record is run (ModelWarmupOptions.num_request_iterations; the server passes
   * --num_request_iterations_for_warmup when > 0). Default 1.
   */
  iterations?: number;
}

/**
 * Replays `<dir>/assets.extra/tf_serving_warmup_requests` on `servable`; no file → nothing to do.
 *
 * Each TFRecord holds a serialized PredictionLog whose predict_log, classify_log, regress_log or
 * multi_inference_log request runs `iterations` times on this servable (the request's model_spec
 * does not route: its signature_name is honoured, its name and version are not looked up; the
 * response part of a log is ignored). A record with no log_type is skipped; predict_streamed_log and
 * session_run_log → UNIMPLEMENTED `Unsupported log_type for warmup: <field number>`. Any request error
 * fails the warmup with that error. Limits and file faults, as TF Serving reports them:
 * - more than 1000 records → INVALID_ARGUMENT `Number of warmup records exceeds the maximum (1000) at <path>`
 * - a record that is not a PredictionLog → INVALID_ARGUMENT `Failed to parse warmup record: <bytes> from <path>`
 * - broken framing → DATA_LOSS `<reader message>. Please verify your warmup data is in TFRecord format.`
 *
 * Returns the number of records read.
 *
 * @example
 * const servable = await loadServable(dir);
 * await warmupServable(servable, dir, { modelName: "counter", version: 123n });
 */
export async function warmupServable(
  servable: Servable,
  dir: string,
  options: WarmupOptions,
): Promise<{ records: number }> {
  const path = join(dir, WARMUP_FILE);
  if (!(await exists(path))) return { records: 0 };
  const iterations = options.iterations ?? 1;
  let records = 0;
  const reader = readTFRecordFile(path);
  try {
    for (let next = await nextRecord(reader); !next.done; next = await nextRecord(reader)) {
      const log = parseRecord(next.value, path);
      for (let i = 0; i < iterations; i++) await runWarmupRequest(servable, log, options);
      records++;
      // As TF Serving: the limit is checked after running a record, so the 1001st record runs first.
      if (records > MAX_WARMUP_RECORDS) {
        throw invalidArgument(
          `Number of warmup records exceeds the maximum (${MAX_WARMUP_RECORDS}) at ${path}`,
        );
      }
    }
  } finally {
    await reader.return();
  }
  return { records };
}

/**
 * Writes PredictionLogs as a warmup file (a TFRecord file of serialized PredictionLogs), creating
 * its directory. `path` is the file itself, usually `join(versionDir, WARMUP_FILE)`.
 *
 * @example
 * await writeWarmupFile(join(versionDir, WARMUP_FILE), [log]);
 */
export async function writeWarmupFile(path: string, logs: readonly PredictionLog[]): Promise<void> {
  await writeTFRecordFile(
    path,
    logs.map((log) => toBinary(PredictionLogSchema, log)),
  );
}

/** Runs one warmup record's request on the servable (saved_model_warmup.cc RunWarmupRequest). */
async function runWarmupRequest(
  servable: Servable,
  log: PredictionLog,
  options: WarmupOptions,
): Promise<void> {
  const { version } = options;
  const request = log.logType;
  switch (request.case) {
    case "predictLog":
      await predict(servable, version, request.value.request ?? create(PredictRequestSchema), options);
      return;
    case "classifyLog":
      await classify(
        servable,
        version,
        request.value.request ?? create(ClassificationRequestSchema),
        options,
      );
      return;
    case "regressLog":
      await regress(servable, version, request.value.request ?? create(RegressionRequestSchema), options);
      return;
    case "multiInferenceLog":
      await runMultiInference(
        servable,
        version,
        request.value.request ?? create(MultiInferenceRequestSchema),
        options,
      );
      return;
    case "sessionRunLog":
    case "predictStreamedLog":
      throw unimplemented(`Unsupported log_type for warmup: ${logTypeNumber(log)}`);
    default:
      // No log_type: nothing to replay.
      return;
  }
}

/** The next record; framing faults get TF Serving's hint (requests' own errors pass untouched). */
async function nextRecord(
  reader: AsyncGenerator<Uint8Array, void, undefined>,
): Promise<IteratorResult<Uint8Array, void>> {
  try {
    return await reader.next();
  } catch (error: unknown) {
    if (error instanceof ServingError && error.code === Code.DATA_LOSS) {
      throw new ServingError(
        Code.DATA_LOSS,
        `${error.message}. Please verify your warmup data is in TFRecord format.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** A record as a PredictionLog; anything else is INVALID_ARGUMENT, as TF Serving words it. */
function parseRecord(record: Uint8Array, path: string): PredictionLog {
  try {
    return fromBinary(PredictionLogSchema, record);
  } catch (error: unknown) {
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      `Failed to parse warmup record: ${printableBytes(record)} from ${path}`,
      { cause: error },
    );
  }
}

/** The proto field number of a log's log_type, which TF Serving prints for an unsupported one. */
function logTypeNumber(log: PredictionLog): number {
  return PredictionLogSchema.fields.find((field) => field.localName === log.logType.case)?.number ?? 0;
}

/** At most 256 bytes of a record, C-escaped (TF prints the raw bytes; they may be binary). */
function printableBytes(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, 256);
  let text = "";
  for (const byte of shown) {
    if (byte === 0x5c) text += "\\\\";
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return bytes.byteLength > shown.byteLength ? `${text}...` : text;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw ServingError.from(error, Code.UNKNOWN);
  }
}
