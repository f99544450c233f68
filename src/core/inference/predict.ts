// Predict at the protobuf-message level (TF Serving's predict_util.cc RunPredict): signature lookup,
// input checks, TensorProto decoding, output filtering and TensorProto encoding of the outputs.
import { create } from "@bufbuild/protobuf";
import { Code, failedPrecondition, invalidArgument, ServingError } from "../../errors.js";
import type { TensorProto } from "../../proto/gen/tensorflow/core/framework/tensor_pb.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import {
  type PredictRequest,
  type PredictResponse,
  PredictResponseSchema,
} from "../../proto/gen/tensorflow_serving/apis/predict_pb.js";
import type { Servable, SignatureRunner } from "../../runtime/servable.js";
import type { Tensor } from "../../tensor/tensor.js";
import { tensorFromProto, tensorToProto } from "../../tensor/tensor-proto.js";
import {
  CLASSIFY_METHOD,
  type InferenceOptions,
  PREDICT_METHOD,
  REGRESS_METHOD,
  resolveSignatureName,
  responseModelSpec,
  type ServableVersion,
} from "./common.js";

export interface PredictOptions extends InferenceOptions {
  /**
   * Encode output tensors in tensor_content (TF Serving's --enable_serialization_as_tensor_content)
   * instead of the typed *_val fields. DT_STRING outputs always use string_val.
   */
  tensorContentOutputs?: boolean;
}

/**
 * Runs a PredictRequest on a resolved servable, as TF Serving's gRPC Predict does.
 *
 * - signature: model_spec.signature_name, default `serving_default`; unknown → FAILED_PRECONDITION
 *   `Serving signature key "<s>" not found.`
 * - inputs: must match the signature's input aliases (INVALID_ARGUMENT `input size does not match
 *   signature: …` / `input tensor alias not found in signature: …`); signature defaults fill
 *   missing ones; an undecodable TensorProto → INVALID_ARGUMENT `tensor parsing error: <alias>`.
 * - output_filter: a subset of the output aliases (empty → all).
 * - outputs: typed *_val fields, or tensor_content with `tensorContentOutputs`.
 * - model_spec: the request's model name, the resolved signature name and `version`.
 *
 * @example
 * const response = await predict(servable, 123n, request);
 * response.outputs.y?.floatVal; // [2.5, 3, 4.5]
 */
export async function predict(
  servable: Servable,
  version: ServableVersion,
  request: PredictRequest,
  options: PredictOptions = {},
): Promise<PredictResponse> {
  const signatureName = resolveSignatureName(request.modelSpec);
  const runner = predictSignature(servable, signatureName);
  if (options.methodNameCheck) checkPredictMethod(runner.def);
  const inputs = predictInputs(runner.def, request.inputs);
  const outputs = await runner.run(inputs, { outputFilter: request.outputFilter });
  return create(PredictResponseSchema, {
    outputs: encodeOutputs(outputs, options.tensorContentOutputs ?? false),
    modelSpec: responseModelSpec(request.modelSpec?.name ?? "", signatureName, version),
  });
}

/** The signature a Predict call runs; unknown → FAILED_PRECONDITION as TF Serving's gRPC Predict says it. */
export function predictSignature(servable: Servable, signatureName: string): SignatureRunner {
  const runner = servable.signatures.get(signatureName);
  if (!runner) throw failedPrecondition(`Serving signature key "${signatureName}" not found.`);
  return runner;
}

/**
 * Decodes a PredictRequest's inputs after TF Serving's checks (predict_util.cc PreProcessPrediction):
 * the number of inputs must equal the signature's unless the signature has defaults, every alias must
 * be a signature input, and every TensorProto must decode.
 */
export function predictInputs(
  def: SignatureDef,
  protos: { readonly [alias: string]: TensorProto },
): Map<string, Tensor> {
  const sent = Object.keys(protos).sort();
  const expected = Object.keys(def.inputs).sort();
  const known = new Set(expected);
  if (sent.length !== expected.length && Object.keys(def.defaults).length === 0) {
    const extra = sent.filter((alias) => !known.has(alias));
    const missing = expected.filter((alias) => !Object.hasOwn(protos, alias));
    throw invalidArgument(
      `input size does not match signature: ${sent.length}!=${expected.length} len({${sent.join(",")}}) != ` +
        `len({${expected.join(",")}}). Sent extra: {${extra.join(",")}}. Missing but required: {${missing.join(",")}}.`,
    );
  }
  for (const alias of sent) {
    if (!known.has(alias)) {
      throw invalidArgument(
        `input tensor alias not found in signature: ${alias}. Inputs expected to be in the set {${expected.join(",")}}.`,
      );
    }
  }
  const inputs = new Map<string, Tensor>();
  for (const alias of sent) {
    try {
      inputs.set(alias, tensorFromProto(protos[alias]!));
    } catch (error: unknown) {
      throw new ServingError(Code.INVALID_ARGUMENT, `tensor parsing error: ${alias}`, { cause: error });
    }
  }
  return inputs;
}

/**
 * Output tensors as a PredictResponse's `outputs` map: TF's AsProtoField (typed *_val fields) by
 * default, AsProtoTensorContent with `tensorContent`; DT_STRING always goes in string_val.
 */
export function encodeOutputs(
  outputs: ReadonlyMap<string, Tensor>,
  tensorContent: boolean,
): { [alias: string]: TensorProto } {
  const encoded: { [alias: string]: TensorProto } = {};
  for (const [alias, tensor] of outputs)
    encoded[alias] = tensorToProto(tensor, tensorContent ? "content" : "typed");
  return encoded;
}

const PREDICT_METHODS = [PREDICT_METHOD, CLASSIFY_METHOD, REGRESS_METHOD];

/** predict_util.cc VerifySignature, only run under --enable_signature_method_name_check. */
function checkPredictMethod(def: SignatureDef): void {
  if (PREDICT_METHODS.includes(def.methodName)) return;
  throw new ServingError(
    Code.INTERNAL,
    `Expected prediction signature method_name to be one of {${PREDICT_METHODS.join(", ")}}. Was: ${def.methodName}`,
  );
}
