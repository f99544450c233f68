// Test support for the gRPC suites: typed unary calls with a real @grpc/grpc-js client, and a server
// on 127.0.0.1 (TF Serving's half_plus_two fixture, or any config) for the tests of one file, and
// reflection requests read without generated types.
import { dirname } from "node:path";
import { after, before } from "node:test";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { Client, credentials, Metadata, type Server } from "@grpc/grpc-js";
import { tfServingModel } from "../../../test/fixtures.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { ServerCore } from "../../core/server-core.js";
import type { ModelServerConfig } from "../../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { startGrpcServer } from "./server.js";

/** A method of a generated service descriptor (e.g. `PredictionService.method.predict`). */
export interface UnaryMethod<I extends DescMessage, O extends DescMessage> {
  readonly name: string;
  readonly parent: { readonly typeName: string };
  readonly input: I;
  readonly output: O;
}

/**
 * Calls `method` with a message built from `init` (and `metadata` entries, e.g. authorization);
 * rejects with the ServiceError.
 */
export function unaryCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: UnaryMethod<I, O>,
  init: MessageInitShape<I>,
  deadline?: number,
  metadata: Readonly<Record<string, string>> = {},
): Promise<MessageShape<O>> {
  const md = new Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      create(method.input, init),
      md,
      deadline === undefined ? {} : { deadline },
      (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
    );
  });
}

/**
 * Registers before/after hooks that start a ServerCore with the config `prepare` returns (it may
 * write models first), serve it over gRPC on 127.0.0.1 (port 0) and connect a client; the getters
 * are valid inside the tests.
 */
export function useGrpcServer(prepare: () => Promise<ModelServerConfig> | ModelServerConfig): {
  readonly core: ServerCore;
  readonly client: Client;
} {
  let core: ServerCore | undefined;
  let server: Server | undefined;
  let client: Client | undefined;
  before(async () => {
    core = await ServerCore.create({ config: await prepare(), fileSystemPollWaitSeconds: 0 });
    const started = await startGrpcServer({ core, port: 0, host: "127.0.0.1" });
    server = started.server;
    client = new Client(`127.0.0.1:${started.port}`, credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    server?.forceShutdown();
    await core?.stop();
  });
  return {
    get core() {
      if (!core) throw new Error("the gRPC test server is not started");
      return core;
    },
    get client() {
      if (!client) throw new Error("the gRPC test server is not started");
      return client;
    },
  };
}

/** A config serving TF Serving's `saved_model_half_plus_two_cpu` fixture as `half_plus_two`. */
export const halfPlusTwoConfig = (): ModelServerConfig =>
  singleModelServerConfig("half_plus_two", dirname(tfServingModel("saved_model_half_plus_two_cpu")));

/** useGrpcServer serving `saved_model_half_plus_two_cpu` as `half_plus_two`. */
export function useHalfPlusTwoGrpc(): { readonly core: ServerCore; readonly client: Client } {
  return useGrpcServer(halfPlusTwoConfig);
}

/**
 * Length-delimited fields of a protobuf message, by field number (other wire types skipped): enough
 * to read reflection responses without their generated types.
 */
export function fields(bytes: Uint8Array): Map<number, Uint8Array[]> {
  const out = new Map<number, Uint8Array[]>();
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (wireType === 2) out.set(number, [...(out.get(number) ?? []), reader.bytes()]);
    else reader.skip(wireType);
  }
  return out;
}

/** One request on grpc.reflection.v1 ServerReflectionInfo: field `field` = `value`; the response bytes. */
export function reflect(client: Client, field: number, value: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (request: Uint8Array) => Buffer.from(request),
      (bytes: Buffer) => new Uint8Array(bytes),
    );
    call.on("data", (response: Uint8Array) => {
      resolve(response);
      call.end();
    });
    call.on("error", reject);
    call.write(new BinaryWriter().tag(field, 2).string(value).finish());
  });
}
