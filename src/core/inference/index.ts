// TF Serving's request semantics at the protobuf-message level, shared by the gRPC and REST
// front ends and by warmup: Predict, Classify, Regress and MultiInference on a resolved servable.
export {
  CLASSIFY_INPUTS,
  CLASSIFY_OUTPUT_CLASSES,
  CLASSIFY_OUTPUT_SCORES,
  classificationOutputs,
  classificationResult,
  classify,
} from "./classify.js";
export {
  CLASSIFY_METHOD,
  DEFAULT_SIGNATURE,
  type InferenceOptions,
  PREDICT_METHOD,
  REGRESS_METHOD,
  resolveSignatureName,
  responseModelSpec,
  type ServableVersion,
  shapeDebugString,
} from "./common.js";
export { examplesTensor, serializedExamples } from "./examples.js";
export {
  multiInference,
  type ResolvedServable,
  runMultiInference,
  type ServableResolver,
} from "./multi-inference.js";
export { encodeOutputs, type PredictOptions, predict, predictInputs, predictSignature } from "./predict.js";
export {
  REGRESS_INPUTS,
  REGRESS_OUTPUTS,
  regress,
  regressionOutputs,
  regressionResult,
} from "./regress.js";
