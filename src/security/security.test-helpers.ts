// Test support for the security suites: a ServerCore serving half_plus_two under two names, real HTTPS
// requests with chosen CA/client certificates, gRPC unary calls with metadata, and both APIs started
// with a suite's security options.
import { request as httpsRequest } from "node:https";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Client, credentials } from "@grpc/grpc-js";
import { tfServingModel } from "../../test/fixtures.js";
import { configText, linkModel, modelEntry, startCore } from "../../test/rest/helpers.js";
import { type UnaryMethod, unaryCall } from "../api/tfs-grpc/grpc.test-helpers.js";
import { type GrpcOptions, startGrpcServer } from "../api/tfs-grpc/server.js";
import { type RestOptions, startRestServer } from "../api/tfs-rest/server.js";
import type { ServerCore, ServerCoreOptions } from "../core/server-core.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";

/** A ServerCore serving TF Serving's half_plus_two fixture as `half_plus_two` and as `other`. */
export async function twoModelCore(root: string, load?: ServerCoreOptions["load"]): Promise<ServerCore> {
  const version = tfServingModel("saved_model_half_plus_two_cpu");
  const a = await linkModel(root, "half_plus_two", version, "123");
  const b = await linkModel(root, "other", version, "123");
  return startCore({
    config: configText(modelEntry("half_plus_two", a), modelEntry("other", b)),
    ...(load ? { load } : {}),
  });
}

/** A float tensor for Predict's `x`. */
export const floats = (values: number[]) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: [{ size: BigInt(values.length) }] },
  floatVal: values,
});

export interface HttpsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** One HTTPS request to 127.0.0.1:`port` trusting `ca`, optionally presenting a client certificate. */
export function httpsCall(
  port: number,
  path: string,
  tls: { ca: string; key?: string; cert?: string },
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: body === undefined ? "GET" : "POST",
        headers,
        agent: false,
        ca: tls.ca,
        ...(tls.key && tls.cert ? { key: tls.key, cert: tls.cert } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A unary call with `metadata` entries (e.g. authorization); rejects with the ServiceError. */
export const grpcCall = <I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: UnaryMethod<I, O>,
  init: MessageInitShape<I>,
  metadata: Record<string, string> = {},
): Promise<MessageShape<O>> => unaryCall(client, method, init, undefined, metadata);

/** The REST and gRPC servers of a security suite, on 127.0.0.1, with a gRPC client. */
export interface BothApis {
  /** `http://127.0.0.1:<rest port>`. */
  readonly restBase: string;
  readonly client: Client;
  /** Closes the client and both servers (at once, open connections too). */
  close(): void;
}

/**
 * Starts REST (with `rest` options, e.g. auth or limits) and gRPC (with `grpc` options, e.g. the
 * security interceptor) for `core` on 127.0.0.1, and connects an insecure gRPC client.
 */
export async function startBothApis(
  core: ServerCore,
  rest: Omit<RestOptions, "backend"> = {},
  grpc: Omit<GrpcOptions, "core" | "port"> = {},
): Promise<BothApis> {
  const restServer = await startRestServer({ ...rest, backend: core, port: 0, host: "127.0.0.1" });
  const grpcServer = await startGrpcServer({ ...grpc, core, port: 0, host: "127.0.0.1" });
  const client = new Client(`127.0.0.1:${grpcServer.port}`, credentials.createInsecure());
  return {
    restBase: `http://127.0.0.1:${restServer.port}`,
    client,
    close: () => {
      client.close();
      grpcServer.server.forceShutdown();
      restServer.server.close();
      restServer.server.closeAllConnections();
    },
  };
}
