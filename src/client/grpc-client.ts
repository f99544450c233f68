// ts-serving/client over gRPC: TF Serving's PredictionService and ModelService with @grpc/grpc-js and
// the generated protobuf-es messages. Numeric inputs travel as tensor_content (raw bytes, no
// per-element encoding); outputs are read in either encoding.
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
} from "@grpc/grpc-js";
import { Code, ServingError } from "../errors.js";
import type { TensorProto } from "../proto/gen/tensorflow/core/framework/tensor_pb.js";
import { SignatureDefMapSchema } from "../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";
import type { GetModelStatusResponse } from "../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import type { InputSchema } from "../proto/gen/tensorflow_serving/apis/input_pb.js";
import type { ModelSpecSchema } from "../proto/gen/tensorflow_serving/apis/model_pb.js";
import { ModelService } from "../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import type { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { tensorFromProto, tensorToProto } from "../tensor/tensor-proto.js";
import { ServingClientBase, type StatusOptions } from "./client-base.js";
import { exampleProto } from "./examples.js";
import { DEFAULT_SIGNATURE, signatureInfos } from "./signatures.js";
import { toTensor } from "./tensors.js";
import type {
  CallOptions,
  ClassScore,
  ClientOptions,
  Example,
  ExampleOptions,
  ModelMetadata,
  PredictOptions,
  ServingClient,
  TensorInput,
  VersionChoice,
} from "./types.js";

export interface GrpcClientOptions extends ClientOptions {
  /** Channel credentials; insecure by default (TF Serving's default too). */
  readonly credentials?: ChannelCredentials;
  /** grpc-js channel options; message size limits default to unlimited, as large tensors are common. */
  readonly channelOptions?: ChannelOptions;
}

/** A generated method descriptor, e.g. `PredictionService.method.predict`. */
interface UnaryMethod<I extends DescMessage, O extends DescMessage> {
  readonly name: string;
  readonly parent: { readonly typeName: string };
  readonly input: I;
  readonly output: O;
}

const P = PredictionService.method;
const M = ModelService.method;

/**
 * A client for TF Serving's gRPC API (ts-serving's port 8500, or TensorFlow Serving itself).
 *
 * @example
 * const client = createGrpcClient("localhost:8500");
 * const { output_logits } = await client.predict("ranking_model", { input_features: [new Array(32).fill(0.5)] });
 * console.log(output_logits?.values[0]);
 * client.close();
 */
export function createGrpcClient(address: string, options: GrpcClientOptions = {}): ServingClient {
  return new GrpcServingClient(address, options);
}

class GrpcServingClient extends ServingClientBase implements ServingClient {
  readonly #client: Client;

  constructor(address: string, options: GrpcClientOptions) {
    super(options);
    this.#client = new Client(address, options.credentials ?? grpcCredentials.createInsecure(), {
      "grpc.max_receive_message_length": -1,
      "grpc.max_send_message_length": -1,
      ...options.channelOptions,
    });
  }

  async predict(
    model: string,
    inputs: Readonly<Record<string, TensorInput>>,
    options: PredictOptions = {},
  ): Promise<Record<string, Tensor>> {
    const signature = options.signature ?? DEFAULT_SIGNATURE;
    const dtypes = await this.#inputDTypes(model, options, signature, inputs);
    const protos: Record<string, TensorProto> = {};
    for (const [name, value] of Object.entries(inputs)) {
      protos[name] = tensorToProto(toTensor(value, dtypes?.[name]), "content");
    }
    try {
      const response = await this.#call(
        P.predict,
        {
          modelSpec: modelSpec(model, options, signature),
          inputs: protos,
          outputFilter: [...(options.outputFilter ?? [])],
        },
        options,
      );
      const outputs: Record<string, Tensor> = {};
      for (const [name, proto] of Object.entries(response.outputs)) outputs[name] = tensorFromProto(proto);
      return outputs;
    } catch (error: unknown) {
      this.signatures.invalidateOn(error, model, options);
      throw error;
    }
  }

  async classify(
    model: string,
    examples: readonly Example[],
    options: ExampleOptions = {},
  ): Promise<ClassScore[][]> {
    const response = await this.#call(
      P.classify,
      { modelSpec: modelSpec(model, options, options.signature), input: exampleInput(examples, options) },
      options,
    );
    return (response.result?.classifications ?? []).map((c) =>
      c.classes.map(({ label, score }) => ({ label, score })),
    );
  }

  async regress(
    model: string,
    examples: readonly Example[],
    options: ExampleOptions = {},
  ): Promise<number[]> {
    const response = await this.#call(
      P.regress,
      { modelSpec: modelSpec(model, options, options.signature), input: exampleInput(examples, options) },
      options,
    );
    return (response.result?.regressions ?? []).map((r) => r.value);
  }

  async metadata(model: string, options: VersionChoice & CallOptions = {}): Promise<ModelMetadata> {
    const response = await this.#call(
      P.getModelMetadata,
      { modelSpec: modelSpec(model, options), metadataField: ["signature_def"] },
      options,
    );
    const any = response.metadata.signature_def;
    const map = any ? anyUnpack(any, SignatureDefMapSchema) : undefined;
    const choice = response.modelSpec?.versionChoice;
    return {
      model: response.modelSpec?.name ?? model,
      version: choice?.case === "version" ? choice.value.value : 0n,
      signatures: signatureInfos(map?.signatureDef ?? {}),
    };
  }

  protected modelStatus(model: string, options: StatusOptions): Promise<GetModelStatusResponse> {
    return this.#call(M.getModelStatus, { modelSpec: modelSpec(model, options) }, options);
  }

  protected closeTransport(): void {
    this.#client.close();
  }

  /**
   * The signature's input dtypes, fetched (once per model and version choice) only when some input is
   * plain JS values; if the metadata call fails, the values' own kinds are used and Predict reports.
   */
  async #inputDTypes(
    model: string,
    choice: VersionChoice,
    signature: string,
    inputs: Readonly<Record<string, TensorInput>>,
  ): Promise<Record<string, DataType> | undefined> {
    const plain = Object.values(inputs).some((v) => !ArrayBuffer.isView(v) && !(v instanceof Tensor));
    if (!plain) return undefined;
    try {
      const info = await this.signatures.signature(model, choice, signature);
      return info && Object.fromEntries(Object.entries(info.inputs).map(([k, spec]) => [k, spec.dtype]));
    } catch {
      return undefined;
    }
  }

  #call<I extends DescMessage, O extends DescMessage>(
    method: UnaryMethod<I, O>,
    init: MessageInitShape<I>,
    options: CallOptions,
  ): Promise<MessageShape<O>> {
    const deadlineMs = this.deadlineMs(options);
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (message: MessageShape<I>) => {
          // A view, not a copy: toBinary's bytes are fresh and grpc-js copies them into its frame.
          const bytes = toBinary(method.input, message);
          return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        },
        (bytes: Buffer) => fromBinary(method.output, bytes),
        create(method.input, init),
        new Metadata(),
        deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
        (error: ServiceError | null, value?: MessageShape<O>) => {
          if (error) reject(new ServingError(error.code as number as Code, error.details, { cause: error }));
          else if (value === undefined) reject(new ServingError(Code.INTERNAL, "empty gRPC response"));
          else resolve(value);
        },
      );
    });
  }
}

function modelSpec(
  model: string,
  choice: VersionChoice,
  signature?: string,
): MessageInitShape<typeof ModelSpecSchema> {
  const spec: MessageInitShape<typeof ModelSpecSchema> = { name: model, signatureName: signature ?? "" };
  if (choice.version !== undefined) {
    return { ...spec, versionChoice: { case: "version", value: { value: BigInt(choice.version) } } };
  }
  if (choice.label !== undefined)
    return { ...spec, versionChoice: { case: "versionLabel", value: choice.label } };
  return spec;
}

function exampleInput(
  examples: readonly Example[],
  options: ExampleOptions,
): MessageInitShape<typeof InputSchema> {
  const list = examples.map(exampleProto);
  if (options.context === undefined) return { kind: { case: "exampleList", value: { examples: list } } };
  return {
    kind: {
      case: "exampleListWithContext",
      value: { examples: list, context: exampleProto(options.context) },
    },
  };
}
