/**
 * ts-serving/client: a typed Node client for TF Serving's gRPC and REST APIs (ts-serving or
 * TensorFlow Serving itself). Both transports implement `ServingClient`; errors are `ServingError`s
 * carrying the server's status code.
 *
 * @example
 * import { createGrpcClient, tensorToArray } from "ts-serving/client";
 * const client = createGrpcClient("localhost:8500");
 * const { output_logits } = await client.predict("ranking_model", { input_features: [new Array(32).fill(0.5)] });
 * console.log(tensorToArray(output_logits!)); // [[...]]
 * client.close();
 */
export { Code, ServingError } from "../errors.js";
export { DataType } from "../tensor/dtype.js";
export { Tensor } from "../tensor/tensor.js";
export { createGrpcClient, type GrpcClientOptions } from "./grpc-client.js";
export { codeForHttpStatus, createRestClient } from "./rest-client.js";
export { tensorToArray, toTensor } from "./tensors.js";
export type {
  CallOptions,
  ClassScore,
  ClientOptions,
  Example,
  ExampleOptions,
  FeatureValue,
  ModelMetadata,
  ModelVersionStatus,
  NestedArray,
  PredictOptions,
  ServingClient,
  SignatureInfo,
  TensorInput,
  TensorSpec,
  VersionChoice,
  VersionState,
} from "./types.js";
