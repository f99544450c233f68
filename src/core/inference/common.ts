// Pieces every TF Serving request kind shares: signature-name defaulting, the response ModelSpec,
// signature lookup and TF's way of printing shapes in error messages.
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { type ModelSpec, ModelSpecSchema } from "../../proto/gen/tensorflow_serving/apis/model_pb.js";
import { printTextProto } from "../../proto/text-format.js";
import type { Servable, SignatureRunner } from "../../runtime/servable.js";

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

/** A shape as TF's TensorShape::DebugString prints it: `[2,3]`, `[]` for a scalar. */
export function shapeDebugString(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** A SignatureDef as TF's SignatureDef::DebugString renders it in error messages (text format). */
export function signatureDebugString(def: SignatureDef): string {
  return printTextProto(SignatureDefSchema, def);
}
