// TF Serving's gRPC API (tensorflow.serving.PredictionService and ModelService) on @grpc/grpc-js:
// the service definitions come from the generated descriptors, the request semantics from
// core/inference; this layer resolves ModelSpecs, maps errors to gRPC statuses and enforces deadlines.
import {
  create,
  type DescFile,
  type DescMessage,
  type DescService,
  fromBinary,
  toBinary,
} from "@bufbuild/protobuf";
import { anyPack, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  type Metadata,
  type MethodDefinition,
  Server,
  ServerCredentials,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServiceDefinition,
  type StatusObject,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { classify, multiInference, predict, regress } from "../../core/inference/index.js";
import type { ServableHandle, VersionRequest, VersionStatus } from "../../core/manager.js";
import { Code, invalidArgument, notFound, ServingError } from "../../errors.js";
import { Health } from "../../proto/gen/grpc/health/v1/health_pb.js";
import type {
  GetModelMetadataRequest,
  GetModelMetadataResponse,
} from "../../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";
import {
  GetModelMetadataResponseSchema,
  SignatureDefMapSchema,
} from "../../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";
import {
  type GetModelStatusRequest,
  type GetModelStatusResponse,
  GetModelStatusResponseSchema,
  ModelVersionStatus_State,
} from "../../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import {
  type ReloadConfigRequest,
  type ReloadConfigResponse,
  ReloadConfigResponseSchema,
} from "../../proto/gen/tensorflow_serving/apis/model_management_pb.js";
import type { ModelSpec } from "../../proto/gen/tensorflow_serving/apis/model_pb.js";
import { ModelService } from "../../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import type { ModelServerConfig } from "../../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { signatureDefs } from "../../runtime/servable.js";
import type { GrpcChannelArguments } from "./channel-args.js";

/** What the gRPC layer needs from the server core (ServerCore satisfies it). */
export interface GrpcBackend {
  acquire(model: string, request?: VersionRequest): ServableHandle;
  status(model: string, version?: bigint): VersionStatus[];
  reloadConfig(config: ModelServerConfig): Promise<void>;
}

export interface GrpcOptions {
  readonly core: GrpcBackend;
  /** TCP port; 0 = any free port; null = no TCP listener (`--port=0` with `--grpc_socket_path`). */
  readonly port: number | null;
  /** Default 0.0.0.0. */
  readonly host?: string;
  /** Also listen on `unix:<socketPath>` (`--grpc_socket_path`), with the same credentials. */
  readonly socketPath?: string;
  /** Largest accepted (and sent) message; default INT32_MAX as TF Serving's server.cc sets it. */
  readonly maxReceiveMessageBytes?: number;
  /** `--grpc_channel_arguments` (see channel-args.ts), applied over the defaults: they win. */
  readonly channelArguments?: GrpcChannelArguments;
  /** `--enable_serialization_as_tensor_content`: Predict outputs in tensor_content. */
  readonly tensorContentOutputs?: boolean;
  /** `--enable_signature_method_name_check`. */
  readonly methodNameCheck?: boolean;
  /** Register `grpc.health.v1.Health` (default true); see HEALTH_SERVICE_NAMES. */
  readonly healthCheck?: boolean;
  /** Register gRPC server reflection v1 and v1alpha for the two TF Serving services (default true). */
  readonly reflection?: boolean;
  /** grpc-js server interceptors, outermost first (observability: metrics, request ids, access log, spans). */
  readonly interceptors?: readonly ServerInterceptor[] | undefined;
  /** `--ssl_config_file`: TLS (mTLS when client_verify), see src/security/tls.ts; default insecure. */
  readonly credentials?: ServerCredentials | undefined;
}

/**
 * The names `grpc.health.v1.Health` reports SERVING while the server runs: the overall status `""`,
 * TF Serving's short names (server.cc) and the fully-qualified service names.
 */
export const HEALTH_SERVICE_NAMES: readonly string[] = [
  "",
  "ModelService",
  "PredictionService",
  ModelService.typeName,
  PredictionService.typeName,
];

const INT32_MAX = 2 ** 31 - 1;
/** TF Serving's grpc_status_util.cc: longer error messages are cut and suffixed. */
const ERROR_MESSAGE_LIMIT = 1024;
const SIGNATURE_DEF = "signature_def";

/**
 * A gRPC service definition for grpc-js built from a generated @bufbuild service descriptor:
 * keys are the proto method names (`Predict`), paths `/<package.Service>/<Method>`, (de)serialization
 * with toBinary/fromBinary.
 */
export function serviceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      originalName: method.localName,
      ...codec(method.input, method.output),
    };
  }
  return definition;
}

function codec(input: DescMessage, output: DescMessage) {
  return {
    requestSerialize: (value: unknown) => asBuffer(toBinary(input, value as never)),
    requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes) as unknown,
    responseSerialize: (value: unknown) => asBuffer(toBinary(output, value as never)),
    responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes) as unknown,
  };
}

/** A Buffer over the same memory (toBinary's result is fresh and unshared), not a copy of every message. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Every file `services` are declared in plus their transitive imports, each once, as FileDescriptorProto bytes. */
export function fileDescriptorProtos(services: readonly DescService[]): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.add(file.name);
    for (const dependency of file.dependencies) visit(dependency);
    out.push(Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)));
  };
  for (const service of services) visit(service.file);
  return out;
}

/** Server reflection for `services`, fed from the generated descriptors (no .proto files at runtime). */
export function reflectionService(services: readonly DescService[]): ReflectionService {
  type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];
  // @grpc/reflection only reads `fileDescriptorProtos` of each entry; one entry carries them all.
  const pkg: PackageDefinition = {
    "tensorflow.serving": {
      format: "Protocol Buffer 3 EnumDescriptorProto",
      type: {},
      fileDescriptorProtos: fileDescriptorProtos(services),
    },
  };
  return new ReflectionService(pkg, { services: services.map((s) => s.typeName) });
}

/** The ServingError as the gRPC status TF Serving sends (codes share gRPC's numbering). */
export function grpcStatus(error: unknown): Partial<StatusObject> {
  const serving = ServingError.from(error);
  const message =
    serving.message.length > ERROR_MESSAGE_LIMIT
      ? `${serving.message.slice(0, ERROR_MESSAGE_LIMIT)}...TRUNCATED`
      : serving.message;
  return { code: serving.code as number, details: message };
}

/**
 * ModelSpec → the core's version request, as TF Serving's ServerCore::GetServableHandle reads it;
 * the call's metadata goes along for a traffic split's sticky key (canary routing).
 */
export function resolveModelSpec(
  spec: ModelSpec | undefined,
  metadata?: Metadata,
): { model: string; request: VersionRequest } {
  const model = spec?.name ?? "";
  if (model === "") throw invalidArgument("ModelSpec has no name specified.");
  const choice = spec?.versionChoice;
  if (choice?.case === "version") return { model, request: { version: choice.value.value } };
  if (choice?.case === "versionLabel") return { model, request: { label: choice.value } };
  if (!metadata) return { model, request: {} };
  return { model, request: { header: (name) => metadata.get(name).find((v) => typeof v === "string") } };
}

/** The handlers, keyed by proto method name, for both services. */
export function grpcHandlers(options: Omit<GrpcOptions, "port" | "host">): {
  prediction: UntypedServiceImplementation;
  model: UntypedServiceImplementation;
} {
  const { core } = options;
  const inference = { methodNameCheck: options.methodNameCheck ?? false };
  const predictOptions = { ...inference, tensorContentOutputs: options.tensorContentOutputs ?? false };

  /** Runs `fn` on the handle the spec names; the handle is released when `fn` settles. */
  const withHandle = async <T>(
    spec: ModelSpec | undefined,
    fn: (h: ServableHandle) => Promise<T>,
    metadata?: Metadata,
  ) => {
    const { model, request } = resolveModelSpec(spec, metadata);
    const handle = core.acquire(model, request);
    try {
      return await fn(handle);
    } finally {
      handle.release();
    }
  };

  const prediction: UntypedServiceImplementation = {
    Predict: unary((req: Parameters<typeof predict>[2], metadata) =>
      withHandle(req.modelSpec, (h) => predict(h.servable, h.version, req, predictOptions), metadata),
    ),
    Classify: unary((req: Parameters<typeof classify>[2], metadata) =>
      withHandle(req.modelSpec, (h) => classify(h.servable, h.version, req, inference), metadata),
    ),
    Regress: unary((req: Parameters<typeof regress>[2], metadata) =>
      withHandle(req.modelSpec, (h) => regress(h.servable, h.version, req, inference), metadata),
    ),
    MultiInference: unary(async (req: Parameters<typeof multiInference>[1]) => {
      let handle: ServableHandle | undefined;
      try {
        return await multiInference(
          (spec) => {
            const { model, request } = resolveModelSpec(spec);
            handle = core.acquire(model, request);
            return { servable: handle.servable, version: handle.version };
          },
          req,
          inference,
        );
      } finally {
        handle?.release();
      }
    }),
    GetModelMetadata: unary((req: GetModelMetadataRequest) => getModelMetadata(core, req)),
  };
  const model: UntypedServiceImplementation = {
    GetModelStatus: unary(async (req: GetModelStatusRequest) => getModelStatus(core, req)),
    HandleReloadConfigRequest: unary((req: ReloadConfigRequest) => reloadConfig(core, req)),
  };
  return { prediction, model };
}

async function getModelMetadata(
  core: GrpcBackend,
  req: GetModelMetadataRequest,
): Promise<GetModelMetadataResponse> {
  if (req.modelSpec === undefined) throw invalidArgument("Missing ModelSpec");
  if (req.metadataField.length === 0) {
    throw invalidArgument("GetModelMetadataRequest must specify at least one metadata_field");
  }
  for (const field of req.metadataField) {
    if (field !== SIGNATURE_DEF) throw invalidArgument(`Metadata field ${field} is not supported`);
  }
  const { model, request } = resolveModelSpec(req.modelSpec);
  const handle = core.acquire(model, request);
  try {
    const signatureDef = Object.fromEntries(signatureDefs(handle.servable));
    return create(GetModelMetadataResponseSchema, {
      modelSpec: { name: model, versionChoice: { case: "version", value: { value: handle.version } } },
      metadata: {
        [SIGNATURE_DEF]: anyPack(SignatureDefMapSchema, create(SignatureDefMapSchema, { signatureDef })),
      },
    });
  } finally {
    handle.release();
  }
}

function getModelStatus(core: GrpcBackend, req: GetModelStatusRequest): GetModelStatusResponse {
  if (req.modelSpec === undefined) throw invalidArgument("Missing ModelSpec");
  const model = req.modelSpec.name;
  const choice = req.modelSpec.versionChoice;
  const version = choice.case === "version" ? choice.value.value : undefined;
  let versions: VersionStatus[];
  try {
    versions = core.status(model, version);
  } catch (error: unknown) {
    if (ServingError.from(error).code !== Code.NOT_FOUND) throw error;
    versions = [];
  }
  if (versions.length === 0) {
    throw notFound(
      version === undefined
        ? `Could not find any versions of model ${model}`
        : `Could not find version ${version} of model ${model}`,
    );
  }
  return create(GetModelStatusResponseSchema, {
    modelVersionStatus: [...versions]
      .sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0))
      .map((v) => ({
        version: v.version,
        state: ModelVersionStatus_State[v.state],
        status: { errorCode: v.error?.code ?? Code.OK, errorMessage: v.error?.message ?? "" },
      })),
  });
}

async function reloadConfig(core: GrpcBackend, req: ReloadConfigRequest): Promise<ReloadConfigResponse> {
  let error: ServingError | undefined;
  if (req.config?.config.case !== "modelConfigList") {
    error = invalidArgument(
      "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported",
    );
  } else {
    try {
      await core.reloadConfig(req.config);
    } catch (thrown: unknown) {
      error = ServingError.from(thrown);
    }
  }
  // The RPC status equals response.status (model_service_impl.cc); on error grpc sends no body.
  if (error) throw error;
  return create(ReloadConfigResponseSchema, { status: { errorCode: Code.OK, errorMessage: "" } });
}

/**
 * A grpc-js unary handler around `run`: errors become TF Serving's gRPC statuses, and when the call's
 * deadline passes first the answer is DEADLINE_EXCEEDED (the late result is dropped).
 */
function unary<Req, Res>(run: (request: Req, metadata: Metadata) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Partial<StatusObject> | null, value?: Res) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (error) callback(error);
      else callback(null, value);
    };
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    if (Number.isFinite(deadlineMs)) {
      const deadlineError = () =>
        finish(grpcStatus(new ServingError(Code.DEADLINE_EXCEEDED, "Deadline exceeded")));
      const left = deadlineMs - Date.now();
      if (left <= 0) {
        deadlineError();
        return;
      }
      timer = setTimeout(deadlineError, left);
    }
    // A cancelled call gets no answer; the handle is still released when `run` settles.
    call.on("cancelled", () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
    });
    Promise.resolve()
      .then(() => run(call.request, call.metadata))
      .then(
        (value) => finish(null, value),
        (error: unknown) => finish(grpcStatus(error)),
      );
  };
}

/**
 * Starts TF Serving's gRPC services on `host:port` and/or `unix:<socketPath>` (insecure unless
 * `credentials`) and resolves with the bound TCP port (0 without TCP); stop with `server.tryShutdown` /
 * `server.forceShutdown`. Unless opted out, `grpc.health.v1.Health` (all HEALTH_SERVICE_NAMES SERVING;
 * `health.setStatus` changes them) and server reflection are served too.
 *
 * @example
 * const { server, port } = await startGrpcServer({ core, port: 8500 });
 */
export async function startGrpcServer(
  options: GrpcOptions,
): Promise<{ server: Server; port: number; health?: HealthImplementation }> {
  const maxBytes = options.maxReceiveMessageBytes ?? INT32_MAX;
  const server = new Server({
    "grpc.max_receive_message_length": maxBytes,
    "grpc.max_send_message_length": INT32_MAX,
    ...options.channelArguments,
    ...(options.interceptors ? { interceptors: [...options.interceptors] } : {}),
  });
  const handlers = grpcHandlers(options);
  server.addService(serviceDefinition(PredictionService), handlers.prediction);
  server.addService(serviceDefinition(ModelService), handlers.model);
  let health: HealthImplementation | undefined;
  if (options.healthCheck ?? true) {
    health = new HealthImplementation(
      Object.fromEntries(HEALTH_SERVICE_NAMES.map((name) => [name, "SERVING" as const])),
    );
    health.addToServer(server);
  }
  if (options.reflection ?? true)
    reflectionService([PredictionService, ModelService, Health]).addToServer(server);
  const host = options.host ?? "0.0.0.0";
  const address = host.includes(":") ? `[${host}]:${options.port}` : `${host}:${options.port}`;
  const credentials = options.credentials ?? ServerCredentials.createInsecure();
  const bind = (target: string) =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync(target, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
    });
  let port = 0;
  try {
    if (options.socketPath) await bind(`unix:${options.socketPath}`);
    if (options.port !== null) port = await bind(address);
  } catch (error: unknown) {
    server.forceShutdown();
    throw error;
  }
  return health === undefined ? { server, port } : { server, port, health };
}
