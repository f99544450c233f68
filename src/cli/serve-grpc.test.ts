// The gRPC flags wired through startModelServer: --grpc_socket_path, --grpc_channel_arguments,
// --grpc_max_threads (accepted, ignored).
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { unaryCall } from "../api/tfs-grpc/grpc.test-helpers.js";
import { Code, ServingError } from "../errors.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { startModelServer } from "./serve.js";
import { serverFlags } from "./server-flags.js";

const halfPlusTwo = {
  model_name: "half_plus_two",
  model_base_path: dirname(tfServingModel("saved_model_half_plus_two_cpu")),
};
const predict = (client: Client, values: number[]) =>
  unaryCall(client, PredictionService.method.predict, {
    modelSpec: { name: "half_plus_two" },
    inputs: {
      x: {
        dtype: DataType.DT_FLOAT,
        tensorShape: { dim: [{ size: BigInt(values.length) }] },
        floatVal: values,
      },
    },
  });

describe("ts-serving gRPC flags", needsFixtures, () => {
  const freshDir = useScratchDir("serve-grpc");

  it("a malformed --grpc_channel_arguments fails the start with INVALID_ARGUMENT", async () => {
    const lines: string[] = [];
    await assert.rejects(
      startModelServer(
        serverFlags({
          ...halfPlusTwo,
          port: "0",
          rest_api_port: "0",
          grpc_socket_path: join(freshDir(), "s"),
          grpc_channel_arguments: "grpc.max_receive_message_length",
        }),
        (line) => lines.push(line),
      ),
      (error: unknown) =>
        error instanceof ServingError &&
        error.code === Code.INVALID_ARGUMENT &&
        /^--grpc_channel_arguments: "grpc.max_receive_message_length" is not key=value/.test(error.message),
    );
    // Nothing was loaded before the flag was rejected.
    assert.deepEqual(
      lines.filter((l) => l.includes("AVAILABLE")),
      [],
    );
  });

  it("--port=0 --grpc_socket_path serves gRPC on the UNIX socket only, with --grpc_channel_arguments applied", async () => {
    const socket = join(freshDir("sock"), "grpc.sock");
    await mkdir(dirname(socket), { recursive: true });
    const lines: string[] = [];
    const server = await startModelServer(
      serverFlags({
        ...halfPlusTwo,
        port: "0",
        rest_api_port: "0",
        grpc_socket_path: socket,
        grpc_channel_arguments: "grpc.max_receive_message_length=4096",
        grpc_max_threads: "8",
      }),
      (line) => lines.push(line),
    );
    const client = new Client(`unix:${socket}`, credentials.createInsecure());
    try {
      assert.equal(server.grpcPort, undefined);
      assert.ok(lines.includes(`Running gRPC ModelServer at UNIX socket ${socket} ...`), lines.join("\n"));
      assert.ok(lines.some((l) => l.startsWith("flag --grpc_max_threads is accepted and ignored")));
      assert.deepEqual((await predict(client, [1, 2, 3])).outputs.y?.floatVal, [2.5, 3, 3.5]);
      // 2 000 floats are over the 4 096-byte limit set by the channel argument.
      await assert.rejects(
        predict(
          client,
          Array.from({ length: 2000 }, () => 1),
        ),
        (error: ServiceError) => {
          assert.equal(error.code, status.RESOURCE_EXHAUSTED, error.details);
          return true;
        },
      );
      assert.deepEqual((await predict(client, [4])).outputs.y?.floatVal, [4]);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
