// Classify at the protobuf-message level (TF Serving's classifier.cc RunClassify): the signature must
// take one `inputs` tensor of serialized tf.Examples and output `classes` (DT_STRING [N, K]) and/or
// `scores` (DT_FLOAT [N, K]); the outputs become one Classifications per example.
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import {
  type ClassificationRequest,
  type ClassificationResponse,
  ClassificationResponseSchema,
  type ClassificationResult,
  ClassificationResultSchema,
} from "../../proto/gen/tensorflow_serving/apis/classification_pb.js";
import type { Servable } from "../../runtime/servable.js";
import { DataType, dtypeName } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import {
  CLASSIFY_METHOD,
  type InferenceOptions,
  runOnExamples,
  type ServableVersion,
  shapeDebugString,
  signatureDebugString,
} from "./common.js";

/** Signature aliases of the classify API (tensorflow/cc/saved_model/signature_constants.h). */
export const CLASSIFY_INPUTS = "inputs";
export const CLASSIFY_OUTPUT_CLASSES = "classes";
export const CLASSIFY_OUTPUT_SCORES = "scores";

/**
 * Runs a ClassificationRequest on a resolved servable, as TF Serving's Classify does: signature
 * lookup and examples as {@link runOnExamples} says, signature checked by {@link classificationOutputs},
 * outputs checked and converted by {@link classificationResult}. The response's model_spec carries the
 * resolved signature and `version`.
 *
 * @example
 * const { result } = await classify(servable, 123n, request);
 * result?.classifications[0]?.classes[0]?.score; // 2.5
 */
export async function classify(
  servable: Servable,
  version: ServableVersion,
  request: ClassificationRequest,
  options: InferenceOptions = {},
): Promise<ClassificationResponse> {
  const run = await runOnExamples(servable, version, request, CLASSIFY_INPUTS, (def) =>
    classificationOutputs(def, options),
  );
  return create(ClassificationResponseSchema, {
    result: classificationResult(run.def, run.numExamples, run.outputs),
    modelSpec: run.modelSpec,
  });
}

/**
 * Checks that a signature fits the classify API (classifier.cc PreProcessClassification) and returns
 * the output aliases to fetch: `classes` and/or `scores`. All failures are INVALID_ARGUMENT.
 */
export function classificationOutputs(def: SignatureDef, options: InferenceOptions = {}): string[] {
  if (options.methodNameCheck && def.methodName !== CLASSIFY_METHOD) {
    throw invalidArgument(
      `Expected classification signature method_name to be ${CLASSIFY_METHOD}. Was: ${def.methodName}`,
    );
  }
  if (Object.keys(def.inputs).length !== 1) throw invalidArgument("Expected one input Tensor.");
  const outputCount = Object.keys(def.outputs).length;
  if (outputCount !== 1 && outputCount !== 2) {
    throw invalidArgument(`Expected one or two output Tensors, found ${outputCount}`);
  }
  if (!Object.hasOwn(def.inputs, CLASSIFY_INPUTS)) {
    throw invalidArgument(`No classification inputs found in SignatureDef: ${signatureDebugString(def)}`);
  }
  const outputs = [CLASSIFY_OUTPUT_CLASSES, CLASSIFY_OUTPUT_SCORES].filter((alias) =>
    Object.hasOwn(def.outputs, alias),
  );
  if (outputs.length === 0) {
    throw invalidArgument(
      `Expected classification signature outputs to contain at least one of "${CLASSIFY_OUTPUT_CLASSES}" or ` +
        `"${CLASSIFY_OUTPUT_SCORES}". Signature was: ${signatureDebugString(def)}`,
    );
  }
  return outputs;
}

/**
 * Converts a classify signature's outputs into a ClassificationResult (classifier.cc
 * PostProcessClassificationResult): `classes` must be DT_STRING and `scores` DT_FLOAT, both rank 2
 * with `numExamples` rows and, when both are present, the same number of columns.
 */
export function classificationResult(
  def: SignatureDef,
  numExamples: number,
  outputs: ReadonlyMap<string, Tensor>,
): ClassificationResult {
  const classes = Object.hasOwn(def.outputs, CLASSIFY_OUTPUT_CLASSES)
    ? outputs.get(CLASSIFY_OUTPUT_CLASSES)
    : undefined;
  const scores = Object.hasOwn(def.outputs, CLASSIFY_OUTPUT_SCORES)
    ? outputs.get(CLASSIFY_OUTPUT_SCORES)
    : undefined;
  if (classes) checkClassificationTensor(classes, "classes", DataType.DT_STRING, numExamples);
  if (scores) checkClassificationTensor(scores, "scores", DataType.DT_FLOAT, numExamples);
  if (classes && scores && classes.shape[1] !== scores.shape[1]) {
    throw invalidArgument(
      `Tensors class and score should match in dim_size(1). Got ${classes.shape[1]} vs. ${scores.shape[1]}`,
    );
  }
  const numClasses = (classes ?? scores)?.shape[1] ?? 0;
  const labels = classes?.strings;
  const values = scores?.values;
  const decoder = new TextDecoder();
  return create(ClassificationResultSchema, {
    classifications: Array.from({ length: numExamples }, (_, i) => ({
      classes: Array.from({ length: numClasses }, (_, c) => ({
        label: labels ? decoder.decode(labels[i * numClasses + c]) : "",
        score: values ? Number(values[i * numClasses + c]) : 0,
      })),
    })),
  });
}

function checkClassificationTensor(tensor: Tensor, what: string, dtype: DataType, numExamples: number): void {
  if (tensor.rank !== 2) {
    throw invalidArgument(
      `Expected Tensor shape: [batch_size num_classes] but got ${shapeDebugString(tensor.shape)}`,
    );
  }
  if (tensor.dtype !== dtype) {
    throw invalidArgument(`Expected ${what} Tensor of ${dtypeName(dtype)}. Got: ${dtypeName(tensor.dtype)}`);
  }
  if (tensor.shape[0] !== numExamples) {
    throw invalidArgument(`Expected ${what} output batch size of ${numExamples}. Got: ${tensor.shape[0]}`);
  }
}
