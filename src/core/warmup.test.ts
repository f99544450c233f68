import assert from "node:assert/strict";
import { cp, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { PredictRequestSchema } from "../proto/gen/tensorflow_serving/apis/predict_pb.js";
import {
  type PredictionLog,
  PredictionLogSchema,
} from "../proto/gen/tensorflow_serving/apis/prediction_log_pb.js";
import { loadServable, type Servable } from "../runtime/servable.js";
import { encodeTFRecord, readTFRecordFile } from "../savedmodel/tfrecord.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { tensorToProto } from "../tensor/tensor-proto.js";
import { predict } from "./inference/predict.js";
import { MAX_WARMUP_RECORDS, WARMUP_FILE, warmupServable, writeWarmupFile } from "./warmup.js";

const freshDir = useScratchDir("warmup");

/** A copy of a TF Serving test model version in a scratch directory, with `logs` as its warmup file. */
async function modelWithWarmup(name: string, logs?: readonly PredictionLog[]): Promise<string> {
  const dir = freshDir(name);
  await cp(tfServingModel(name), dir, { recursive: true });
  if (logs) await writeWarmupFile(join(dir, WARMUP_FILE), logs);
  return dir;
}

async function withServable<T>(dir: string, use: (servable: Servable) => Promise<T>): Promise<T> {
  const servable = await loadServable(dir);
  try {
    return await use(servable);
  } finally {
    await servable.close();
  }
}

const log = (init: MessageInitShape<typeof PredictionLogSchema>): PredictionLog =>
  create(PredictionLogSchema, init);

/** A predict_log record for `signatureName`; its model_spec names another model and version on purpose. */
const predictLog = (signatureName: string, inputs: Record<string, Tensor> = {}): PredictionLog =>
  log({
    logType: {
      case: "predictLog",
      value: {
        request: {
          modelSpec: {
            name: "not_this_model",
            signatureName,
            versionChoice: { case: "version", value: { value: 999n } },
          },
          inputs: Object.fromEntries(Object.entries(inputs).map(([alias, t]) => [alias, tensorToProto(t)])),
        },
      },
    },
  });

const counterValue = async (servable: Servable): Promise<number> => {
  const response = await predict(
    servable,
    123n,
    create(PredictRequestSchema, { modelSpec: { name: "counter", signatureName: "get_counter" } }),
  );
  return response.outputs.output?.floatVal[0] ?? Number.NaN;
};

const examples = (x: number) => ({
  kind: {
    case: "exampleList" as const,
    value: {
      examples: [
        { features: { feature: { x: { kind: { case: "floatList" as const, value: { value: [x] } } } } } },
      ],
    },
  },
});

const failsWith = (code: Code, pattern: RegExp | string) => (error: unknown) => {
  assert.ok(error instanceof ServingError, String(error));
  assert.equal(error.codeName, Code[code], error.message);
  if (typeof pattern === "string") assert.equal(error.message, pattern);
  else assert.match(error.message, pattern);
  return true;
};

describe("writeWarmupFile", () => {
  it("writes one TFRecord per PredictionLog", async () => {
    const path = join(freshDir(), WARMUP_FILE);
    const logs = [predictLog("a"), log({}), predictLog("b")];
    await writeWarmupFile(path, logs);
    const records: Uint8Array[] = [];
    for await (const record of readTFRecordFile(path)) records.push(record.slice());
    assert.deepEqual(
      records,
      logs.map((l) => toBinary(PredictionLogSchema, l)),
    );
  });
});

describe("warmupServable", needsFixtures, () => {
  it("replays predict records on the loaded servable: 3 × incr_counter leave the counter at 3", async () => {
    const dir = await modelWithWarmup(
      "saved_model_counter",
      [1, 2, 3].map(() => predictLog("incr_counter")),
    );
    await withServable(dir, async (servable) => {
      assert.equal(await counterValue(servable), 0);
      assert.deepEqual(await warmupServable(servable, dir, { modelName: "counter", version: 123n }), {
        records: 3,
      });
      assert.equal(await counterValue(servable), 3);
    });
  });

  it("runs each record `iterations` times, honours signature_name and skips records without a log_type", async () => {
    const dir = await modelWithWarmup("saved_model_counter", [
      predictLog("incr_counter"),
      log({}),
      predictLog("incr_counter_by", { delta: new Tensor(DataType.DT_FLOAT, [], new Float32Array([10])) }),
    ]);
    await withServable(dir, async (servable) => {
      const result = await warmupServable(servable, dir, {
        modelName: "counter",
        version: 123n,
        iterations: 2,
      });
      assert.deepEqual(result, { records: 3 });
      assert.equal(await counterValue(servable), 22);
    });
  });

  it("replays classify, regress and multi-inference records", async () => {
    const logs = [
      log({
        logType: {
          case: "classifyLog",
          value: {
            request: { modelSpec: { name: "m", signatureName: "classify_x_to_y" }, input: examples(1) },
          },
        },
      }),
      log({
        logType: {
          case: "regressLog",
          value: {
            request: { modelSpec: { name: "m", signatureName: "regress_x_to_y" }, input: examples(2) },
          },
        },
      }),
      log({
        logType: {
          case: "multiInferenceLog",
          value: {
            request: {
              tasks: [
                {
                  modelSpec: { name: "m", signatureName: "regress_x_to_y" },
                  methodName: "tensorflow/serving/regress",
                },
                {
                  modelSpec: { name: "m", signatureName: "classify_x_to_y" },
                  methodName: "tensorflow/serving/classify",
                },
              ],
              input: examples(3),
            },
          },
        },
      }),
      predictLog("serving_default", { x: new Tensor(DataType.DT_FLOAT, [1], new Float32Array([1])) }),
    ];
    const dir = await modelWithWarmup("saved_model_half_plus_two_cpu", logs);
    await withServable(dir, async (servable) => {
      assert.deepEqual(await warmupServable(servable, dir, { modelName: "m", version: 123n }), {
        records: 4,
      });
    });
  });

  it("does nothing without a warmup file", async () => {
    const dir = await modelWithWarmup("saved_model_counter");
    await withServable(dir, async (servable) => {
      assert.deepEqual(await warmupServable(servable, dir, { modelName: "counter", version: 123n }), {
        records: 0,
      });
      assert.equal(await counterValue(servable), 0);
    });
  });

  it("fails on the first failing request, with that request's error", async () => {
    const dir = await modelWithWarmup("saved_model_counter", [
      predictLog("incr_counter"),
      predictLog("no_such_signature"),
      predictLog("incr_counter"),
    ]);
    await withServable(dir, async (servable) => {
      await assert.rejects(
        warmupServable(servable, dir, { modelName: "counter", version: 123n }),
        failsWith(Code.FAILED_PRECONDITION, 'Serving signature key "no_such_signature" not found.'),
      );
      assert.equal(await counterValue(servable), 1);
    });
  });

  it("rejects session_run_log and predict_streamed_log as UNIMPLEMENTED", async () => {
    for (const [logType, number] of [
      [{ case: "sessionRunLog", value: {} }, 5],
      [{ case: "predictStreamedLog", value: {} }, 7],
    ] as const) {
      const dir = await modelWithWarmup("saved_model_counter", [log({ logType })]);
      await withServable(dir, async (servable) => {
        await assert.rejects(
          warmupServable(servable, dir, { modelName: "counter", version: 123n }),
          failsWith(Code.UNIMPLEMENTED, `Unsupported log_type for warmup: ${number}`),
        );
      });
    }
  });

  it("rejects more than 1000 records (after running the 1001st, as TF Serving does)", async () => {
    const dir = await modelWithWarmup(
      "saved_model_counter",
      Array.from({ length: MAX_WARMUP_RECORDS + 1 }, () => predictLog("incr_counter")),
    );
    await withServable(dir, async (servable) => {
      await assert.rejects(
        warmupServable(servable, dir, { modelName: "counter", version: 123n }),
        failsWith(
          Code.INVALID_ARGUMENT,
          `Number of warmup records exceeds the maximum (1000) at ${join(dir, WARMUP_FILE)}`,
        ),
      );
      assert.equal(await counterValue(servable), MAX_WARMUP_RECORDS + 1);
    });
    const exactly = await modelWithWarmup(
      "saved_model_counter",
      Array.from({ length: MAX_WARMUP_RECORDS }, () => predictLog("get_counter")),
    );
    await withServable(exactly, async (servable) => {
      assert.deepEqual(await warmupServable(servable, exactly, { modelName: "counter", version: 1n }), {
        records: MAX_WARMUP_RECORDS,
      });
    });
  });

  it("rejects a record that is not a PredictionLog, and a file that is not TFRecord", async () => {
    const dir = await modelWithWarmup("saved_model_counter");
    const path = join(dir, WARMUP_FILE);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, encodeTFRecord(new Uint8Array([0xff, 0xff, 0xff, 0x41])));
    await withServable(dir, async (servable) => {
      await assert.rejects(
        warmupServable(servable, dir, { modelName: "counter", version: 1n }),
        failsWith(Code.INVALID_ARGUMENT, `Failed to parse warmup record: \\377\\377\\377A from ${path}`),
      );
      // A serialized PredictionLog written without TFRecord framing.
      await writeFile(path, toBinary(PredictionLogSchema, predictLog("incr_counter")));
      await assert.rejects(
        warmupServable(servable, dir, { modelName: "counter", version: 1n }),
        failsWith(
          Code.DATA_LOSS,
          /^(corrupted|truncated) record at 0\. Please verify your warmup data is in TFRecord format\.$/,
        ),
      );
      // Good records, then a truncated one: the good ones ran before the failure.
      const good = encodeTFRecord(toBinary(PredictionLogSchema, predictLog("incr_counter")));
      await writeFile(path, Buffer.concat([good, good.subarray(0, 20)]));
      await assert.rejects(
        warmupServable(servable, dir, { modelName: "counter", version: 1n }),
        failsWith(
          Code.DATA_LOSS,
          `truncated record at ${good.byteLength}. Please verify your warmup data is in TFRecord format.`,
        ),
      );
      assert.equal(await counterValue(servable), 1);
    });
  });
});
