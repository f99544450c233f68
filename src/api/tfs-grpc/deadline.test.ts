// Deadlines are enforced by the server itself: these calls go over raw HTTP/2 with a `grpc-timeout`
// header and no client-side timer, so the DEADLINE_EXCEEDED status can only come from the server.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { connect } from "node:http2";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../../test/fixtures.js";
import { useScratchDir } from "../../../test/scratch.js";
import { sleep, writeScaleModel } from "../../core/core.test-helpers.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { ServerCore } from "../../core/server-core.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { type UnaryMethod, unaryCall, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";
import { startGrpcServer } from "./server.js";

const P = PredictionService.method;
const M = ModelService.method;
const x = (values: number[], shape = [values.length]) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: shape.map((size) => ({ size: BigInt(size) })) },
  floatVal: values,
});

/** One unary call over raw HTTP/2 with `grpc-timeout: timeout`; resolves with the grpc-status it ends with. */
async function rawCall<I extends DescMessage, O extends DescMessage>(
  port: number,
  method: UnaryMethod<I, O>,
  init: MessageInitShape<I>,
  timeout: string,
): Promise<{ code: number; message: string }> {
  const message = toBinary(method.input, create(method.input, init));
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": `/${method.parent.typeName}/${method.name}`,
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": timeout,
      });
      let result: { code: number; message: string } | undefined;
      const take = (headers: Record<string, unknown>) => {
        if (headers["grpc-status"] !== undefined) {
          result = {
            code: Number(headers["grpc-status"]),
            message: decodeURIComponent(String(headers["grpc-message"] ?? "")),
          };
        }
      };
      // A trailers-only answer carries the status in the headers.
      stream.on("response", take);
      stream.on("trailers", take);
      stream.on("data", () => undefined);
      stream.on("close", () => (result ? resolve(result) : reject(new Error("no grpc-status"))));
      stream.on("error", reject);
      stream.end(frame);
    });
  } finally {
    session.close();
  }
}

describe("tfs-grpc deadlines (server side)", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();
  const freshDir = useScratchDir("grpc-deadline");
  const portOf = (client: Client) => Number(client.getChannel().getTarget().split(":").at(-1));

  it("a Predict whose deadline has already passed on arrival (1 ns) is DEADLINE_EXCEEDED", async () => {
    const port = portOf(grpc.client);
    const answer = await rawCall(
      port,
      P.predict,
      { modelSpec: { name: "half_plus_two" }, inputs: { x: x([1]) } },
      "1n",
    );
    assert.equal(answer.code, status.DEADLINE_EXCEEDED, answer.message);
    // The same request with a generous deadline is served.
    const ok = await rawCall(
      port,
      P.predict,
      { modelSpec: { name: "half_plus_two" }, inputs: { x: x([1]) } },
      "60S",
    );
    assert.equal(ok.code, status.OK, ok.message);
  });

  it("a config reload still waiting for its new model when the deadline passes is DEADLINE_EXCEEDED", async () => {
    // A core that polls: the added model's base path is empty, so the reload waits for a version.
    const halfPlusTwoBase = grpc.core.models()[0]?.basePath ?? "";
    const core = await ServerCore.create({
      config: singleModelServerConfig("half_plus_two", halfPlusTwoBase),
      fileSystemPollWaitSeconds: 0.05,
    });
    const started = await startGrpcServer({ core, port: 0, host: "127.0.0.1" });
    const client = new Client(`127.0.0.1:${started.port}`, credentials.createInsecure());
    try {
      const base = freshDir("scale");
      await mkdir(base, { recursive: true });
      const both = singleModelServerConfig("half_plus_two", halfPlusTwoBase);
      const scale = singleModelServerConfig("scale", base);
      assert.ok(both.config.case === "modelConfigList" && scale.config.case === "modelConfigList");
      both.config.value.config.push(...scale.config.value.config);

      const answer = await rawCall(started.port, M.handleReloadConfigRequest, { config: both }, "300m");
      assert.equal(answer.code, status.DEADLINE_EXCEEDED, answer.message);

      // The server keeps serving; once a version appears the model loads and serves.
      const served = await unaryCall(client, P.predict, {
        modelSpec: { name: "half_plus_two" },
        inputs: { x: x([2]) },
      });
      assert.deepEqual(served.outputs.y?.floatVal, [3]);
      await writeScaleModel(join(base, "1"), 3);
      while (core.availableVersions("scale").length === 0) await sleep(50);
      const scaled = await unaryCall(client, P.predict, {
        modelSpec: { name: "scale" },
        inputs: { x: x([1, 2, 3, 4], [1, 4]) },
      });
      assert.deepEqual(scaled.outputs.y?.floatVal, [3, 6, 9, 12]);
    } finally {
      client.close();
      started.server.forceShutdown();
      await core.stop();
    }
  });
});
