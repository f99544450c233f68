// ts-serving/client against real servers: one ServerCore (half_plus_two from the fixtures and the
// embedded ranking_model written by our exporter) behind both the gRPC and the REST server on
// 127.0.0.1; every assertion runs over both transports.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { dirname } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Server as GrpcServer } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { gate, slowServable } from "../../test/rest/helpers.js";
import { useScratchDir } from "../../test/scratch.js";
import { halfPlusTwoConfig } from "../api/tfs-grpc/grpc.test-helpers.js";
import { startGrpcServer } from "../api/tfs-grpc/server.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import { ensureDefaultModel } from "../cli/default-model.js";
import { singleModelServerConfig } from "../core/model-config.js";
import { ServerCore } from "../core/server-core.js";
import { mlpReference } from "../export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../export/ranking-model.js";
import { loadServable } from "../runtime/servable.js";
import {
  Code,
  createGrpcClient,
  createRestClient,
  DataType,
  type ServingClient,
  ServingError,
  Tensor,
  tensorToArray,
} from "./index.js";

const rejectsWithCode = (promise: Promise<unknown>, code: Code, message?: RegExp) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ServingError, `not a ServingError: ${String(error)}`);
    assert.equal(error.codeName, Code[code], error.message);
    if (message) assert.match(error.message, message);
    return true;
  });

describe("ts-serving/client", needsFixtures, () => {
  const scratch = useScratchDir("client");
  let core: ServerCore | undefined;
  let rest: Server | undefined;
  let grpc: GrpcServer | undefined;
  const clients: Record<"grpc" | "rest", ServingClient | undefined> = { grpc: undefined, rest: undefined };
  // Runs of the model served as `held` wait for this gate (opened after the tests), so a deadline
  // always passes first.
  const held = gate();

  before(async () => {
    const { basePath } = await ensureDefaultModel(scratch("models"));
    const config = halfPlusTwoConfig();
    const ranking = singleModelServerConfig(RANKING_MODEL.name, basePath);
    const heldModel = singleModelServerConfig("held", dirname(tfServingModel("saved_model_half_plus_three")));
    for (const extra of [ranking, heldModel]) {
      if (config.config.case !== "modelConfigList" || extra.config.case !== "modelConfigList") assert.fail();
      config.config.value.config.push(...extra.config.value.config);
    }
    core = await ServerCore.create({
      config,
      fileSystemPollWaitSeconds: 0,
      load: async (dir) => {
        const servable = await loadServable(dir);
        return dir.includes("half_plus_three")
          ? slowServable(servable, 0, { until: held.promise })
          : servable;
      },
    });
    const g = await startGrpcServer({ core, port: 0, host: "127.0.0.1" });
    grpc = g.server;
    const r = await startRestServer({ backend: core, port: 0, host: "127.0.0.1" });
    rest = r.server;
    clients.grpc = createGrpcClient(`127.0.0.1:${g.port}`);
    clients.rest = createRestClient(`http://127.0.0.1:${r.port}`);
  });
  after(async () => {
    held.open();
    clients.grpc?.close();
    clients.rest?.close();
    grpc?.forceShutdown();
    rest?.closeAllConnections();
    await new Promise((resolve) => rest?.close(resolve));
    await core?.stop();
  });

  for (const transport of ["grpc", "rest"] as const) {
    const client = (): ServingClient => {
      const c = clients[transport];
      if (!c) throw new Error("servers not started");
      return c;
    };

    describe(transport, () => {
      it("predict: plain nested numbers take the signature's dtype; y = 0.5x + 2", async () => {
        const { y, ...rest } = await client().predict("half_plus_two", { x: [[1], [2], [5]] });
        assert.deepEqual(Object.keys(rest), []);
        assert.ok(y);
        assert.equal(y.dtype, DataType.DT_FLOAT);
        assert.deepEqual(y.shape, [3, 1]);
        assert.deepEqual(tensorToArray(y), [[2.5], [3], [4.5]]);
      });

      it("predict: a Tensor input, version 123, named signature, output filter", async () => {
        const x = new Tensor(DataType.DT_FLOAT, [2, 1], new Float32Array([0, 4]));
        const outputs = await client().predict(
          "half_plus_two",
          { x },
          { version: 123, signature: "serving_default", outputFilter: ["y"] },
        );
        assert.deepEqual(Object.keys(outputs), ["y"]);
        assert.deepEqual([...(outputs.y?.values ?? [])], [2, 4]);
      });

      it("predict on the default ranking_model matches the reference MLP", async () => {
        const row = Array.from({ length: RANKING_MODEL.features }, (_, i) => Math.sin(i));
        const outputs = await client().predict(RANKING_MODEL.name, { [RANKING_MODEL.input]: [row, row] });
        const logits = outputs[RANKING_MODEL.output];
        assert.ok(logits);
        assert.deepEqual(logits.shape, [2, 1]);
        const expected = mlpReference(rankingModel().layers, Float32Array.from(row))[0] ?? Number.NaN;
        for (const v of logits.values as Float32Array)
          assert.ok(Math.abs(v - expected) < 1e-4, `${v} vs ${expected}`);
      });

      it("classify and regress tf.Example objects", async () => {
        const examples = [{ x: 1 }, { x: 5 }];
        const classes = await client().classify("half_plus_two", examples, { signature: "classify_x_to_y" });
        assert.deepEqual(classes, [[{ label: "", score: 2.5 }], [{ label: "", score: 4.5 }]]);
        const values = await client().regress("half_plus_two", examples, { signature: "regress_x_to_y" });
        assert.deepEqual(values, [2.5, 4.5]);
        const withContext = await client().regress("half_plus_two", [{}], {
          signature: "regress_x_to_y",
          context: { x: 2 },
        });
        assert.deepEqual(withContext, [3]);
      });

      it("metadata: resolved version and every signature with dtypes and shapes", async () => {
        const metadata = await client().metadata("half_plus_two");
        assert.equal(metadata.model, "half_plus_two");
        assert.equal(metadata.version, 123n);
        assert.deepEqual(Object.keys(metadata.signatures).sort(), [
          "classify_x_to_y",
          "regress_x2_to_y3",
          "regress_x_to_y",
          "regress_x_to_y2",
          "serving_default",
        ]);
        const predict = metadata.signatures.serving_default;
        assert.equal(predict?.methodName, "tensorflow/serving/predict");
        assert.deepEqual(predict?.inputs.x, { tensorName: "x:0", dtype: DataType.DT_FLOAT, shape: [-1, 1] });
        assert.equal(metadata.signatures.classify_x_to_y?.inputs.inputs?.shape, null);
      });

      it("status: version 123 AVAILABLE", async () => {
        assert.deepEqual(await client().status("half_plus_two"), [
          { version: 123n, state: "AVAILABLE", errorCode: Code.OK, errorMessage: "" },
        ]);
        assert.equal((await client().status("half_plus_two", { version: 123n })).length, 1);
      });

      it("errors carry the server's code", async () => {
        await rejectsWithCode(client().predict("nope", { x: [[1]] }), Code.NOT_FOUND, /nope/);
        await rejectsWithCode(client().metadata("nope"), Code.NOT_FOUND);
        await rejectsWithCode(
          client().status("nope"),
          Code.NOT_FOUND,
          /Could not find any versions of model nope/,
        );
        await rejectsWithCode(client().status("half_plus_two", { version: 7 }), Code.NOT_FOUND);
        await rejectsWithCode(
          client().predict("half_plus_two", { x: [[1]] }, { label: "stable" }),
          Code.INVALID_ARGUMENT,
          /Unrecognized servable version label: stable/,
        );
        await rejectsWithCode(
          client().predict("half_plus_two", { x: [[1]] }, { version: 9 }),
          Code.NOT_FOUND,
        );
        await rejectsWithCode(client().predict("half_plus_two", { nope: [[1]] }), Code.INVALID_ARGUMENT);
        await rejectsWithCode(
          client().regress("half_plus_two", [{ x: 1 }], { signature: "no_such_signature" }),
          Code.INVALID_ARGUMENT,
        );
        // A deadline of 0 ms has passed before any answer can arrive.
        await rejectsWithCode(
          client().predict("half_plus_two", { x: [[1]] }, { deadlineMs: 0 }),
          Code.DEADLINE_EXCEEDED,
        );
        // A model that never answers in time.
        await rejectsWithCode(
          client().predict("held", { x: new Float32Array([1]) }, { deadlineMs: 50 }),
          Code.DEADLINE_EXCEEDED,
        );
        // The client still works after errors.
        const { y } = await client().predict("half_plus_two", { x: [[2]] });
        assert.deepEqual(tensorToArray(y as Tensor), [[3]]);
      });
    });
  }

  it("an address nobody listens on is UNAVAILABLE over both transports", async () => {
    const grpcClient = createGrpcClient("127.0.0.1:1");
    const restClient = createRestClient("http://127.0.0.1:1");
    try {
      await rejectsWithCode(grpcClient.status("m"), Code.UNAVAILABLE);
      await rejectsWithCode(restClient.status("m"), Code.UNAVAILABLE);
    } finally {
      grpcClient.close();
      restClient.close();
    }
  });
});
