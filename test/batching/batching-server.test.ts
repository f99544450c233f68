// --enable_batching end to end: the real server (startModelServer with TF Serving's flags), real
// REST and gRPC clients, a model from our exporter with numeric and string signatures.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { unaryCall } from "../../src/api/tfs-grpc/grpc.test-helpers.js";
import { writeBatchingModel } from "../../src/batching/batching.test-helpers.js";
import { startModelServer } from "../../src/cli/serve.js";
import { serverFlags } from "../../src/cli/server-flags.js";
import { DataType } from "../../src/proto/gen/tensorflow/core/framework/types_pb.js";
import { PredictionService } from "../../src/proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { tensorFromProto } from "../../src/tensor/tensor-proto.js";
import { errorText, freePort, post } from "../rest/helpers.js";
import { useScratchDir } from "../scratch.js";

/** Writes the model as `<root>/batched/1` (plus an optional batching_params.pbtxt) and a batching file. */
async function setUp(root: string, conf: string, perModel?: string): Promise<{ base: string; conf: string }> {
  const base = join(root, "batched");
  await mkdir(base, { recursive: true });
  await writeBatchingModel(join(base, "1"));
  if (perModel !== undefined) await writeFile(join(base, "1", "batching_params.pbtxt"), perModel);
  const confPath = join(root, "batch.conf");
  await writeFile(confPath, conf);
  return { base, conf: confPath };
}

async function start(base: string, extra: Record<string, string>) {
  const server = await startModelServer(
    serverFlags({
      model_name: "batched",
      model_base_path: base,
      port: String(await freePort()),
      rest_api_port: String(await freePort()),
      ...extra,
    }),
    () => {},
  );
  const rest = `http://127.0.0.1:${server.restPort}`;
  const client = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  return {
    server,
    rest,
    client,
    stop: async () => {
      client.close();
      await server.stop();
    },
  };
}

const float = (rows: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => [seed, r, seed + r * 0.5]);
const ints = (rows: number, seed: number) => Array.from({ length: rows }, (_, r) => seed * 1000 + r);
const words = (rows: number, seed: number) =>
  Array.from({ length: rows }, (_, r) => `client ${seed} · row ${r}`);

function grpcPredict(client: Client, signature: string, inputs: Record<string, object>) {
  return unaryCall(client, PredictionService.method.predict, {
    modelSpec: { name: "batched", signatureName: signature },
    inputs,
  });
}

describe("--enable_batching end to end", () => {
  const freshDir = useScratchDir("batching-server");

  it("200 concurrent REST and gRPC clients with mixed batch sizes and signatures each get their own result", async () => {
    const { base, conf } = await setUp(
      freshDir(),
      `max_batch_size { value: 32 } batch_timeout_micros { value: 2000 } max_enqueued_batches { value: 1000 }
       num_batch_threads { value: 2 } allowed_batch_sizes: 8 allowed_batch_sizes: 16 allowed_batch_sizes: 32`,
    );
    const s = await start(base, { enable_batching: "true", batching_parameters_file: conf });
    const decoder = new TextDecoder();
    try {
      const clients = Array.from({ length: 200 }, async (_, i) => {
        const rows = 1 + (i % 5);
        const strings = i % 4 >= 2;
        if (i % 2 === 0) {
          // REST, columnar inputs.
          if (strings) {
            const flags = Array.from({ length: rows }, (_, r) => (i + r) % 3 === 0);
            const reply = await post(s.rest, "/v1/models/batched:predict", {
              signature_name: "strings",
              inputs: { text: words(rows, i), flag: flags },
            });
            assert.equal(reply.status, 200, reply.text);
            assert.deepEqual(reply.json(), {
              outputs: { text_out: words(rows, i), flag_out: flags.map((f) => !f) },
            });
          } else {
            const reply = await post(s.rest, "/v1/models/batched:predict", {
              inputs: { x: float(rows, i), k: ints(rows, i) },
            });
            assert.equal(reply.status, 200, reply.text);
            assert.deepEqual(reply.json(), {
              outputs: {
                y: float(rows, i).map((row) => row.map((v) => 2 * v + 1)),
                k_out: ints(rows, i).map((v) => v + 7),
              },
            });
          }
          return;
        }
        // gRPC, TensorProtos.
        if (strings) {
          const flags = Array.from({ length: rows }, (_, r) => (i + r) % 2 === 0);
          const response = await grpcPredict(s.client, "strings", {
            text: {
              dtype: DataType.DT_STRING,
              tensorShape: { dim: [{ size: BigInt(rows) }] },
              stringVal: words(rows, i).map((w) => new TextEncoder().encode(w)),
            },
            flag: { dtype: DataType.DT_BOOL, tensorShape: { dim: [{ size: BigInt(rows) }] }, boolVal: flags },
          });
          const text = response.outputs.text_out;
          const flag = response.outputs.flag_out;
          assert.ok(text && flag);
          assert.deepEqual(
            tensorFromProto(text).strings.map((b) => decoder.decode(b)),
            words(rows, i),
          );
          assert.deepEqual(
            Array.from(tensorFromProto(flag).values as ArrayLike<unknown>),
            flags.map((f) => (f ? 0 : 1)),
          );
        } else {
          const response = await grpcPredict(s.client, "serving_default", {
            x: {
              dtype: DataType.DT_FLOAT,
              tensorShape: { dim: [{ size: BigInt(rows) }, { size: 3n }] },
              floatVal: float(rows, i).flat(),
            },
            k: {
              dtype: DataType.DT_INT64,
              tensorShape: { dim: [{ size: BigInt(rows) }] },
              int64Val: ints(rows, i).map(BigInt),
            },
          });
          const y = response.outputs.y;
          const k = response.outputs.k_out;
          assert.ok(y && k);
          assert.deepEqual(
            Array.from(tensorFromProto(y).values as ArrayLike<unknown>),
            float(rows, i)
              .flat()
              .map((v) => Math.fround(2 * Math.fround(v) + 1)),
          );
          assert.deepEqual(
            Array.from(tensorFromProto(k).values as ArrayLike<unknown>),
            ints(rows, i).map((v) => BigInt(v + 7)),
          );
        }
      });
      await Promise.all(clients);
    } finally {
      await s.stop();
    }
  });

  it("a full queue answers 503 over REST and UNAVAILABLE over gRPC, at once", async () => {
    // One two-row batch may wait (2 s); a second that would need another batch is turned away.
    const { base, conf } = await setUp(
      freshDir(),
      "max_batch_size { value: 2 } batch_timeout_micros { value: 2000000 } max_enqueued_batches { value: 1 }",
    );
    const s = await start(base, { enable_batching: "true", batching_parameters_file: conf });
    try {
      const waiting = post(s.rest, "/v1/models/batched:predict", {
        inputs: { x: float(1, 1), k: ints(1, 1) },
      });
      // Two rows cannot join the waiting one-row batch and no second batch may queue: 503. (Should
      // the two-row request overtake the one-row request on the wire, it runs at once; so retry.)
      let full = await post(s.rest, "/v1/models/batched:predict", {
        inputs: { x: float(2, 2), k: ints(2, 2) },
      });
      for (let i = 0; i < 20 && full.status === 200; i++)
        full = await post(s.rest, "/v1/models/batched:predict", {
          inputs: { x: float(2, 2), k: ints(2, 2) },
        });
      assert.equal(full.status, 503, full.text);
      assert.equal(errorText(full), "The batch scheduling queue to which this task was submitted is full");
      await assert.rejects(
        grpcPredict(s.client, "serving_default", {
          x: {
            dtype: DataType.DT_FLOAT,
            tensorShape: { dim: [{ size: 2n }, { size: 3n }] },
            floatVal: float(2, 3).flat(),
          },
          k: { dtype: DataType.DT_INT64, tensorShape: { dim: [{ size: 2n }] }, int64Val: [1n, 2n] },
        }),
        (error: ServiceError) => {
          assert.equal(error.code, status.UNAVAILABLE);
          assert.equal(error.details, "The batch scheduling queue to which this task was submitted is full");
          return true;
        },
      );
      const first = await waiting;
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.json(), { outputs: { y: [[3, 1, 3]], k_out: [1007] } });
    } finally {
      await s.stop();
    }
  });

  it("--enable_per_model_batching_parameters: the version's batching_params.pbtxt overrides the file", async () => {
    const { base, conf } = await setUp(
      freshDir(),
      "max_batch_size { value: 64 }",
      "max_batch_size { value: 2 }",
    );
    const s = await start(base, {
      enable_batching: "true",
      batching_parameters_file: conf,
      enable_per_model_batching_parameters: "true",
    });
    try {
      const reply = await post(s.rest, "/v1/models/batched:predict", {
        inputs: { x: float(3, 1), k: ints(3, 1) },
      });
      assert.equal(reply.status, 400, reply.text);
      assert.equal(errorText(reply), "Task size 3 is larger than maximum input batch size 2");
      const ok = await post(s.rest, "/v1/models/batched:predict", {
        inputs: { x: float(2, 1), k: ints(2, 1) },
      });
      assert.equal(ok.status, 200, ok.text);
    } finally {
      await s.stop();
    }
  });

  it("batching flags without --enable_batching are refused, as TF Serving does", () => {
    assert.throws(() => serverFlags({ batching_parameters_file: "batch.conf" }), {
      message: "--batching_parameters_file requires --enable_batching",
    });
    assert.throws(() => serverFlags({ batching_adaptive: "true" }), {
      message: "--batching_adaptive requires --enable_batching",
    });
  });

  it("a malformed --batching_parameters_file stops the start", async () => {
    const { base, conf } = await setUp(freshDir(), "max_batch_size { value: 8 } allowed_batch_sizes: 4");
    await assert.rejects(start(base, { enable_batching: "true", batching_parameters_file: conf }), {
      message: `${conf}: Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8`,
    });
  });
});
