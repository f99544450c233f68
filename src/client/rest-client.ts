// ts-serving/client over TF Serving's REST API (`/v1/models/...`, port 8501). JSON carries no dtypes
// and names no output of a one-output signature, so the client reads the model's metadata once per
// (model, version choice) and builds typed Tensors from it.

import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { Code, invalidArgument, ServingError } from "../errors.js";
import { SignatureDefMapSchema } from "../proto/gen/tensorflow_serving/apis/get_model_metadata_pb.js";
import {
  type GetModelStatusResponse,
  GetModelStatusResponseSchema,
} from "../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import { Tensor } from "../tensor/tensor.js";
import { ServingClientBase, type StatusOptions } from "./client-base.js";
import { exampleJson } from "./examples.js";
import { DEFAULT_SIGNATURE, signatureInfos } from "./signatures.js";
import { toTensor } from "./tensors.js";
import { parseTfJson, type TfJson, tensorJson } from "./tf-json.js";
import type {
  CallOptions,
  ClassScore,
  ClientOptions,
  Example,
  ExampleOptions,
  ModelMetadata,
  PredictOptions,
  ServingClient,
  SignatureInfo,
  TensorInput,
  TensorSpec,
  VersionChoice,
} from "./types.js";

/** HTTP status → Code, the inverse of TF Serving's mapping (400 and 500 are read as the most common code). */
const CODES: Readonly<Record<number, Code>> = {
  400: Code.INVALID_ARGUMENT,
  401: Code.UNAUTHENTICATED,
  403: Code.PERMISSION_DENIED,
  404: Code.NOT_FOUND,
  409: Code.ABORTED,
  413: Code.RESOURCE_EXHAUSTED,
  429: Code.RESOURCE_EXHAUSTED,
  499: Code.CANCELLED,
  500: Code.INTERNAL,
  501: Code.UNIMPLEMENTED,
  503: Code.UNAVAILABLE,
  504: Code.DEADLINE_EXCEEDED,
};

/**
 * The Code an HTTP error status stands for in TF Serving's REST API. Several codes share 400
 * (INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE) and 500; the first is returned.
 *
 * @example
 * codeForHttpStatus(404); // Code.NOT_FOUND
 */
export function codeForHttpStatus(status: number): Code {
  return CODES[status] ?? (status >= 500 ? Code.INTERNAL : Code.UNKNOWN);
}

/**
 * A client for TF Serving's REST API (ts-serving's port 8501, or TensorFlow Serving itself).
 *
 * @example
 * const client = createRestClient("http://localhost:8501");
 * const { output_logits } = await client.predict("ranking_model", { input_features: [new Array(32).fill(0.5)] });
 * console.log(output_logits?.values[0]);
 * client.close();
 */
export function createRestClient(baseUrl: string, options: ClientOptions = {}): ServingClient {
  return new RestServingClient(baseUrl, options);
}

class RestServingClient extends ServingClientBase implements ServingClient {
  readonly #base: URL;
  readonly #agent: HttpAgent;

  constructor(baseUrl: string, options: ClientOptions) {
    super(options);
    this.#base = new URL(baseUrl);
    this.#agent =
      this.#base.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true })
        : new HttpAgent({ keepAlive: true });
  }

  async predict(
    model: string,
    inputs: Readonly<Record<string, TensorInput>>,
    options: PredictOptions = {},
  ): Promise<Record<string, Tensor>> {
    const signatureName = options.signature ?? DEFAULT_SIGNATURE;
    const signature = await this.signatures.signature(model, options, signatureName).catch(() => undefined);
    const fields = Object.entries(inputs).map(
      ([name, value]) =>
        `${JSON.stringify(name)}:${tensorJson(toTensor(value, signature?.inputs[name]?.dtype))}`,
    );
    const body = `{"signature_name":${JSON.stringify(signatureName)},"inputs":{${fields.join(",")}}}`;
    let json: TfJson;
    try {
      json = await this.#send("POST", `${modelPath(model, options)}:predict`, body, options);
    } catch (error: unknown) {
      this.signatures.invalidateOn(error, model, options);
      throw error;
    }
    const outputs = predictOutputs(field(json, "outputs"), signature);
    if (options.outputFilter === undefined) return outputs;
    const filtered: Record<string, Tensor> = {};
    for (const alias of options.outputFilter) {
      const tensor = outputs[alias];
      if (!tensor) throw invalidArgument(`output tensor alias not found in signature: ${alias}`);
      filtered[alias] = tensor;
    }
    return filtered;
  }

  async classify(
    model: string,
    examples: readonly Example[],
    options: ExampleOptions = {},
  ): Promise<ClassScore[][]> {
    const json = await this.#send(
      "POST",
      `${modelPath(model, options)}:classify`,
      examplesBody(examples, options),
      options,
    );
    const results = field(json, "results");
    if (!Array.isArray(results)) throw invalidArgument("classify response has no results list");
    return results.map((classes) =>
      (Array.isArray(classes) ? classes : []).map((pair) => {
        const [label, score] = Array.isArray(pair) ? pair : [];
        return { label: String(label ?? ""), score: Number(score) };
      }),
    );
  }

  async regress(
    model: string,
    examples: readonly Example[],
    options: ExampleOptions = {},
  ): Promise<number[]> {
    const json = await this.#send(
      "POST",
      `${modelPath(model, options)}:regress`,
      examplesBody(examples, options),
      options,
    );
    const results = field(json, "results");
    if (!Array.isArray(results)) throw invalidArgument("regress response has no results list");
    return results.map(Number);
  }

  async metadata(model: string, options: VersionChoice & CallOptions = {}): Promise<ModelMetadata> {
    const json = await this.#send("GET", `${modelPath(model, options)}/metadata`, undefined, options);
    const spec = field(json, "model_spec");
    const map = field(field(json, "metadata"), "signature_def");
    const defs = fromJson(SignatureDefMapSchema, (map ?? {}) as JsonValue, { ignoreUnknownFields: true });
    const version = field(spec, "version");
    return {
      model: String(field(spec, "name") ?? model),
      version: typeof version === "string" || typeof version === "number" ? BigInt(version) : 0n,
      signatures: signatureInfos(defs.signatureDef),
    };
  }

  protected async modelStatus(model: string, options: StatusOptions): Promise<GetModelStatusResponse> {
    const json = await this.#send("GET", modelPath(model, { version: options.version }), undefined, options);
    return fromJson(GetModelStatusResponseSchema, json as JsonValue, { ignoreUnknownFields: true });
  }

  protected closeTransport(): void {
    this.#agent.destroy();
  }

  /** One request; a non-200 answer becomes a ServingError with the code its HTTP status stands for. */
  #send(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    options: CallOptions,
  ): Promise<TfJson> {
    const deadlineMs = this.deadlineMs(options);
    const exceeded = () => new ServingError(Code.DEADLINE_EXCEEDED, `Deadline of ${deadlineMs} ms exceeded`);
    // As grpc-js does: a deadline already passed fails at once, without a request.
    if (deadlineMs !== undefined && deadlineMs <= 0) return Promise.reject(exceeded());
    const url = new URL(path, this.#base);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const req = send(
        url,
        {
          method,
          agent: this.#agent,
          headers:
            body === undefined
              ? {}
              : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => fail(error));
          res.on("end", () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            try {
              if (status === 200) resolve(parseTfJson(text));
              else reject(new ServingError(codeForHttpStatus(status), errorMessage(text, status)));
            } catch (error: unknown) {
              reject(ServingError.from(error));
            }
          });
        },
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(
          error instanceof ServingError
            ? error
            : new ServingError(Code.UNAVAILABLE, error.message, { cause: error }),
        );
      };
      req.on("error", fail);
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => req.destroy(exceeded()), deadlineMs);
      }
      req.end(body);
    });
  }
}

/** `/v1/models/<model>[/versions/<n> | /labels/<label>]`. */
function modelPath(model: string, choice: VersionChoice): string {
  const base = `/v1/models/${encodeURIComponent(model)}`;
  if (choice.version !== undefined) return `${base}/versions/${BigInt(choice.version)}`;
  if (choice.label !== undefined) return `${base}/labels/${encodeURIComponent(choice.label)}`;
  return base;
}

function examplesBody(examples: readonly Example[], options: ExampleOptions): string {
  const parts = [`"examples":[${examples.map(exampleJson).join(",")}]`];
  if (options.signature !== undefined) parts.push(`"signature_name":${JSON.stringify(options.signature)}`);
  if (options.context !== undefined) parts.push(`"context":${exampleJson(options.context)}`);
  return `{${parts.join(",")}}`;
}

function errorMessage(text: string, status: number): string {
  try {
    const message = field(parseTfJson(text), "error");
    if (typeof message === "string") return message;
  } catch {
    // Not TF Serving's {"error": ...} body (a proxy's page, an empty 400): say what came back.
  }
  return `HTTP ${status}${text.length > 0 ? `: ${text.slice(0, 200)}` : ""}`;
}

function field(json: TfJson | undefined, key: string): TfJson | undefined {
  return json !== null && typeof json === "object" && !Array.isArray(json) ? json[key] : undefined;
}

const isB64 = (v: TfJson | undefined): v is { b64: string } =>
  v !== null && typeof v === "object" && !Array.isArray(v) && typeof v.b64 === "string";

/** `{"outputs": …}` → tensors: the bare tensor of a one-output signature, else an object by alias. */
function predictOutputs(
  outputs: TfJson | undefined,
  signature: SignatureInfo | undefined,
): Record<string, Tensor> {
  if (outputs === undefined) throw invalidArgument("predict response has no outputs");
  const aliases = signature ? Object.keys(signature.outputs) : [];
  const named =
    outputs !== null && typeof outputs === "object" && !Array.isArray(outputs) && !isB64(outputs)
      ? outputs
      : { [aliases.length === 1 ? (aliases[0] as string) : "outputs"]: outputs };
  const result: Record<string, Tensor> = {};
  for (const [alias, value] of Object.entries(named))
    result[alias] = jsonTensor(value, signature?.outputs[alias]);
  return result;
}

/** A JSON tensor (nested lists) as a Tensor of the declared dtype; b64 objects are bytes. */
function jsonTensor(value: TfJson, spec: TensorSpec | undefined): Tensor {
  const leaves = (v: TfJson): TensorInput =>
    Array.isArray(v)
      ? (v.map(leaves) as TensorInput)
      : isB64(v)
        ? Buffer.from(v.b64, "base64")
        : (v as TensorInput);
  const tensor = toTensor(leaves(value), spec?.dtype);
  // `[]` loses the dimensions after the empty one; the signature still knows them.
  const declared = spec?.shape;
  if (tensor.size === 0 && declared && declared.length > tensor.rank) {
    return Tensor.zeros(
      tensor.dtype,
      declared.map((d, i) => tensor.shape[i] ?? Math.max(d, 0)),
    );
  }
  return tensor;
}
