import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, credentials, type Server, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../../test/fixtures.js";
import { Code, ServingError } from "../../errors.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { parseGrpcChannelArguments } from "./channel-args.js";
import { unaryCall, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";
import { startGrpcServer } from "./server.js";

const predictRequest = (n: number) => {
  const x = Float32Array.from({ length: n }, (_, i) => i % 100);
  return {
    modelSpec: { name: "half_plus_two" },
    inputs: {
      x: {
        dtype: DataType.DT_FLOAT,
        tensorShape: { dim: [{ size: BigInt(n) }] },
        tensorContent: new Uint8Array(x.buffer),
      },
    },
  };
};

describe("parseGrpcChannelArguments", () => {
  it("reads TF Serving's k=v,k=v: int32 values as numbers, the rest as strings", () => {
    assert.deepEqual(
      parseGrpcChannelArguments(
        "grpc.max_receive_message_length=1073741824,grpc.max_send_message_length=-1,grpc.primary_user_agent=me",
      ),
      {
        "grpc.max_receive_message_length": 1073741824,
        "grpc.max_send_message_length": -1,
        "grpc.primary_user_agent": "me",
      },
    );
  });

  it("empty text and empty pairs give no arguments; spaces are trimmed; a later key wins", () => {
    assert.deepEqual(parseGrpcChannelArguments(""), {});
    assert.deepEqual(parseGrpcChannelArguments(" a = 1 ,, b=x ,a=2,"), { a: 2, b: "x" });
  });

  it("values outside int32 or not integers stay strings (safe_strto32 fails on them)", () => {
    assert.deepEqual(parseGrpcChannelArguments("a=2147483648,b=1.5,c=0x10,d=,e=+7"), {
      a: "2147483648",
      b: "1.5",
      c: "0x10",
      d: "",
      e: 7,
    });
  });

  for (const bad of ["grpc.max_receive_message_length", "a=1,b", "=5", "a=1=2", "a:1"]) {
    it(`"${bad}" is an INVALID_ARGUMENT naming the pair`, () => {
      assert.throws(
        () => parseGrpcChannelArguments(bad),
        (error: unknown) =>
          error instanceof ServingError &&
          error.code === Code.INVALID_ARGUMENT &&
          error.message.startsWith("--grpc_channel_arguments: ") &&
          error.message.includes("is not key=value"),
      );
    });
  }
});

describe("gRPC message size limits", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();
  let small: { server: Server; client: Client } | undefined;
  before(async () => {
    const started = await startGrpcServer({
      core: grpc.core,
      port: 0,
      host: "127.0.0.1",
      channelArguments: parseGrpcChannelArguments("grpc.max_receive_message_length=4096"),
    });
    small = {
      server: started.server,
      client: new Client(`127.0.0.1:${started.port}`, credentials.createInsecure()),
    };
  });
  after(() => {
    small?.client.close();
    small?.server.forceShutdown();
  });

  it("a request over the configured limit is RESOURCE_EXHAUSTED; the server keeps serving", async () => {
    const client = small?.client;
    assert.ok(client);
    // 2 000 floats = 8 000 bytes of tensor_content, over 4 096.
    await assert.rejects(
      unaryCall(client, PredictionService.method.predict, predictRequest(2000)),
      (error: ServiceError) => {
        assert.equal(error.code, status.RESOURCE_EXHAUSTED, `${status[error.code]}: ${error.details}`);
        assert.match(error.details, /larger than max \(\d+ vs 4096\)/);
        return true;
      },
    );
    const response = await unaryCall(client, PredictionService.method.predict, predictRequest(10));
    assert.deepEqual(response.outputs.y?.floatVal, [2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5]);
  });

  it("by default a request far over grpc-js's 4 MiB default (8 MiB of tensor_content) is accepted", async () => {
    // The client must accept the 8 MiB answer too.
    const port = Number(grpc.client.getChannel().getTarget().split(":").at(-1));
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
    });
    try {
      const n = 2 * 1024 * 1024;
      const response = await unaryCall(client, PredictionService.method.predict, predictRequest(n));
      const y = response.outputs.y?.floatVal ?? [];
      assert.equal(y.length, n);
      assert.equal(y[n - 1], ((n - 1) % 100) / 2 + 2);
    } finally {
      client.close();
    }
  });
});
