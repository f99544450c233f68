// The grpcurl examples of docs/grpc.md, run as grpcurl runs them: each `-d` JSON body is decoded
// with the descriptors the server sends over reflection, sent to the server of `npm start` (the
// embedded ranking_model), and the answer, rendered as proto JSON, is compared with the output shown.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  create,
  createFileRegistry,
  type FileRegistry,
  fromBinary,
  fromJson,
  type JsonValue,
  toBinary,
  toJson,
} from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import { type Client, Metadata } from "@grpc/grpc-js";
import { REPO_ROOT } from "../../../test/fixtures.js";
import { useScratchDir } from "../../../test/scratch.js";
import { singleModelServerConfig } from "../../core/model-config.js";
import { mlpReference } from "../../export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../../export/ranking-model.js";
import { writeSavedModel } from "../../savedmodel/saved-model-writer.js";
import { fields, reflect, useGrpcServer } from "./grpc.test-helpers.js";

interface Example {
  readonly body: string;
  readonly service: string;
  readonly method: string;
  /** The ```json block right after the command's block, if any. */
  readonly output?: JsonValue;
}

const GRPCURL = /grpcurl -plaintext -d '([^']*)'\s*(?:\\\s*)?localhost:8500 ([\w.]+)\/(\w+)/g;

/** The `grpcurl -d` commands of a Markdown file, each with the output block that follows it. */
function grpcurlExamples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] ?? "",
    text: m[2] ?? "",
  }));
  const examples: Example[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== "sh") return;
    for (const [, body = "", service = "", method = ""] of block.text.matchAll(GRPCURL)) {
      const next = blocks[i + 1];
      const output = next?.lang === "json" ? (JSON.parse(next.text) as JsonValue) : undefined;
      examples.push(output === undefined ? { body, service, method } : { body, service, method, output });
    }
  });
  return examples;
}

/** One reflection v1 request (field `field` of ServerReflectionRequest = `value`) → the files it returns. */
async function reflectFiles(client: Client, field: number, value: string): Promise<FileDescriptorProto[]> {
  // ServerReflectionResponse.file_descriptor_response (4) → FileDescriptorResponse.file_descriptor_proto (1).
  const response = await reflect(client, field, value);
  const files = fields(fields(response).get(4)?.[0] ?? new Uint8Array()).get(1) ?? [];
  return files.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/**
 * What grpcurl does: file_containing_symbol (4) for the service, then file_by_filename (3) for each
 * import not sent yet, into one descriptor registry.
 */
async function registryByReflection(client: Client, symbol: string): Promise<FileRegistry> {
  const files = new Map<string, FileDescriptorProto>();
  const add = (protos: FileDescriptorProto[]) => {
    for (const proto of protos) files.set(proto.name, proto);
  };
  const [main] = await reflectFiles(client, 4, symbol).then((found) => {
    add(found);
    return found.filter((f) => f.service.some((svc) => `${f.package}.${svc.name}` === symbol));
  });
  assert.ok(main, `reflection does not describe ${symbol}`);
  for (;;) {
    const missing = [...files.values()].flatMap((f) => f.dependency).find((name) => !files.has(name));
    if (missing === undefined) break;
    const found = await reflectFiles(client, 3, missing);
    assert.ok(
      found.some((f) => f.name === missing),
      `reflection does not know ${missing}`,
    );
    add(found);
  }
  // Imports first: createFileRegistry adds a FileDescriptorSet's files in order.
  const ordered: FileDescriptorProto[] = [];
  const visit = (file: FileDescriptorProto | undefined) => {
    if (file === undefined || ordered.includes(file)) return;
    for (const dependency of file.dependency) visit(files.get(dependency));
    ordered.push(file);
  };
  visit(main);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

/** Deep equality of proto JSON where numbers are float32 values (grpcurl prints floats shortest). */
function assertSameJson(actual: JsonValue, expected: JsonValue, path = "$"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    assert.equal(Math.fround(actual), Math.fround(expected), `${path}: ${actual} vs ${expected}`);
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    assert.equal(actual.length, expected.length, `${path}: length`);
    for (const [i, e] of expected.entries()) assertSameJson(actual[i] ?? null, e, `${path}[${i}]`);
  } else if (
    expected !== null &&
    actual !== null &&
    typeof expected === "object" &&
    typeof actual === "object"
  ) {
    assert.ok(!Array.isArray(actual) && !Array.isArray(expected), path);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${path}: keys`);
    for (const [key, value] of Object.entries(expected)) {
      assertSameJson((actual as Record<string, JsonValue>)[key] ?? null, value ?? null, `${path}.${key}`);
    }
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

describe("docs/grpc.md grpcurl examples", () => {
  const freshDir = useScratchDir("grpc-docs");
  // The server of `npm start`: ranking_model version 1, written by our exporter.
  const grpc = useGrpcServer(async () => {
    const base = join(freshDir("models"), RANKING_MODEL.name);
    await writeSavedModel(join(base, "1"), rankingModel());
    return singleModelServerConfig(RANKING_MODEL.name, base);
  });

  it("every `grpcurl -d` body is answered, with the output shown where one is", async () => {
    const examples = grpcurlExamples(await readFile(join(REPO_ROOT, "docs/grpc.md"), "utf8"));
    assert.deepEqual(
      examples.map((e) => `${e.method}${e.output === undefined ? "" : " → output"}`),
      ["Predict → output", "GetModelStatus → output", "GetModelMetadata"],
    );
    const { client } = grpc;
    for (const example of examples) {
      const registry = await registryByReflection(client, example.service);
      const method = registry.getService(example.service)?.methods.find((m) => m.name === example.method);
      assert.ok(method, `${example.service}/${example.method} is not described by reflection`);
      const request = fromJson(method.input, JSON.parse(example.body) as JsonValue, { registry });
      const answer = await new Promise<Uint8Array>((resolve, reject) => {
        client.makeUnaryRequest(
          `/${example.service}/${example.method}`,
          (bytes: Uint8Array) => Buffer.from(bytes),
          (bytes: Buffer) => new Uint8Array(bytes),
          toBinary(method.input, request),
          new Metadata(),
          {},
          (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
        );
      });
      const json = toJson(method.output, fromBinary(method.output, answer), { registry });
      if (example.output !== undefined) assertSameJson(json, example.output);
    }
  });

  it("the Predict example's output is the ranking MLP of its input row", async () => {
    const [predict] = grpcurlExamples(await readFile(join(REPO_ROOT, "docs/grpc.md"), "utf8"));
    const body = JSON.parse(predict?.body ?? "{}") as {
      inputs: { input_features: { float_val: number[] } };
    };
    const output = predict?.output as { outputs: { output_logits: { floatVal: number[] } } };
    const row = Float32Array.from(body.inputs.input_features.float_val);
    const [expected = Number.NaN] = mlpReference(rankingModel().layers, row);
    const [shown = Number.NaN] = output.outputs.output_logits.floatVal;
    assert.ok(Math.abs(shown - expected) < 1e-5, `${shown} vs ${expected}`);
  });
});
