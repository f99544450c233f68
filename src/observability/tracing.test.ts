// Tracing with an in-memory exporter (no network): a REST and a gRPC Predict each give a `request`
// span with a `run` child (the onnxruntime signature run) in the same trace.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Client, credentials, type Server as GrpcServer } from "@grpc/grpc-js";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { needsFixtures } from "../../test/fixtures.js";
import { halfPlusTwoConfig, unaryCall } from "../api/tfs-grpc/grpc.test-helpers.js";
import { startGrpcServer } from "../api/tfs-grpc/server.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import { serverBatching } from "../batching/server-batching.js";
import { ServerCore, type ServerCoreOptions } from "../core/server-core.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import {
  type PredictRequest,
  PredictRequestSchema,
} from "../proto/gen/tensorflow_serving/apis/predict_pb.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { loadServable } from "../runtime/servable.js";
import { Observability } from "./observability.js";

/** half_plus_two loaded through `load`, its states observed, and a REST server with the hooks. */
async function startTracedRest(
  observability: Observability,
  load: ServerCoreOptions["load"],
): Promise<{ core: ServerCore; rest: Server; restUrl: string }> {
  const core = await ServerCore.create({
    config: halfPlusTwoConfig(),
    fileSystemPollWaitSeconds: 0,
    load,
    listeners: { state: (e) => observability.onState(e) },
  });
  const started = await startRestServer({
    backend: core,
    port: 0,
    host: "127.0.0.1",
    observability: observability.rest,
  });
  return { core, rest: started.server, restUrl: `http://127.0.0.1:${started.port}` };
}

describe("tracing", needsFixtures, () => {
  const exporter = new InMemorySpanExporter();
  const observability = new Observability({ spanExporter: exporter, defaultMetrics: false });
  let core: ServerCore | undefined;
  let rest: Server | undefined;
  let grpc: GrpcServer | undefined;
  let restUrl = "";
  let grpcPort = 0;

  before(async () => {
    ({ core, rest, restUrl } = await startTracedRest(
      observability,
      observability.tracedLoad(
        observability.timedLoad((dir) => loadServable(dir)),
        false,
      ),
    ));
    const g = await startGrpcServer({
      core,
      port: 0,
      host: "127.0.0.1",
      interceptors: [observability.grpcInterceptor],
    });
    grpc = g.server;
    grpcPort = g.port;
  });

  after(async () => {
    grpc?.forceShutdown();
    rest?.closeAllConnections();
    rest?.close();
    await core?.stop();
    await observability.close();
  });

  const spansOf = (requestId: string): { request: ReadableSpan; children: ReadableSpan[] } => {
    const spans = exporter.getFinishedSpans();
    const request = spans.find(
      (s) => s.name === "request" && s.attributes["ts_serving.request_id"] === requestId,
    );
    assert.ok(request, `a request span for ${requestId}`);
    const children = spans.filter(
      (s) =>
        s.spanContext().traceId === request.spanContext().traceId &&
        s.parentSpanContext?.spanId === request.spanContext().spanId,
    );
    return { request, children };
  };

  it("REST: request span (model, version, signature, status) with a run child", async () => {
    const response = await fetch(`${restUrl}/v1/models/half_plus_two:predict`, {
      method: "POST",
      body: '{"instances": [1.0]}',
      headers: { "x-request-id": "trace-rest" },
    });
    assert.equal(response.status, 200);
    await response.text();
    const { request, children } = spansOf("trace-rest");
    assert.deepEqual(
      [
        request.attributes["ts_serving.entrypoint"],
        request.attributes["ts_serving.api"],
        request.attributes["ts_serving.model"],
        request.attributes["ts_serving.version"],
        request.attributes["ts_serving.signature"],
        request.attributes["ts_serving.status"],
      ],
      ["REST", "Predict", "half_plus_two", "123", "serving_default", "OK"],
    );
    assert.deepEqual(
      children.map((s) => s.name),
      ["run"],
    );
    assert.equal(children[0]?.attributes["ts_serving.signature"], "serving_default");
  });

  it("gRPC: request span with a run child; a failed call's span has an error status", async () => {
    const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    // Resolves when the call ends, failed or not: the spans are what is checked.
    const call = (request: PredictRequest, id: string) =>
      unaryCall(client, PredictionService.method.predict, request, undefined, { "x-request-id": id }).then(
        () => undefined,
        () => undefined,
      );
    const x = { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }] }, floatVal: [3] };
    await call(
      create(PredictRequestSchema, { modelSpec: { name: "half_plus_two" }, inputs: { x } }),
      "trace-grpc",
    );
    await call(
      create(PredictRequestSchema, { modelSpec: { name: "nope" }, inputs: { x } }),
      "trace-grpc-fail",
    );
    client.close();
    const ok = spansOf("trace-grpc");
    assert.equal(ok.request.attributes["ts_serving.entrypoint"], "GRPC");
    assert.equal(ok.request.attributes["ts_serving.status"], "OK");
    assert.deepEqual(
      ok.children.map((s) => s.name),
      ["run"],
    );
    const failed = spansOf("trace-grpc-fail");
    assert.equal(failed.request.attributes["ts_serving.status"], "NOT_FOUND");
    assert.equal(failed.request.status.code, 2, "SpanStatusCode.ERROR");
    assert.equal(failed.children.length, 0);
  });
});

describe("tracing with batching", needsFixtures, () => {
  const exporter = new InMemorySpanExporter();
  const observability = new Observability({ spanExporter: exporter, defaultMetrics: false });
  let core: ServerCore | undefined;
  let rest: Server | undefined;
  let restUrl = "";

  before(async () => {
    const batching = await serverBatching({
      enableBatching: true,
      batchingParametersFile: "",
      perModelParameters: false,
      adaptive: false,
      observer: observability.batching,
    });
    ({ core, rest, restUrl } = await startTracedRest(
      observability,
      observability.tracedLoad(batching(observability.timedLoad((dir) => loadServable(dir))), true),
    ));
  });

  after(async () => {
    rest?.closeAllConnections();
    rest?.close();
    await core?.stop();
    await observability.close();
  });

  it("request → queue → run: the queue span ends where the run span starts", async () => {
    const response = await fetch(`${restUrl}/v1/models/half_plus_two:predict`, {
      method: "POST",
      body: '{"instances": [1.0, 2.0]}',
      headers: { "x-request-id": "trace-batched" },
    });
    assert.deepEqual(await response.json(), { predictions: [2.5, 3.0] });
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.attributes["ts_serving.request_id"] === "trace-batched");
    assert.ok(request);
    const children = spans.filter((s) => s.parentSpanContext?.spanId === request.spanContext().spanId);
    const queue = children.find((s) => s.name === "queue");
    const run = children.find((s) => s.name === "run");
    assert.ok(queue, "a queue span");
    assert.ok(run, "a run span");
    assert.deepEqual(queue.endTime, run.startTime);
  });
});
