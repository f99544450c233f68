import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { needsFixtures } from "../../../test/fixtures.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { fields, reflect, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";
import { fileDescriptorProtos, HEALTH_SERVICE_NAMES, startGrpcServer } from "./server.js";

const idleBackend = {
  acquire: () => assert.fail("not used"),
  status: () => [],
  reloadConfig: async () => undefined,
};

const healthCheck = (client: Client, name: string): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const check = healthService.Check;
    assert.ok(check);
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: name },
      new Metadata(),
      {},
      (error, value) => (error ? reject(error) : resolve(value)),
    );
  });

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("tfs-grpc health and reflection", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();

  for (const name of HEALTH_SERVICE_NAMES) {
    it(`grpc.health.v1.Health/Check("${name}") is SERVING`, async () => {
      assert.deepEqual(await healthCheck(grpc.client, name), { status: "SERVING" });
    });
  }

  it("Health/Check of an unknown service is NOT_FOUND", async () => {
    await assert.rejects(
      healthCheck(grpc.client, "nope"),
      (error: ServiceError) => error.code === status.NOT_FOUND,
    );
  });

  it("reflection list_services names the two TF Serving services and grpc.health.v1.Health", async () => {
    const response = fields(await reflect(grpc.client, 7, "*"));
    const list = fields(response.get(6)?.[0] ?? new Uint8Array());
    const names = (list.get(1) ?? []).map((s) => text(fields(s).get(1)?.[0]));
    assert.deepEqual(names.sort(), [
      "grpc.health.v1.Health",
      "tensorflow.serving.ModelService",
      "tensorflow.serving.PredictionService",
    ]);
  });

  it("reflection describes grpc.health.v1.Health (grpcurl can call Check)", async () => {
    const response = fields(await reflect(grpc.client, 4, "grpc.health.v1.Health"));
    const files = fields(response.get(4)?.[0] ?? new Uint8Array()).get(1) ?? [];
    const health = files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes))[0];
    assert.equal(health?.name, "grpc/health/v1/health.proto");
    assert.deepEqual(
      health?.service[0]?.method.map((m) => m.name),
      ["Check", "Watch"],
    );
  });

  it("reflection file_containing_symbol returns prediction_service.proto and its imports", async () => {
    const response = fields(await reflect(grpc.client, 4, "tensorflow.serving.PredictionService"));
    const files = fields(response.get(4)?.[0] ?? new Uint8Array()).get(1) ?? [];
    const protos = files.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const main = protos.find((p) => p.service.some((s) => s.name === "PredictionService"));
    assert.equal(main?.name, "tensorflow_serving/apis/prediction_service.proto");
    assert.deepEqual(
      main?.service[0]?.method.map((m) => m.name),
      ["Classify", "Regress", "Predict", "MultiInference", "GetModelMetadata"],
    );
    assert.ok(protos.some((p) => p.name === "tensorflow_serving/apis/predict.proto"));
  });

  it("fileDescriptorProtos lists each file once, imports first", () => {
    const files = fileDescriptorProtos([PredictionService, ModelService]).map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    const names = files.map((f) => f.name);
    assert.equal(new Set(names).size, names.length);
    const position = new Map(names.map((n, i) => [n, i]));
    for (const file of files) {
      for (const dependency of file.dependency) {
        assert.ok((position.get(dependency) ?? Infinity) < (position.get(file.name) ?? -1), dependency);
      }
    }
  });
});

describe("tfs-grpc health and reflection opt-out", () => {
  it("healthCheck: false and reflection: false leave both unregistered", async () => {
    const { server, port, health } = await startGrpcServer({
      core: idleBackend,
      port: 0,
      host: "127.0.0.1",
      healthCheck: false,
      reflection: false,
    });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      assert.equal(health, undefined);
      await assert.rejects(
        healthCheck(client, ""),
        (error: ServiceError) => error.code === status.UNIMPLEMENTED,
      );
      await assert.rejects(
        reflect(client, 7, "*"),
        (error: ServiceError) => error.code === status.UNIMPLEMENTED,
      );
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it("health.setStatus turns a service NOT_SERVING", async () => {
    const { server, port, health } = await startGrpcServer({ core: idleBackend, port: 0, host: "127.0.0.1" });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      health?.setStatus("PredictionService", "NOT_SERVING");
      assert.deepEqual(await healthCheck(client, "PredictionService"), { status: "NOT_SERVING" });
      assert.deepEqual(await healthCheck(client, "ModelService"), { status: "SERVING" });
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
