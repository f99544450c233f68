import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { needsFixtures, tfServingModel } from "../../../test/fixtures.js";
import { Code, ServingError } from "../../errors.js";
import { ExampleSchema } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import { SignatureDefSchema } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { ClassificationRequestSchema } from "../../proto/gen/tensorflow_serving/apis/classification_pb.js";
import { MultiInferenceRequestSchema } from "../../proto/gen/tensorflow_serving/apis/inference_pb.js";
import { type Input, InputSchema } from "../../proto/gen/tensorflow_serving/apis/input_pb.js";
import { type ModelSpec, ModelSpecSchema } from "../../proto/gen/tensorflow_serving/apis/model_pb.js";
import { PredictRequestSchema } from "../../proto/gen/tensorflow_serving/apis/predict_pb.js";
import { RegressionRequestSchema } from "../../proto/gen/tensorflow_serving/apis/regression_pb.js";
import { loadServable, type Servable } from "../../runtime/servable.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { tensorFromProto, tensorToProto } from "../../tensor/tensor-proto.js";
import {
  classificationResult,
  classify,
  encodeOutputs,
  examplesTensor,
  multiInference,
  predict,
  regress,
  regressionResult,
  resolveSignatureName,
  responseModelSpec,
} from "./index.js";

const floats = (shape: number[], values: number[]): Tensor =>
  new Tensor(DataType.DT_FLOAT, shape, new Float32Array(values));

/** Rejects with a ServingError of `code` whose message matches `pattern`. */
const failsWith =
  (code: Code, pattern: RegExp | string) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof ServingError, `a ServingError, got ${String(error)}`);
    assert.equal(error.codeName, Code[code], error.message);
    if (typeof pattern === "string") assert.equal(error.message, pattern);
    else assert.match(error.message, pattern);
    return true;
  };

type ExampleInit = MessageInitShape<typeof ExampleSchema>;
const floatExample = (features: Record<string, number>): ExampleInit => ({
  features: {
    feature: Object.fromEntries(
      Object.entries(features).map(([key, v]) => [
        key,
        { kind: { case: "floatList", value: { value: [v] } } },
      ]),
    ),
  },
});
const exampleList = (xs: number[]): Input =>
  create(InputSchema, {
    kind: { case: "exampleList", value: { examples: xs.map((x) => floatExample({ x })) } },
  });
const withContext = (context: Record<string, number>, examples: Record<string, number>[]): Input =>
  create(InputSchema, {
    kind: {
      case: "exampleListWithContext",
      value: { context: floatExample(context), examples: examples.map(floatExample) },
    },
  });

const spec = (signatureName = "", name = "half_plus_two"): MessageInitShape<typeof ModelSpecSchema> => ({
  name,
  signatureName,
});

function assertModelSpec(
  actual: ModelSpec | undefined,
  name: string,
  signature: string,
  version: bigint,
): void {
  assert.ok(actual, "model_spec present");
  assert.equal(actual.name, name);
  assert.equal(actual.signatureName, signature);
  assert.deepEqual(actual.versionChoice.case, "version");
  assert.equal(actual.versionChoice.value?.value, version);
}

describe("examplesTensor / resolveSignatureName / responseModelSpec", () => {
  it("serializes example_list into a DT_STRING [N] tensor", () => {
    const tensor = examplesTensor(exampleList([1, 2]));
    assert.equal(tensor.dtype, DataType.DT_STRING);
    assert.deepEqual(tensor.shape, [2]);
    const parsed = tensor.strings.map((bytes) => fromBinary(ExampleSchema, bytes));
    assert.deepEqual(
      parsed.map((e) => e.features?.feature.x?.kind.value?.value),
      [[1], [2]],
    );
  });

  it("prefixes each example with the context, so the example's features win on a clash", () => {
    const tensor = examplesTensor(withContext({ x: 100, c: 7 }, [{ x: 1 }, {}]));
    const parsed = tensor.strings.map((bytes) => fromBinary(ExampleSchema, bytes));
    assert.deepEqual(parsed[0]?.features?.feature.x?.kind.value?.value, [1]);
    assert.deepEqual(parsed[0]?.features?.feature.c?.kind.value?.value, [7]);
    assert.deepEqual(parsed[1]?.features?.feature.x?.kind.value?.value, [100]);
  });

  it("rejects an empty Input with TF's message", () => {
    for (const input of [undefined, create(InputSchema), exampleList([]), withContext({ x: 1 }, [])]) {
      assert.throws(() => examplesTensor(input), failsWith(Code.INVALID_ARGUMENT, "Input is empty."));
    }
  });

  it("defaults the signature name and echoes the version only when known", () => {
    assert.equal(resolveSignatureName(undefined), "serving_default");
    assert.equal(resolveSignatureName(create(ModelSpecSchema, { name: "m" })), "serving_default");
    assert.equal(resolveSignatureName(create(ModelSpecSchema, { signatureName: "s" })), "s");
    assertModelSpec(responseModelSpec("m", "", 7), "m", "serving_default", 7n);
    assert.equal(responseModelSpec("m", "s", undefined).versionChoice.case, undefined);
  });
});

describe("encodeOutputs", () => {
  it("writes typed *_val fields or tensor_content; DT_STRING always in string_val", () => {
    const outputs = new Map([
      ["f", floats([2], [1.5, -2])],
      ["i", new Tensor(DataType.DT_INT64, [1], new BigInt64Array([5n]))],
      ["s", Tensor.fromStrings([2], ["a", "b"])],
    ]);
    const typed = encodeOutputs(outputs, false);
    assert.deepEqual(typed.f?.floatVal, [1.5, -2]);
    assert.equal(typed.f?.tensorContent.byteLength, 0);
    assert.deepEqual(typed.i?.int64Val, [5n]);
    const content = encodeOutputs(outputs, true);
    assert.equal(content.f?.floatVal.length, 0);
    assert.equal(content.f?.tensorContent.byteLength, 8);
    assert.deepEqual(Array.from(tensorFromProto(content.f!).values as Float32Array), [1.5, -2]);
    for (const encoded of [typed, content]) {
      assert.deepEqual(
        encoded.s?.stringVal.map((b) => new TextDecoder().decode(b)),
        ["a", "b"],
      );
      assert.equal(encoded.s?.tensorContent.byteLength, 0);
    }
  });
});

describe("classificationResult / regressionResult: TF Serving's output checks", () => {
  const classifyDef = (outputs: string[]) =>
    create(SignatureDefSchema, {
      inputs: { inputs: { dtype: DataType.DT_STRING } },
      outputs: Object.fromEntries(outputs.map((alias) => [alias, {}])),
    });

  it("pairs labels and scores per example", () => {
    const result = classificationResult(
      classifyDef(["classes", "scores"]),
      2,
      new Map([
        ["classes", Tensor.fromStrings([2, 2], ["car", "bike", "car", "bike"])],
        ["scores", floats([2, 2], [0.25, 0.75, 0.5, 0.125])],
      ]),
    );
    assert.deepEqual(
      result.classifications.map((c) => c.classes.map(({ label, score }) => [label, score])),
      [
        [
          ["car", 0.25],
          ["bike", 0.75],
        ],
        [
          ["car", 0.5],
          ["bike", 0.125],
        ],
      ],
    );
  });

  it("rejects wrong ranks, dtypes, batch sizes and class counts", () => {
    const run = (outputs: Record<string, Tensor>, n = 2) =>
      classificationResult(classifyDef(Object.keys(outputs)), n, new Map(Object.entries(outputs)));
    assert.throws(
      () => run({ scores: floats([2], [1, 2]) }),
      failsWith(Code.INVALID_ARGUMENT, "Expected Tensor shape: [batch_size num_classes] but got [2]"),
    );
    assert.throws(
      () => run({ scores: new Tensor(DataType.DT_DOUBLE, [2, 1], new Float64Array(2)) }),
      failsWith(Code.INVALID_ARGUMENT, "Expected scores Tensor of DT_FLOAT. Got: DT_DOUBLE"),
    );
    assert.throws(
      () => run({ classes: floats([2, 1], [1, 2]) }),
      failsWith(Code.INVALID_ARGUMENT, "Expected classes Tensor of DT_STRING. Got: DT_FLOAT"),
    );
    assert.throws(
      () => run({ scores: floats([3, 1], [1, 2, 3]) }),
      failsWith(Code.INVALID_ARGUMENT, "Expected scores output batch size of 2. Got: 3"),
    );
    assert.throws(
      () => run({ classes: Tensor.fromStrings([2, 1], ["a", "b"]), scores: floats([2, 2], [1, 2, 3, 4]) }),
      failsWith(Code.INVALID_ARGUMENT, "Tensors class and score should match in dim_size(1). Got 1 vs. 2"),
    );
  });

  it("accepts regression outputs of shape [N] or [N, 1] only", () => {
    const values = (t: Tensor, n: number) =>
      regressionResult(n, new Map([["outputs", t]])).regressions.map((r) => r.value);
    assert.deepEqual(values(floats([2], [1.5, 2]), 2), [1.5, 2]);
    assert.deepEqual(values(floats([2, 1], [1.5, 2]), 2), [1.5, 2]);
    assert.throws(
      () => values(floats([1, 2], [1, 2]), 1),
      failsWith(
        Code.INVALID_ARGUMENT,
        "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,2]",
      ),
    );
    assert.throws(
      () => values(floats([3], [1, 2, 3]), 2),
      failsWith(Code.INVALID_ARGUMENT, "Input batch size did not match output batch size: 2 vs. 3"),
    );
    assert.throws(
      () => values(new Tensor(DataType.DT_INT32, [2], new Int32Array(2)), 2),
      failsWith(Code.INVALID_ARGUMENT, "Expected output Tensor of DT_FLOAT.  Got: DT_INT32"),
    );
  });
});

describe("predict / classify / regress / multiInference on half_plus_two", needsFixtures, () => {
  let servable: Servable;
  before(async () => {
    servable = await loadServable(tfServingModel("saved_model_half_plus_two_cpu"));
  });
  after(async () => {
    await servable.close();
  });

  const predictRequest = (
    inputs: Record<string, ReturnType<typeof tensorToProto>>,
    signatureName = "",
    outputFilter: string[] = [],
  ) => create(PredictRequestSchema, { modelSpec: spec(signatureName), inputs, outputFilter });

  it("predicts y = 0.5x + 2 from either input encoding; typed outputs by default, tensor_content on request", async () => {
    const x = floats([3], [1, 2, 5]);
    for (const encoding of ["typed", "content"] as const) {
      const response = await predict(servable, 123n, predictRequest({ x: tensorToProto(x, encoding) }));
      assert.deepEqual(Object.keys(response.outputs), ["y"]);
      assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3, 4.5], encoding);
      assert.equal(response.outputs.y?.tensorContent.byteLength, 0);
      assert.equal(response.outputs.y?.dtype, DataType.DT_FLOAT);
      assert.deepEqual(
        response.outputs.y?.tensorShape?.dim.map((d) => d.size),
        [3n],
      );
      assertModelSpec(response.modelSpec, "half_plus_two", "serving_default", 123n);
    }
    const content = await predict(servable, 7, predictRequest({ x: tensorToProto(x, "typed") }), {
      tensorContentOutputs: true,
    });
    assert.equal(content.outputs.y?.floatVal.length, 0);
    assert.deepEqual(Array.from(tensorFromProto(content.outputs.y!).values as Float32Array), [2.5, 3, 4.5]);
    assertModelSpec(content.modelSpec, "half_plus_two", "serving_default", 7n);
  });

  it("runs a named signature and honours output_filter", async () => {
    const response = await predict(
      servable,
      1n,
      predictRequest({ inputs: tensorToProto(floats([2, 1], [2, 4])) }, "regress_x2_to_y3", ["outputs"]),
    );
    assert.deepEqual(response.outputs.outputs?.floatVal, [4, 5]);
    assertModelSpec(response.modelSpec, "half_plus_two", "regress_x2_to_y3", 1n);
    const x = { x: tensorToProto(floats([1], [2])) };
    await assert.rejects(
      predict(servable, 1n, predictRequest(x, "", ["z"])),
      failsWith(
        Code.INVALID_ARGUMENT,
        "output tensor alias not found in signature: z Outputs expected to be in the set {y}.",
      ),
    );
    await assert.rejects(
      predict(servable, 1n, predictRequest(x, "", ["y", "y"])),
      failsWith(Code.INVALID_ARGUMENT, "duplicate output tensor alias: y"),
    );
  });

  it("rejects an unknown signature, missing/extra/unknown inputs and undecodable tensors as TF Serving does", async () => {
    const x = tensorToProto(floats([1], [1]));
    await assert.rejects(
      predict(servable, 1n, predictRequest({ x }, "nope")),
      failsWith(Code.FAILED_PRECONDITION, 'Serving signature key "nope" not found.'),
    );
    await assert.rejects(
      predict(servable, 1n, predictRequest({})),
      failsWith(
        Code.INVALID_ARGUMENT,
        "input size does not match signature: 0!=1 len({}) != len({x}). Sent extra: {}. Missing but required: {x}.",
      ),
    );
    await assert.rejects(
      predict(servable, 1n, predictRequest({ x, z: x })),
      failsWith(
        Code.INVALID_ARGUMENT,
        "input size does not match signature: 2!=1 len({x,z}) != len({x}). Sent extra: {z}. Missing but required: {}.",
      ),
    );
    await assert.rejects(
      predict(servable, 1n, predictRequest({ z: x })),
      failsWith(
        Code.INVALID_ARGUMENT,
        "input tensor alias not found in signature: z. Inputs expected to be in the set {x}.",
      ),
    );
    const short = tensorToProto(floats([3], [1, 2, 3]), "content");
    short.tensorContent = short.tensorContent.slice(0, 8);
    await assert.rejects(
      predict(servable, 1n, predictRequest({ x: short })),
      failsWith(Code.INVALID_ARGUMENT, "tensor parsing error: x"),
    );
    await assert.rejects(
      predict(
        servable,
        1n,
        predictRequest({ x: tensorToProto(new Tensor(DataType.DT_INT32, [1], new Int32Array(1))) }),
      ),
      failsWith(Code.INVALID_ARGUMENT, /Expects arg\[0\] to be float32 but int32 is provided/),
    );
  });

  it("checks method names only under --enable_signature_method_name_check", async () => {
    const x = { inputs: tensorToProto(floats([1, 1], [2])) };
    // A regress signature is a valid Predict target either way.
    await predict(servable, 1n, predictRequest(x, "regress_x2_to_y3"), { methodNameCheck: true });
    const request = create(ClassificationRequestSchema, {
      modelSpec: spec("regress_x_to_y"),
      input: exampleList([1]),
    });
    await assert.rejects(
      classify(servable, 1n, request, { methodNameCheck: true }),
      failsWith(
        Code.INVALID_ARGUMENT,
        "Expected classification signature method_name to be tensorflow/serving/classify. Was: tensorflow/serving/regress",
      ),
    );
  });

  it("classifies: scores = 0.5x + 2, empty labels, with and without context", async () => {
    const response = await classify(
      servable,
      123n,
      create(ClassificationRequestSchema, {
        modelSpec: spec("classify_x_to_y"),
        input: exampleList([1, 2, 5]),
      }),
    );
    assert.deepEqual(
      response.result?.classifications.map((c) => c.classes.map(({ label, score }) => [label, score])),
      [[["", 2.5]], [["", 3]], [["", 4.5]]],
    );
    assertModelSpec(response.modelSpec, "half_plus_two", "classify_x_to_y", 123n);
    const withCtx = await classify(
      servable,
      123n,
      create(ClassificationRequestSchema, {
        modelSpec: spec("classify_x_to_y"),
        input: withContext({ x: 10 }, [{ x: 4 }, {}]),
      }),
    );
    assert.deepEqual(
      withCtx.result?.classifications.map((c) => c.classes[0]?.score),
      [4, 7],
    );
  });

  it("regresses: values = 0.5x + 2 (regress_x_to_y) and 0.5x + 3 (regress_x_to_y2), with context", async () => {
    const run = (signatureName: string, input: Input) =>
      regress(servable, 5n, create(RegressionRequestSchema, { modelSpec: spec(signatureName), input }));
    const y = await run("regress_x_to_y", exampleList([4, 0, -3]));
    assert.deepEqual(
      y.result?.regressions.map((r) => r.value),
      [4, 2, 0.5],
    );
    assertModelSpec(y.modelSpec, "half_plus_two", "regress_x_to_y", 5n);
    const y2 = await run("regress_x_to_y2", withContext({ x: 2, unused: 1 }, [{}, { x: 6 }]));
    assert.deepEqual(
      y2.result?.regressions.map((r) => r.value),
      [4, 6],
    );
  });

  it("rejects classify/regress on unknown or unfitting signatures and on empty input", async () => {
    const classifyOn = (signatureName: string, input: Input = exampleList([1])) =>
      classify(servable, 1n, create(ClassificationRequestSchema, { modelSpec: spec(signatureName), input }));
    const regressOn = (signatureName: string, input: Input = exampleList([1])) =>
      regress(servable, 1n, create(RegressionRequestSchema, { modelSpec: spec(signatureName), input }));
    await assert.rejects(
      classifyOn("nope"),
      failsWith(Code.INVALID_ARGUMENT, "No signature was found with the name: nope"),
    );
    await assert.rejects(
      regressOn("nope"),
      failsWith(Code.INVALID_ARGUMENT, "No signature was found with the name: nope"),
    );
    await assert.rejects(
      classifyOn(""),
      failsWith(Code.INVALID_ARGUMENT, /^No classification inputs found in SignatureDef: .*key: "x"/s),
    );
    await assert.rejects(
      classifyOn("regress_x_to_y"),
      failsWith(
        Code.INVALID_ARGUMENT,
        /^Expected classification signature outputs to contain at least one of "classes" or "scores"\. Signature was: /,
      ),
    );
    await assert.rejects(
      regressOn(""),
      failsWith(Code.INVALID_ARGUMENT, /^No regression inputs found in SignatureDef: /),
    );
    await assert.rejects(
      regressOn("classify_x_to_y"),
      failsWith(Code.INVALID_ARGUMENT, /^No regression outputs found in SignatureDef: /),
    );
    await assert.rejects(
      classifyOn("classify_x_to_y", exampleList([])),
      failsWith(Code.INVALID_ARGUMENT, "Input is empty."),
    );
    await assert.rejects(
      regressOn("regress_x_to_y", create(InputSchema)),
      failsWith(Code.INVALID_ARGUMENT, "Input is empty."),
    );
  });

  const task = (signatureName: string, methodName: string, name = "half_plus_two") => ({
    modelSpec: spec(signatureName, name),
    methodName,
  });
  const REGRESS = "tensorflow/serving/regress";
  const CLASSIFY = "tensorflow/serving/classify";

  it("multi-inference: a regress and a classify task on one input, resolved from task 0's spec", async () => {
    const resolvedWith: ModelSpec[] = [];
    const resolve = (modelSpec: ModelSpec) => {
      resolvedWith.push(modelSpec);
      return { servable, version: 123n };
    };
    const response = await multiInference(
      resolve,
      create(MultiInferenceRequestSchema, {
        tasks: [task("regress_x_to_y", REGRESS), task("classify_x_to_y", CLASSIFY)],
        input: exampleList([2, 6]),
      }),
    );
    assert.equal(resolvedWith.length, 1);
    assert.equal(resolvedWith[0]?.name, "half_plus_two");
    assert.equal(resolvedWith[0]?.signatureName, "regress_x_to_y");
    const [regression, classification] = response.results;
    assertModelSpec(regression?.modelSpec, "half_plus_two", "regress_x_to_y", 123n);
    assert.equal(regression?.result.case, "regressionResult");
    assert.deepEqual(
      regression?.result.case === "regressionResult" &&
        regression.result.value.regressions.map((r) => r.value),
      [3, 5],
    );
    assertModelSpec(classification?.modelSpec, "half_plus_two", "classify_x_to_y", 123n);
    assert.deepEqual(
      classification?.result.case === "classificationResult" &&
        classification.result.value.classifications.map((c) =>
          c.classes.map(({ label, score }) => [label, score]),
        ),
      [[["", 3]], [["", 5]]],
    );
  });

  it("multi-inference: TF Serving's request checks", async () => {
    const run = (tasks: ReturnType<typeof task>[], input: Input = exampleList([2])) =>
      multiInference(
        () => ({ servable, version: 1n }),
        create(MultiInferenceRequestSchema, { tasks, input }),
      );
    await assert.rejects(
      run([task("regress_x_to_y", REGRESS), task("regress_x_to_y", REGRESS)]),
      failsWith(Code.INVALID_ARGUMENT, "Duplicate evaluation of signature: regress_x_to_y"),
    );
    await assert.rejects(
      run([task("regress_x_to_y", REGRESS), task("regress_x_to_y2", REGRESS, "other")]),
      failsWith(
        Code.INVALID_ARGUMENT,
        "All ModelSpecs in a MultiInferenceRequest must access the same model name.",
      ),
    );
    await assert.rejects(
      run([task("regress_x_to_y", REGRESS, "")]),
      failsWith(Code.INVALID_ARGUMENT, "Found ModelSpec with an empty model name."),
    );
    await assert.rejects(
      run([task("serving_default", "tensorflow/serving/predict")]),
      failsWith(Code.UNIMPLEMENTED, "Unsupported signature method_name: tensorflow/serving/predict"),
    );
    await assert.rejects(
      run([task("ThisSignatureDoesNotExist", REGRESS)]),
      failsWith(
        Code.INVALID_ARGUMENT,
        "Requested signature not found in model graph: ThisSignatureDoesNotExist",
      ),
    );
    await assert.rejects(
      run([task("regress_x_to_y", REGRESS)], create(InputSchema)),
      failsWith(Code.INVALID_ARGUMENT, "Input is empty."),
    );
  });

  it("multi-inference on a TF2 export, whose signatures read distinct input tensors", async () => {
    const tf2 = await loadServable(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    try {
      const response = await multiInference(
        () => ({ servable: tf2, version: 123n }),
        create(MultiInferenceRequestSchema, {
          tasks: [task("regress_x_to_y2", REGRESS), task("classify_x_to_y", CLASSIFY)],
          input: exampleList([2]),
        }),
      );
      assert.deepEqual(
        response.results.map(({ result }) =>
          result.case === "regressionResult"
            ? result.value.regressions[0]?.value
            : result.value?.classifications[0]?.classes[0]?.score,
        ),
        [4, 3],
      );
    } finally {
      await tf2.close();
    }
  });
});
