// Pieces every TF Serving request kind shares: signature-name defaulting, the response ModelSpec,
// signature lookup, running a signature on a request's examples and TF's way of printing shapes in
// error messages.
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import type { Input } from "../../proto/gen/tensorflow_serving/apis/input_pb.js";
import { type ModelSpec, ModelSpecSchema } from "../../proto/gen/tensorflow_serving/apis/model_pb.js";
import { printTextProto } from "../../proto/text-format.js";
import type { Servable, SignatureRunner } from "../../runtime/servable.js";
import type { Tensor } from "../../tensor/tensor.js";
import { examplesTensor } from "./examples.js";

/** The signature key used when a ModelSpec names none (tensorflow::kDefaultServingSignatureDefKey). */
export const DEFAULT_SIGNATURE = "serving_default";
export const PREDICT_METHOD = "tensorflow/serving/predict";
export const CLASSIFY_METHOD = "tensorflow/serving/classify";
export const REGRESS_METHOD = "tensorflow/serving/regress";

/**
 * The version a response's ModelSpec reports: the resolved version of the servable, or undefined to
 * leave `version` unset (TF Serving's warmup runs requests with no version).
 */
export type ServableVersion = bigint | number | undefined;

/** Options shared by predict, classify, regress and multiInference. */
export interface InferenceOptions {
  /**
   * TF Serving's --enable_signature_method_name_check (default false): when set, a signature's
   * method_name must fit the API (predict accepts predict/classify/regress signatures).
   */
  methodNameCheck?: boolean;
}

/**
 * The signature a ModelSpec asks for: its signature_name, or `serving_default` when empty.
 *
 * @example
 * resolveSignatureName(create(ModelSpecSchema, { name: "m" })); // "serving_default"
 */
export function resolveSignatureName(spec: ModelSpec | undefined): string {
  return spec?.signatureName || DEFAULT_SIGNATURE;
}

/**
 * The ModelSpec a response echoes (TF Serving's MakeModelSpec): the request's model name, the
 * signature name with `serving_default` filled in, and the resolved version when known.
 */
export function responseModelSpec(name: string, signatureName: string, version: ServableVersion): ModelSpec {
  return create(ModelSpecSchema, {
    name,
    signatureName: signatureName || DEFAULT_SIGNATURE,
    versionChoice:
      version === undefined ? { case: undefined } : { case: "version", value: { value: BigInt(version) } },
  });
}

/** A servable's signature, or INVALID_ARGUMENT with `message(name)` when it has none of that name. */
export function findSignature(
  servable: Servable,
  name: string,
  message: (name: string) => string,
): SignatureRunner {
  const runner = servable.signatures.get(name);
  if (!runner) throw invalidArgument(message(name));
  return runner;
}

/** What {@link runOnExamples} hands back for the API-specific post-processing. */
export interface ExamplesRun {
  readonly def: SignatureDef;
  readonly numExamples: number;
  readonly outputs: ReadonlyMap<string, Tensor>;
  /** The response's model_spec: the request's model name, the resolved signature and `version`. */
  readonly modelSpec: ModelSpec;
}

/**
 * The part of Classify and Regress that is the same (classifier.cc / regressor.cc): signature by
 * model_spec.signature_name (default `serving_default`; unknown → INVALID_ARGUMENT `No signature was
 * found with the name: <s>`), checked by `outputsFor` (which returns the output aliases to fetch),
 * then fed the request's examples ({@link examplesTensor}; none → `Input is empty.`) as `inputAlias`.
 *
 * @example
 * const run = await runOnExamples(servable, 1n, request, "inputs", (def) => regressionOutputs(def));
 * run.outputs.get("outputs"); // the signature's output tensor
 */
export async function runOnExamples(
  servable: Servable,
  version: ServableVersion,
  request: { readonly modelSpec?: ModelSpec; readonly input?: Input },
  inputAlias: string,
  outputsFor: (def: SignatureDef) => string[],
): Promise<ExamplesRun> {
  const signatureName = resolveSignatureName(request.modelSpec);
  const runner = findSignature(
    servable,
    signatureName,
    (name) => `No signature was found with the name: ${name}`,
  );
  const outputFilter = outputsFor(runner.def);
  const examples = examplesTensor(request.input);
  const outputs = await runner.run(new Map([[inputAlias, examples]]), { outputFilter });
  return {
    def: runner.def,
    numExamples: examples.shape[0]!,
    outputs,
    modelSpec: responseModelSpec(request.modelSpec?.name ?? "", signatureName, version),
  };
}

/** A shape as TF's TensorShape::DebugString prints it: `[2,3]`, `[]` for a scalar. */
export function shapeDebugString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** A SignatureDef as TF's SignatureDef::DebugString renders it in error messages (text format). */
export function signatureDebugString(def: SignatureDef): string {
  return printTextProto(SignatureDefSchema, def);
}
