// Test support for the security suites: a ServerCore serving half_plus_two under two names, real HTTPS
// requests with chosen CA/client certificates, and gRPC unary calls with metadata.
import { request as httpsRequest } from "node:https";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type Client, Metadata, type ServiceError } from "@grpc/grpc-js";
import { tfServingModel } from "../../test/fixtures.js";
import { configText, linkModel, modelEntry, startCore } from "../../test/rest/helpers.js";
import type { UnaryMethod } from "../api/tfs-grpc/grpc.test-helpers.js";
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
export function grpcCall<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: UnaryMethod<I, O>,
  init: MessageInitShape<I>,
  metadata: Record<string, string> = {},
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
      {},
      (error: ServiceError | null, value?: MessageShape<O>) =>
        error || value === undefined ? reject(error) : resolve(value),
    );
  });
}
