// MultiInference at the protobuf-message level (TF Serving's multi_inference.cc): several classify
// and regress tasks of one model, all fed the same serialized tf.Examples.
import { create } from "@bufbuild/protobuf";
import { invalidArgument, unimplemented } from "../../errors.js";
import {
  type InferenceResult,
  InferenceResultSchema,
  type MultiInferenceRequest,
  type MultiInferenceResponse,
  MultiInferenceResponseSchema,
} from "../../proto/gen/tensorflow_serving/apis/inference_pb.js";
import { type ModelSpec, ModelSpecSchema } from "../../proto/gen/tensorflow_serving/apis/model_pb.js";
import type { Servable, SignatureRunner } from "../../runtime/servable.js";
import { CLASSIFY_INPUTS, classificationOutputs, classificationResult } from "./classify.js";
import {
  CLASSIFY_METHOD,
  findSignature,
  type InferenceOptions,
  REGRESS_METHOD,
  resolveSignatureName,
  responseModelSpec,
  type ServableVersion,
} from "./common.js";
import { examplesTensor } from "./examples.js";
import { regressionOutputs, regressionResult } from "./regress.js";

/** A loaded model version, as a ModelSpec resolves to it. */
export interface ResolvedServable {
  readonly servable: Servable;
  /** The version number the responses report (undefined: leave model_spec.version unset). */
  readonly version: ServableVersion;
}

/** Resolves a ModelSpec (name + version or label) to a loaded servable; throws the server's errors. */
export type ServableResolver = (spec: ModelSpec) => ResolvedServable | Promise<ResolvedServable>;

/**
 * Runs a MultiInferenceRequest as TF Serving does: the servable is resolved from task 0's model_spec
 * (name and version/label; an empty spec when there are no tasks), then {@link runMultiInference}.
 *
 * @example
 * const response = await multiInference((spec) => core.resolve(spec), request);
 * response.results[0]?.result.case; // "regressionResult"
 */
export async function multiInference(
  resolve: ServableResolver,
  request: MultiInferenceRequest,
  options: InferenceOptions = {},
): Promise<MultiInferenceResponse> {
  const { servable, version } = await resolve(request.tasks[0]?.modelSpec ?? create(ModelSpecSchema));
  return runMultiInference(servable, version, request, options);
}

/**
 * Runs a MultiInferenceRequest's tasks on an already resolved servable (multi_inference.cc):
 * every task must name the same, non-empty model (INVALID_ARGUMENT `Found ModelSpec with an empty
 * model name.` / `All ModelSpecs in a MultiInferenceRequest must access the same model name.`);
 * a signature may be evaluated once (`Duplicate evaluation of signature: <s>`) and must exist
 * (`Requested signature not found in model graph: <s>`); method_name must be
 * `tensorflow/serving/classify` or `tensorflow/serving/regress` (else UNIMPLEMENTED
 * `Unsupported signature method_name: <m>`) and the signature must fit that API. Every signature is fed
 * the same serialized examples (as current TF Serving feeds one tensor to each signature's input,
 * so TF2 exports whose signatures have distinct input tensors work). One result per task, in
 * order, each with model_spec = the task's name, resolved signature name and `version`.
 */
export async function runMultiInference(
  servable: Servable,
  version: ServableVersion,
  request: MultiInferenceRequest,
  options: InferenceOptions = {},
): Promise<MultiInferenceResponse> {
  interface Task {
    readonly runner: SignatureRunner;
    readonly method: string;
    readonly outputs: string[];
    readonly spec: ModelSpec;
  }
  const tasks: Task[] = [];
  let modelName = "";
  const seen = new Set<string>();
  for (const task of request.tasks) {
    const name = task.modelSpec?.name ?? "";
    if (name === "") throw invalidArgument("Found ModelSpec with an empty model name.");
    if (modelName === "") modelName = name;
    else if (modelName !== name) {
      throw invalidArgument("All ModelSpecs in a MultiInferenceRequest must access the same model name.");
    }
    const signatureName = resolveSignatureName(task.modelSpec);
    if (seen.has(signatureName)) throw invalidArgument(`Duplicate evaluation of signature: ${signatureName}`);
    seen.add(signatureName);
    const runner = findSignature(
      servable,
      signatureName,
      (missing) => `Requested signature not found in model graph: ${missing}`,
    );
    let outputs: string[];
    if (task.methodName === CLASSIFY_METHOD) outputs = classificationOutputs(runner.def, options);
    else if (task.methodName === REGRESS_METHOD) outputs = regressionOutputs(runner.def, options);
    else throw unimplemented(`Unsupported signature method_name: ${task.methodName}`);
    tasks.push({
      runner,
      method: task.methodName,
      outputs,
      spec: responseModelSpec(name, signatureName, version),
    });
  }

  const examples = examplesTensor(request.input);
  const numExamples = examples.shape[0]!;
  const results: InferenceResult[] = [];
  for (const { runner, method, outputs, spec } of tasks) {
    const tensors = await runner.run(new Map([[CLASSIFY_INPUTS, examples]]), { outputFilter: outputs });
    results.push(
      create(InferenceResultSchema, {
        modelSpec: spec,
        result:
          method === CLASSIFY_METHOD
            ? { case: "classificationResult", value: classificationResult(runner.def, numExamples, tensors) }
            : { case: "regressionResult", value: regressionResult(numExamples, tensors) },
      }),
    );
  }
  return create(MultiInferenceResponseSchema, { results });
}
