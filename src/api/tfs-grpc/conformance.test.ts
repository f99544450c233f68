// gRPC conformance beyond server.test.ts: Predict with both tensor encodings at batch sizes 1..1000,
// GetModelStatus through a version swap picked up by polling, HandleReloadConfigRequest adding and
// then removing a model. Real ServerCore, real onnxruntime, a real grpc-js client on 127.0.0.1.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../../test/fixtures.js";
import { useScratchDir } from "../../../test/scratch.js";
import { sleep, writeScaleModel } from "../../core/core.test-helpers.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { ServerCore } from "../../core/server-core.js";
import type { TensorProto } from "../../proto/gen/tensorflow/core/framework/tensor_pb.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { ModelVersionStatus_State } from "../../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import type { ModelServerConfig } from "../../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { halfPlusTwoConfig, type UnaryMethod, unaryCall, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";
import { startGrpcServer } from "./server.js";

const P = PredictionService.method;
const M = ModelService.method;
const BATCH_SIZES = [1, 2, 10, 100, 1000];

/** x values exact in float32 (quarters), so y = 0.5x + 2 is exact too. */
const batch = (n: number) => Float32Array.from({ length: n }, (_, i) => i / 4 - 100);
const halfPlusTwo = (x: Float32Array) => Array.from(x, (v) => Math.fround(0.5 * v + 2));

const typedInput = (x: Float32Array) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: [{ size: BigInt(x.length) }] },
  floatVal: Array.from(x),
});
const contentInput = (x: Float32Array) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: [{ size: BigInt(x.length) }] },
  tensorContent: new Uint8Array(x.buffer, x.byteOffset, x.byteLength),
});

/** A float output's values, whichever encoding the server chose. */
function floatsOf(tensor: TensorProto | undefined): number[] {
  assert.ok(tensor, "missing output");
  assert.equal(tensor.dtype, DataType.DT_FLOAT);
  if (tensor.tensorContent.length === 0) return tensor.floatVal;
  // A copy at offset 0 (the field may be a Buffer view into the received message).
  const bytes = new Uint8Array(tensor.tensorContent);
  return Array.from(new Float32Array(bytes.buffer, 0, bytes.byteLength / 4));
}

const versionOf = (spec: { versionChoice: { case?: string; value?: unknown } } | undefined) =>
  spec?.versionChoice.case === "version" ? (spec.versionChoice.value as { value: bigint }).value : undefined;

/** Starts a gRPC server on 127.0.0.1 over `core`; returns a connected client and a stop function. */
async function serve(core: ServerCore, tensorContentOutputs = false) {
  const started = await startGrpcServer({ core, port: 0, host: "127.0.0.1", tensorContentOutputs });
  const client = new Client(`127.0.0.1:${started.port}`, credentials.createInsecure());
  return {
    client,
    stop: () => {
      client.close();
      started.server.forceShutdown();
    },
  };
}

const rejectsWith = (promise: Promise<unknown>, code: status, details?: RegExp) =>
  assert.rejects(promise, (error: ServiceError) => {
    assert.equal(error.code, code, `${status[error.code]}: ${error.details}`);
    if (details) assert.match(error.details, details);
    return true;
  });

/** Polls `read` (every 50 ms) until `done` accepts its value; returns that value. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await sleep(50);
  }
}

describe("tfs-grpc conformance: Predict on half_plus_two", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();
  let contentOut: Awaited<ReturnType<typeof serve>> | undefined;
  before(async () => {
    contentOut = await serve(grpc.core, true);
  });
  after(() => contentOut?.stop());

  const rpc = <I extends DescMessage, O extends DescMessage>(
    method: UnaryMethod<I, O>,
    init: MessageInitShape<I>,
    client: Client = grpc.client,
  ): Promise<MessageShape<O>> => unaryCall(client, method, init);

  for (const [encoding, input] of [
    ["float_val", typedInput],
    ["tensor_content", contentInput],
  ] as const) {
    for (const n of BATCH_SIZES) {
      it(`${encoding} input, batch ${n}: every y = 0.5x + 2`, async () => {
        const x = batch(n);
        const response = await rpc(P.predict, {
          modelSpec: { name: "half_plus_two" },
          inputs: { x: input(x) },
        });
        const y = response.outputs.y;
        assert.deepEqual(
          y?.tensorShape?.dim.map((d) => d.size),
          [BigInt(n)],
        );
        // Without --enable_serialization_as_tensor_content the outputs are typed values, as TF Serving.
        assert.equal(y?.tensorContent.length, 0);
        assert.deepEqual(floatsOf(y), halfPlusTwo(x));
        assert.equal(versionOf(response.modelSpec), 123n);
      });
    }
  }

  it("with tensor_content outputs enabled, batch 1000 comes back as 4000 bytes of little-endian floats", async () => {
    const x = batch(1000);
    const response = await rpc(
      P.predict,
      { modelSpec: { name: "half_plus_two" }, inputs: { x: contentInput(x) } },
      contentOut?.client,
    );
    assert.equal(response.outputs.y?.tensorContent.length, 4000);
    assert.equal(response.outputs.y?.floatVal.length, 0);
    assert.deepEqual(floatsOf(response.outputs.y), halfPlusTwo(x));
  });
});

describe("tfs-grpc conformance: GetModelStatus through a version swap", () => {
  const freshDir = useScratchDir("grpc-swap");

  it("version 2 appears: status shows 2 AVAILABLE, 1 END; Predict moves to version 2", async () => {
    const base = join(freshDir("models"), "scale");
    await writeScaleModel(join(base, "1"), 1);
    const core = await ServerCore.create({
      config: singleModelServerConfig("scale", base),
      fileSystemPollWaitSeconds: 0.05,
      maxNumLoadRetries: 0,
    });
    const { client, stop } = await serve(core);
    try {
      const statusOf = async (version?: bigint) =>
        (
          await unaryCall(client, M.getModelStatus, {
            modelSpec: {
              name: "scale",
              ...(version === undefined
                ? {}
                : { versionChoice: { case: "version", value: { value: version } } }),
            },
          })
        ).modelVersionStatus.map((s) => [s.version, ModelVersionStatus_State[s.state], s.status?.errorCode]);
      const predictScale = async () => {
        const response = await unaryCall(client, P.predict, {
          modelSpec: { name: "scale" },
          inputs: {
            x: {
              dtype: DataType.DT_FLOAT,
              tensorShape: { dim: [{ size: 1n }, { size: 4n }] },
              floatVal: [1, 2, 3, 4],
            },
          },
        });
        return { y: floatsOf(response.outputs.y), version: versionOf(response.modelSpec) };
      };

      assert.deepEqual(await statusOf(), [[1n, "AVAILABLE", 0]]);
      assert.deepEqual(await predictScale(), { y: [1, 2, 3, 4], version: 1n });

      await writeScaleModel(join(base, "2"), 2);
      const swapped = await eventually(statusOf, (s) => s.length === 2 && s[1]?.[1] === "END");
      // TF Serving's ServableStateMonitor keeps the unloaded version: END with an OK status, highest first.
      assert.deepEqual(swapped, [
        [2n, "AVAILABLE", 0],
        [1n, "END", 0],
      ]);
      assert.deepEqual(await statusOf(1n), [[1n, "END", 0]]);
      assert.deepEqual(await statusOf(2n), [[2n, "AVAILABLE", 0]]);
      assert.deepEqual(await predictScale(), { y: [2, 4, 6, 8], version: 2n });
      await rejectsWith(
        unaryCall(client, P.predict, {
          modelSpec: { name: "scale", versionChoice: { case: "version", value: { value: 1n } } },
          inputs: {
            x: {
              dtype: DataType.DT_FLOAT,
              tensorShape: { dim: [{ size: 1n }, { size: 4n }] },
              floatVal: [1, 2, 3, 4],
            },
          },
        }),
        status.NOT_FOUND,
      );
    } finally {
      stop();
      await core.stop();
    }
  });
});

describe("tfs-grpc conformance: HandleReloadConfigRequest", needsFixtures, () => {
  it("adds half_plus_three next to half_plus_two, then removes half_plus_two", async () => {
    const two = halfPlusTwoConfig();
    const three = singleModelServerConfig(
      "half_plus_three",
      dirname(tfServingModel("saved_model_half_plus_three")),
    );
    const models = (...configs: ModelServerConfig[]) => {
      const [first, ...rest] = configs;
      assert.ok(first?.config.case === "modelConfigList");
      for (const config of rest) {
        assert.ok(config.config.case === "modelConfigList");
        first.config.value.config.push(...config.config.value.config);
      }
      return first;
    };
    const core = await ServerCore.create({ config: two, fileSystemPollWaitSeconds: 0 });
    const { client, stop } = await serve(core);
    const predict = (name: string) =>
      unaryCall(client, P.predict, { modelSpec: { name }, inputs: { x: typedInput(new Float32Array([2])) } });
    try {
      const added = await unaryCall(client, M.handleReloadConfigRequest, {
        config: models(halfPlusTwoConfig(), three),
      });
      assert.equal(added.status?.errorCode, 0);
      assert.deepEqual(floatsOf((await predict("half_plus_three")).outputs.y), [4]);
      assert.deepEqual(floatsOf((await predict("half_plus_two")).outputs.y), [3]);

      const removed = await unaryCall(client, M.handleReloadConfigRequest, {
        config: singleModelServerConfig(
          "half_plus_three",
          dirname(tfServingModel("saved_model_half_plus_three")),
        ),
      });
      assert.equal(removed.status?.errorCode, 0);
      // The removed model's version is unloaded: END in its status, and no longer servable.
      const statusTwo = await eventually(
        () => unaryCall(client, M.getModelStatus, { modelSpec: { name: "half_plus_two" } }),
        (r) => r.modelVersionStatus[0]?.state === ModelVersionStatus_State.END,
      );
      assert.deepEqual(
        statusTwo.modelVersionStatus.map((s) => [s.version, s.state]),
        [[123n, ModelVersionStatus_State.END]],
      );
      await rejectsWith(predict("half_plus_two"), status.NOT_FOUND, /half_plus_two/);
      assert.deepEqual(floatsOf((await predict("half_plus_three")).outputs.y), [4]);
    } finally {
      stop();
      await core.stop();
    }
  });
});
