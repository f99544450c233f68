// Regress at the protobuf-message level (TF Serving's regressor.cc RunRegress): the signature must
// take one `inputs` tensor of serialized tf.Examples and have one output, `outputs`, DT_FLOAT of
// shape [N] or [N, 1]; its values become one Regression per example.
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import type { SignatureDef } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import {
  type RegressionRequest,
  type RegressionResponse,
  RegressionResponseSchema,
  type RegressionResult,
  RegressionResultSchema,
} from "../../proto/gen/tensorflow_serving/apis/regression_pb.js";
import type { Servable } from "../../runtime/servable.js";
import { DataType, dtypeName } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import {
  type InferenceOptions,
  REGRESS_METHOD,
  runOnExamples,
  type ServableVersion,
  shapeDebugString,
  signatureDebugString,
} from "./common.js";

/** Signature aliases of the regress API (tensorflow/cc/saved_model/signature_constants.h). */
export const REGRESS_INPUTS = "inputs";
export const REGRESS_OUTPUTS = "outputs";

/**
 * Runs a RegressionRequest on a resolved servable, as TF Serving's Regress does: signature lookup
 * and examples as {@link runOnExamples} says, signature checked by {@link regressionOutputs}, output
 * checked and converted by {@link regressionResult}. The response's model_spec carries the resolved
 * signature and `version`.
 *
 * @example
 * const { result } = await regress(servable, 123n, request);
 * result?.regressions.map((r) => r.value); // [2.5, 3]
 */
export async function regress(
  servable: Servable,
  version: ServableVersion,
  request: RegressionRequest,
  options: InferenceOptions = {},
): Promise<RegressionResponse> {
  const run = await runOnExamples(servable, version, request, REGRESS_INPUTS, (def) =>
    regressionOutputs(def, options),
  );
  return create(RegressionResponseSchema, {
    result: regressionResult(run.numExamples, run.outputs),
    modelSpec: run.modelSpec,
  });
}

/**
 * Checks that a signature fits the regress API (regressor.cc PreProcessRegression) and returns the
 * output aliases to fetch (`outputs`). All failures are INVALID_ARGUMENT.
 */
export function regressionOutputs(def: SignatureDef, options: InferenceOptions = {}): string[] {
  if (options.methodNameCheck && def.methodName !== REGRESS_METHOD) {
    throw invalidArgument(
      `Expected regression signature method_name to be ${REGRESS_METHOD}. Was: ${def.methodName}`,
    );
  }
  if (Object.keys(def.inputs).length !== 1) throw invalidArgument("Expected one input Tensor.");
  if (Object.keys(def.outputs).length !== 1) throw invalidArgument("Expected one output Tensor.");
  if (!Object.hasOwn(def.inputs, REGRESS_INPUTS)) {
    throw invalidArgument(`No regression inputs found in SignatureDef: ${signatureDebugString(def)}`);
  }
  if (!Object.hasOwn(def.outputs, REGRESS_OUTPUTS)) {
    throw invalidArgument(`No regression outputs found in SignatureDef: ${signatureDebugString(def)}`);
  }
  return [REGRESS_OUTPUTS];
}

/**
 * Converts a regress signature's `outputs` tensor into a RegressionResult (regressor.cc
 * PostProcessRegressionResult): DT_FLOAT, shape [N] or [N, 1] with N = `numExamples`.
 */
export function regressionResult(
  numExamples: number,
  outputs: ReadonlyMap<string, Tensor>,
): RegressionResult {
  const tensor = outputs.get(REGRESS_OUTPUTS);
  if (!tensor) throw invalidArgument(`Could not find output tensor '${REGRESS_OUTPUTS}'`);
  if (!(tensor.rank === 1 || (tensor.rank === 2 && tensor.shape[1] === 1))) {
    throw invalidArgument(
      `Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got ${shapeDebugString(tensor.shape)}`,
    );
  }
  if (tensor.shape[0] !== numExamples) {
    throw invalidArgument(
      `Input batch size did not match output batch size: ${numExamples} vs. ${tensor.shape[0]}`,
    );
  }
  if (tensor.dtype !== DataType.DT_FLOAT) {
    throw invalidArgument(`Expected output Tensor of DT_FLOAT.  Got: ${dtypeName(tensor.dtype)}`);
  }
  if (tensor.size !== numExamples) {
    throw invalidArgument(`Expected output batch size to be ${numExamples}.  Got: ${tensor.size}`);
  }
  const values = tensor.values;
  return create(RegressionResultSchema, {
    regressions: Array.from({ length: numExamples }, (_, i) => ({ value: Number(values[i]) })),
  });
}
