// The transport-independent surface of ts-serving/client: what a call takes and returns, the same for
// gRPC and REST, so switching transports changes only the constructor.

import type { DataType } from "../tensor/dtype.js";
import type { PartialShape } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/** Nested JS arrays of one element kind (any depth), as a tensor's values. */
export type NestedArray<T> = T | readonly NestedArray<T>[];

/**
 * A predict input: a Tensor (sent as is), a typed array (1-D tensor of its dtype: Float32Array →
 * DT_FLOAT, BigInt64Array → DT_INT64, …), or plain JS values nested to any depth (the shape is the
 * nesting; the dtype is the signature's, looked up once from the model's metadata).
 */
export type TensorInput =
  | Tensor
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | NestedArray<number>
  | NestedArray<bigint>
  | NestedArray<boolean>
  | NestedArray<string | Uint8Array>;

/** Which version of a model to use: a number, a label, or (neither) the latest. */
export interface VersionChoice {
  readonly version?: bigint | number;
  /** A version label (`stable`, `canary`, …) from the server's model config. */
  readonly label?: string;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Gives up after this many milliseconds with DEADLINE_EXCEEDED (gRPC: the call's deadline). */
  readonly deadlineMs?: number;
}

export interface PredictOptions extends VersionChoice, CallOptions {
  /** Signature to run; default `serving_default`. */
  readonly signature?: string;
  /** Only these outputs (gRPC: the request's output_filter; REST has none, so the client filters). */
  readonly outputFilter?: readonly string[];
}

/** One tf.Example feature: floats, int64s or byte strings. */
export type FeatureValue =
  /** Plain numbers are a float_list (use `{ int64List }` or bigints for integers). */
  | number
  | readonly number[]
  | Float32Array
  | bigint
  | readonly bigint[]
  | BigInt64Array
  /** Booleans are an int64_list of 1/0, as TF Serving's REST API reads them. */
  | boolean
  | readonly boolean[]
  | string
  | readonly string[]
  | Uint8Array
  | readonly Uint8Array[]
  | { readonly floatList: readonly number[] | Float32Array }
  | { readonly int64List: readonly (number | bigint)[] | BigInt64Array }
  | { readonly bytesList: readonly (string | Uint8Array)[] };

/** A tf.Example as a plain object: feature name → values. */
export type Example = Readonly<Record<string, FeatureValue>>;

export interface ExampleOptions extends VersionChoice, CallOptions {
  /** Signature to run; default `serving_default` (usually a classify/regress signature must be named). */
  readonly signature?: string;
  /** Features shared by every example (TF Serving's ExampleListWithContext). */
  readonly context?: Example;
}

/** One class of a classification: label (`""` when the model outputs scores only) and score. */
export interface ClassScore {
  readonly label: string;
  readonly score: number;
}

/** A signature input or output as the model declares it. */
export interface TensorSpec {
  /** The graph tensor it binds to, e.g. `x:0`. */
  readonly tensorName: string;
  readonly dtype: DataType;
  /** -1 for an unknown dimension, null for an unknown rank. */
  readonly shape: PartialShape;
}

export interface SignatureInfo {
  /** `tensorflow/serving/predict`, `…/classify` or `…/regress`. */
  readonly methodName: string;
  readonly inputs: Readonly<Record<string, TensorSpec>>;
  readonly outputs: Readonly<Record<string, TensorSpec>>;
}

/** GetModelMetadata's answer: the version actually used and every signature of it. */
export interface ModelMetadata {
  readonly model: string;
  readonly version: bigint;
  readonly signatures: Readonly<Record<string, SignatureInfo>>;
}

export type VersionState = "UNKNOWN" | "START" | "LOADING" | "AVAILABLE" | "UNLOADING" | "END";

/** One version of a model as GetModelStatus reports it (newest first). */
export interface ModelVersionStatus {
  readonly version: bigint;
  readonly state: VersionState;
  /** Code.OK unless the version failed to load. */
  readonly errorCode: number;
  readonly errorMessage: string;
}

/**
 * A TF Serving client; `createGrpcClient` and `createRestClient` both return one. Every failure is a
 * `ServingError` whose `code` is the server's status code (REST: read back from the HTTP status).
 *
 * @example
 * const client: ServingClient = createGrpcClient("localhost:8500");
 * const { output_logits } = await client.predict("ranking_model", { input_features: [new Array(32).fill(0.5)] });
 * console.log(output_logits?.values); // Float32Array [...]
 * client.close();
 */
export interface ServingClient {
  /** Runs a predict signature; resolves with every (or every filtered) output by alias. */
  predict(
    model: string,
    inputs: Readonly<Record<string, TensorInput>>,
    options?: PredictOptions,
  ): Promise<Record<string, Tensor>>;
  /** Runs a classify signature on tf.Examples; one list of classes per example. */
  classify(model: string, examples: readonly Example[], options?: ExampleOptions): Promise<ClassScore[][]>;
  /** Runs a regress signature on tf.Examples; one value per example. */
  regress(model: string, examples: readonly Example[], options?: ExampleOptions): Promise<number[]>;
  /** The model's signatures and the version that answered. */
  metadata(model: string, options?: VersionChoice & CallOptions): Promise<ModelMetadata>;
  /** Every version the server knows of (or just `version`), newest first. */
  status(
    model: string,
    options?: { readonly version?: bigint | number } & CallOptions,
  ): Promise<ModelVersionStatus[]>;
  /** Closes connections; the client cannot be used afterwards. */
  close(): void;
}

/** Options of both constructors. */
export interface ClientOptions {
  /** Default deadline of every call, in milliseconds (none by default). */
  readonly deadlineMs?: number;
}
