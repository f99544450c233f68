// Test support for the gRPC suites: typed unary calls with a real @grpc/grpc-js client, and a server
// on 127.0.0.1 serving TF Serving's half_plus_two fixture for the tests of one file.
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
import { Client, credentials, Metadata, type Server } from "@grpc/grpc-js";
import { tfServingModel } from "../../../test/fixtures.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { ServerCore } from "../../core/server-core.js";
import { startGrpcServer } from "./server.js";

/** A method of a generated service descriptor (e.g. `PredictionService.method.predict`). */
export interface UnaryMethod<I extends DescMessage, O extends DescMessage> {
  readonly name: string;
  readonly parent: { readonly typeName: string };
  readonly input: I;
  readonly output: O;
}

/** Calls `method` with a message built from `init`; rejects with the ServiceError. */
export function unaryCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: UnaryMethod<I, O>,
  init: MessageInitShape<I>,
  deadline?: number,
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      create(method.input, init),
      new Metadata(),
      deadline === undefined ? {} : { deadline },
      (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
    );
  });
}

/**
 * Registers before/after hooks that serve `saved_model_half_plus_two_cpu` as `half_plus_two` over
 * gRPC on 127.0.0.1 (port 0) and connect a client; the getters are valid inside the tests.
 */
export function useHalfPlusTwoGrpc(): { readonly core: ServerCore; readonly client: Client } {
  let core: ServerCore | undefined;
  let server: Server | undefined;
  let client: Client | undefined;
  before(async () => {
    core = await ServerCore.create({
      config: singleModelServerConfig(
        "half_plus_two",
        dirname(tfServingModel("saved_model_half_plus_two_cpu")),
      ),
      fileSystemPollWaitSeconds: 0,
    });
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
