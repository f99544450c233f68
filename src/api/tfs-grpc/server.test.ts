import assert from "node:assert/strict";
import { dirname } from "node:path";
import { describe, it } from "node:test";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../../test/fixtures.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { SignatureDefMapSchema } from "../../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";
import { ModelVersionStatus_State } from "../../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { type UnaryMethod, unaryCall, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";
import { grpcStatus, startGrpcServer } from "./server.js";

const P = PredictionService.method;
const M = ModelService.method;
const baseOf = (name: string) => dirname(tfServingModel(name));
const floats = (values: number[]) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: [{ size: BigInt(values.length) }] },
  floatVal: values,
});
const example = (x: number) => ({
  features: { feature: { x: { kind: { case: "floatList" as const, value: { value: [x] } } } } },
});

describe("tfs-grpc server", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();

  const rpc = <I extends DescMessage, O extends DescMessage>(
    method: UnaryMethod<I, O>,
    init: MessageInitShape<I>,
    deadline?: number,
  ): Promise<MessageShape<O>> => unaryCall(grpc.client, method, init, deadline);

  const rejectsWith = (promise: Promise<unknown>, code: status, details?: RegExp | string) =>
    assert.rejects(promise, (error: ServiceError) => {
      assert.equal(error.code, code, `${status[error.code]}: ${error.details}`);
      if (typeof details === "string") assert.equal(error.details, details);
      else if (details) assert.match(error.details, details);
      return true;
    });

  it("Predict with float_val: y = 0.5x + 2, model_spec echoes version 123 and serving_default", async () => {
    const response = await rpc(P.predict, {
      modelSpec: { name: "half_plus_two" },
      inputs: { x: floats([1, 2, 5]) },
    });
    assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3, 4.5]);
    assert.equal(response.modelSpec?.name, "half_plus_two");
    assert.equal(response.modelSpec?.signatureName, "serving_default");
    assert.equal(
      response.modelSpec?.versionChoice.case === "version" && response.modelSpec.versionChoice.value.value,
      123n,
    );
  });

  it("Predict with tensor_content input, model_spec.version = 123", async () => {
    const content = new Uint8Array(new Float32Array([0, 4]).buffer);
    const response = await rpc(P.predict, {
      modelSpec: { name: "half_plus_two", versionChoice: { case: "version", value: { value: 123n } } },
      inputs: {
        x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 2n }] }, tensorContent: content },
      },
    });
    assert.deepEqual(response.outputs.y?.floatVal, [2, 4]);
  });

  it("Classify and Regress on tf.Example inputs", async () => {
    const input = { kind: { case: "exampleList" as const, value: { examples: [example(1), example(5)] } } };
    const classified = await rpc(P.classify, {
      modelSpec: { name: "half_plus_two", signatureName: "classify_x_to_y" },
      input,
    });
    const scores = classified.result?.classifications.map((c) => c.classes.map((k) => [k.label, k.score]));
    assert.deepEqual(scores, [[["", 2.5]], [["", 4.5]]]);
    assert.equal(classified.modelSpec?.signatureName, "classify_x_to_y");
    const regressed = await rpc(P.regress, {
      modelSpec: { name: "half_plus_two", signatureName: "regress_x_to_y" },
      input,
    });
    assert.deepEqual(
      regressed.result?.regressions.map((r) => r.value),
      [2.5, 4.5],
    );
  });

  it("GetModelMetadata packs every SignatureDef in a SignatureDefMap Any", async () => {
    const response = await rpc(P.getModelMetadata, {
      modelSpec: { name: "half_plus_two" },
      metadataField: ["signature_def"],
    });
    const any = response.metadata.signature_def;
    assert.ok(any);
    assert.equal(any.typeUrl, "type.googleapis.com/tensorflow.serving.SignatureDefMap");
    const map = anyUnpack(any, SignatureDefMapSchema);
    assert.deepEqual(Object.keys(map?.signatureDef ?? {}).sort(), [
      "classify_x_to_y",
      "regress_x2_to_y3",
      "regress_x_to_y",
      "regress_x_to_y2",
      "serving_default",
    ]);
    assert.equal(map?.signatureDef.serving_default?.inputs.x?.encoding.value, "x:0");
    await rejectsWith(
      rpc(P.getModelMetadata, { modelSpec: { name: "half_plus_two" }, metadataField: ["nope"] }),
      status.INVALID_ARGUMENT,
      "Metadata field nope is not supported",
    );
    await rejectsWith(
      rpc(P.getModelMetadata, { modelSpec: { name: "half_plus_two" } }),
      status.INVALID_ARGUMENT,
      "GetModelMetadataRequest must specify at least one metadata_field",
    );
  });

  it("GetModelStatus reports version 123 AVAILABLE; unknown model or version is NOT_FOUND", async () => {
    const response = await rpc(M.getModelStatus, { modelSpec: { name: "half_plus_two" } });
    assert.deepEqual(
      response.modelVersionStatus.map((s) => [
        s.version,
        s.state,
        s.status?.errorCode,
        s.status?.errorMessage,
      ]),
      [[123n, ModelVersionStatus_State.AVAILABLE, 0, ""]],
    );
    await rejectsWith(
      rpc(M.getModelStatus, { modelSpec: { name: "nope" } }),
      status.NOT_FOUND,
      "Could not find any versions of model nope",
    );
    await rejectsWith(
      rpc(M.getModelStatus, {
        modelSpec: { name: "half_plus_two", versionChoice: { case: "version", value: { value: 7n } } },
      }),
      status.NOT_FOUND,
      "Could not find version 7 of model half_plus_two",
    );
  });

  it("bad requests get TF Serving's codes and the server keeps answering", async () => {
    await rejectsWith(
      rpc(P.predict, { inputs: { x: floats([1]) } }),
      status.INVALID_ARGUMENT,
      "ModelSpec has no name specified.",
    );
    await rejectsWith(
      rpc(P.predict, { modelSpec: { name: "nope" }, inputs: { x: floats([1]) } }),
      status.NOT_FOUND,
    );
    await rejectsWith(
      rpc(P.predict, {
        modelSpec: { name: "half_plus_two", versionChoice: { case: "versionLabel", value: "stable" } },
        inputs: { x: floats([1]) },
      }),
      status.INVALID_ARGUMENT,
      "Unrecognized servable version label: stable",
    );
    await rejectsWith(
      rpc(P.predict, { modelSpec: { name: "half_plus_two" }, inputs: {} }),
      status.INVALID_ARGUMENT,
    );
    await rejectsWith(
      rpc(P.predict, {
        modelSpec: { name: "half_plus_two" },
        inputs: {
          x: {
            dtype: DataType.DT_FLOAT,
            tensorShape: { dim: [{ size: 3n }] },
            tensorContent: new Uint8Array(8),
          },
        },
      }),
      status.INVALID_ARGUMENT,
    );
    const response = await rpc(P.predict, {
      modelSpec: { name: "half_plus_two" },
      inputs: { x: floats([2]) },
    });
    assert.deepEqual(response.outputs.y?.floatVal, [3]);
  });

  it("HandleReloadConfigRequest adds a model that then serves", async () => {
    const config = singleModelServerConfig("half_plus_two", baseOf("saved_model_half_plus_two_cpu"));
    const three = singleModelServerConfig("half_plus_three", baseOf("saved_model_half_plus_three"));
    if (config.config.case !== "modelConfigList" || three.config.case !== "modelConfigList") assert.fail();
    config.config.value.config.push(...three.config.value.config);
    const response = await rpc(M.handleReloadConfigRequest, { config });
    assert.equal(response.status?.errorCode, 0);
    const predicted = await rpc(P.predict, {
      modelSpec: { name: "half_plus_three" },
      inputs: { x: floats([2]) },
    });
    assert.deepEqual(predicted.outputs.y?.floatVal, [4]);
    await rejectsWith(rpc(M.handleReloadConfigRequest, {}), status.INVALID_ARGUMENT, /Only ModelConfigList/);
  });

  it("long error messages are cut at 1024 characters", () => {
    const details = grpcStatus(new Error("x".repeat(2000))).details ?? "";
    assert.equal(details, `${"x".repeat(1024)}...TRUNCATED`);
  });
});

describe("tfs-grpc deadlines", () => {
  it("a call still running at its deadline is answered DEADLINE_EXCEEDED", async () => {
    const backend = {
      acquire: () => assert.fail("not used"),
      status: () => [],
      reloadConfig: () => new Promise<void>(() => undefined),
    };
    const { server, port } = await startGrpcServer({ core: backend, port: 0, host: "127.0.0.1" });
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      const config = singleModelServerConfig("m", "/nonexistent");
      const error = await unaryCall(client, M.handleReloadConfigRequest, { config }, Date.now() + 150).then(
        () => null,
        (e: ServiceError) => e,
      );
      assert.equal(error?.code, status.DEADLINE_EXCEEDED);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
