import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../../test/fixtures.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { type UnaryMethod, unaryCall, useHalfPlusTwoGrpc } from "./grpc.test-helpers.js";

const P = PredictionService.method;
const M = ModelService.method;
const CLASSIFY = "tensorflow/serving/classify";
const REGRESS = "tensorflow/serving/regress";
const PREDICT = "tensorflow/serving/predict";
const floats = (values: number[], shape = [values.length]) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: shape.map((size) => ({ size: BigInt(size) })) },
  floatVal: values,
});
const examples = (...xs: number[]) => ({
  kind: {
    case: "exampleList" as const,
    value: {
      examples: xs.map((x) => ({
        features: { feature: { x: { kind: { case: "floatList" as const, value: { value: [x] } } } } },
      })),
    },
  },
});
const spec = (signatureName = "") => ({ name: "half_plus_two", signatureName });

describe("tfs-grpc malformed requests", needsFixtures, () => {
  const grpc = useHalfPlusTwoGrpc();

  const call = <I extends DescMessage, O extends DescMessage>(
    method: UnaryMethod<I, O>,
    init: MessageInitShape<I>,
    deadline?: number,
  ): Promise<MessageShape<O>> => unaryCall(grpc.client, method, init, deadline);

  /** Sends `bytes` as they are to `path`. */
  const raw = (path: string, bytes: Uint8Array): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      grpc.client.makeUnaryRequest(
        path,
        (b: Uint8Array) => Buffer.from(b),
        (b: Buffer) => b,
        bytes,
        new Metadata(),
        {},
        (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
      );
    });

  const cases: [name: string, send: () => Promise<unknown>, code: status, details?: RegExp][] = [
    [
      "Predict: empty model name",
      () => call(P.predict, { inputs: { x: floats([1]) } }),
      status.INVALID_ARGUMENT,
      /^ModelSpec has no name specified\.$/,
    ],
    [
      "Predict: unknown model",
      () => call(P.predict, { modelSpec: { name: "nope" }, inputs: { x: floats([1]) } }),
      status.NOT_FOUND,
      /nope/,
    ],
    [
      "Predict: unknown version",
      () =>
        call(P.predict, {
          modelSpec: { name: "half_plus_two", versionChoice: { case: "version", value: { value: 7n } } },
          inputs: { x: floats([1]) },
        }),
      status.NOT_FOUND,
      /half_plus_two/,
    ],
    [
      "Predict: unknown version label",
      () =>
        call(P.predict, {
          modelSpec: { name: "half_plus_two", versionChoice: { case: "versionLabel", value: "canary" } },
          inputs: { x: floats([1]) },
        }),
      status.INVALID_ARGUMENT,
      /^Unrecognized servable version label: canary$/,
    ],
    [
      "Predict: unknown signature",
      () => call(P.predict, { modelSpec: spec("nope"), inputs: { x: floats([1]) } }),
      status.FAILED_PRECONDITION,
      /^Serving signature key "nope" not found\.$/,
    ],
    [
      "Predict: no inputs",
      () => call(P.predict, { modelSpec: spec(), inputs: {} }),
      status.INVALID_ARGUMENT,
      /^input size does not match signature: 0!=1 .*Missing but required: \{x\}\.$/,
    ],
    [
      "Predict: extra input",
      () => call(P.predict, { modelSpec: spec(), inputs: { x: floats([1]), z: floats([1]) } }),
      status.INVALID_ARGUMENT,
      /^input size does not match signature: 2!=1 .*Sent extra: \{z\}\. Missing but required: \{\}\.$/,
    ],
    [
      "Predict: wrong input alias",
      () => call(P.predict, { modelSpec: spec(), inputs: { z: floats([1]) } }),
      status.INVALID_ARGUMENT,
      /^input tensor alias not found in signature: z\./,
    ],
    [
      "Predict: DT_INT32 where DT_FLOAT is expected",
      () =>
        call(P.predict, {
          modelSpec: spec(),
          inputs: { x: { dtype: DataType.DT_INT32, tensorShape: { dim: [{ size: 1n }] }, intVal: [1] } },
        }),
      status.INVALID_ARGUMENT,
    ],
    [
      "Predict: DT_STRING where DT_FLOAT is expected",
      () =>
        call(P.predict, {
          modelSpec: spec(),
          inputs: {
            x: {
              dtype: DataType.DT_STRING,
              tensorShape: { dim: [{ size: 1n }] },
              stringVal: [new TextEncoder().encode("1.0")],
            },
          },
        }),
      status.INVALID_ARGUMENT,
    ],
    [
      "Predict: tensor_content with a wrong byte count",
      () =>
        call(P.predict, {
          modelSpec: spec(),
          inputs: {
            x: {
              dtype: DataType.DT_FLOAT,
              tensorShape: { dim: [{ size: 3n }] },
              tensorContent: new Uint8Array(8),
            },
          },
        }),
      status.INVALID_ARGUMENT,
      /^tensor parsing error: x$/,
    ],
    [
      "Predict: float_val count not matching the shape",
      () => call(P.predict, { modelSpec: spec(), inputs: { x: floats([1, 2, 3], [2]) } }),
      status.INVALID_ARGUMENT,
      /^tensor parsing error: x$/,
    ],
    [
      "Predict: DT_INVALID dtype",
      () =>
        call(P.predict, {
          modelSpec: spec(),
          inputs: { x: { dtype: DataType.DT_INVALID, tensorShape: { dim: [{ size: 1n }] } } },
        }),
      status.INVALID_ARGUMENT,
    ],
    [
      "Predict: unknown output_filter alias",
      () => call(P.predict, { modelSpec: spec(), inputs: { x: floats([1]) }, outputFilter: ["nope"] }),
      status.INVALID_ARGUMENT,
      /^output tensor alias not found in signature: nope/,
    ],
    [
      "Predict: duplicate output_filter alias",
      () => call(P.predict, { modelSpec: spec(), inputs: { x: floats([1]) }, outputFilter: ["y", "y"] }),
      status.INVALID_ARGUMENT,
      /duplicate output tensor alias: y/,
    ],
    [
      "Classify: unknown signature",
      () => call(P.classify, { modelSpec: spec("nope"), input: examples(1) }),
      status.INVALID_ARGUMENT,
      /nope/,
    ],
    [
      "Classify: regression signature",
      () => call(P.classify, { modelSpec: spec("regress_x_to_y"), input: examples(1) }),
      status.INVALID_ARGUMENT,
    ],
    [
      "Classify: empty input",
      () => call(P.classify, { modelSpec: spec("classify_x_to_y"), input: {} }),
      status.INVALID_ARGUMENT,
      /^Input is empty\.$/,
    ],
    [
      "Regress: empty model name",
      () => call(P.regress, { modelSpec: { signatureName: "regress_x_to_y" }, input: examples(1) }),
      status.INVALID_ARGUMENT,
      /^ModelSpec has no name specified\.$/,
    ],
    [
      "Regress: predict signature (input is not 'inputs')",
      () => call(P.regress, { modelSpec: spec("serving_default"), input: examples(1) }),
      status.INVALID_ARGUMENT,
    ],
    [
      "GetModelMetadata: unsupported metadata_field",
      () => call(P.getModelMetadata, { modelSpec: spec(), metadataField: ["signature_defs"] }),
      status.INVALID_ARGUMENT,
      /^Metadata field signature_defs is not supported$/,
    ],
    [
      "GetModelMetadata: no metadata_field",
      () => call(P.getModelMetadata, { modelSpec: spec() }),
      status.INVALID_ARGUMENT,
      /^GetModelMetadataRequest must specify at least one metadata_field$/,
    ],
    [
      "GetModelMetadata: no model_spec",
      () => call(P.getModelMetadata, { metadataField: ["signature_def"] }),
      status.INVALID_ARGUMENT,
      /^Missing ModelSpec$/,
    ],
    [
      "GetModelStatus: unknown model",
      () => call(M.getModelStatus, { modelSpec: { name: "nope" } }),
      status.NOT_FOUND,
      /^Could not find any versions of model nope$/,
    ],
    [
      "MultiInference: two different models",
      () =>
        call(P.multiInference, {
          tasks: [
            { modelSpec: spec("classify_x_to_y"), methodName: CLASSIFY },
            { modelSpec: { name: "other", signatureName: "regress_x_to_y" }, methodName: REGRESS },
          ],
          input: examples(1),
        }),
      status.INVALID_ARGUMENT,
      /^All ModelSpecs in a MultiInferenceRequest must access the same model name\.$/,
    ],
    [
      "MultiInference: repeated signature",
      () =>
        call(P.multiInference, {
          tasks: [
            { modelSpec: spec("regress_x_to_y"), methodName: REGRESS },
            { modelSpec: spec("regress_x_to_y"), methodName: REGRESS },
          ],
          input: examples(1),
        }),
      status.INVALID_ARGUMENT,
      /^Duplicate evaluation of signature: regress_x_to_y$/,
    ],
    [
      "MultiInference: predict method",
      () =>
        call(P.multiInference, {
          tasks: [{ modelSpec: spec("serving_default"), methodName: PREDICT }],
          input: examples(1),
        }),
      status.UNIMPLEMENTED,
      /^Unsupported signature method_name: tensorflow\/serving\/predict$/,
    ],
    [
      "MultiInference: task with an empty model name",
      () =>
        call(P.multiInference, {
          tasks: [{ modelSpec: { signatureName: "regress_x_to_y" }, methodName: REGRESS }],
          input: examples(1),
        }),
      status.INVALID_ARGUMENT,
    ],
    [
      "HandleReloadConfigRequest: custom model config",
      () =>
        call(M.handleReloadConfigRequest, {
          config: { config: { case: "customModelConfig", value: { typeUrl: "x", value: new Uint8Array() } } },
        }),
      status.INVALID_ARGUMENT,
      /^ServerModelConfig type not supported by HandleReloadConfigRequest\. Only ModelConfigList is currently supported$/,
    ],
    [
      "Predict: undecodable request bytes",
      () => raw(`/${PredictionService.typeName}/Predict`, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])),
      status.INTERNAL,
    ],
    [
      "Predict: deadline already in the past",
      () => call(P.predict, { modelSpec: spec(), inputs: { x: floats([1]) } }, Date.now() - 1000),
      status.DEADLINE_EXCEEDED,
    ],
    [
      "unknown method of PredictionService",
      () => raw(`/${PredictionService.typeName}/SessionRun`, new Uint8Array()),
      status.UNIMPLEMENTED,
    ],
  ];

  it(`${cases.length} malformed requests get their status codes, then a good Predict still works`, async () => {
    assert.ok(cases.length >= 25);
    for (const [name, send, code, details] of cases) {
      await assert.rejects(send(), (error: ServiceError) => {
        assert.equal(error.code, code, `${name}: got ${status[error.code]}: ${error.details}`);
        if (details) assert.match(error.details, details, name);
        return true;
      });
    }
    const response = await call(P.predict, { modelSpec: spec(), inputs: { x: floats([1, 2]) } });
    assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3]);
  });

  it("MultiInference runs classify and regress on the same tf.Examples", async () => {
    const response = await call(P.multiInference, {
      tasks: [
        { modelSpec: spec("classify_x_to_y"), methodName: CLASSIFY },
        { modelSpec: spec("regress_x_to_y"), methodName: REGRESS },
      ],
      input: examples(1, 5),
    });
    assert.equal(response.results.length, 2);
    const [classified, regressed] = response.results;
    assert.equal(classified?.modelSpec?.signatureName, "classify_x_to_y");
    assert.equal(regressed?.modelSpec?.signatureName, "regress_x_to_y");
    assert.equal(
      classified?.modelSpec?.versionChoice.case === "version" &&
        classified.modelSpec.versionChoice.value.value,
      123n,
    );
    assert.equal(classified?.result.case, "classificationResult");
    assert.equal(regressed?.result.case, "regressionResult");
    if (classified?.result.case !== "classificationResult" || regressed?.result.case !== "regressionResult")
      return;
    assert.deepEqual(
      classified.result.value.classifications.map((c) => c.classes.map((k) => [k.label, k.score])),
      [[["", 2.5]], [["", 4.5]]],
    );
    assert.deepEqual(
      regressed.result.value.regressions.map((r) => r.value),
      [2.5, 4.5],
    );
  });
});
