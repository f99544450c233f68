// Acceptance: a real server (startModelServer, half_plus_two) with a monitoring config and an access
// log gets known traffic over REST and gRPC — successes and failures — and the scraped metrics, the
// access-log lines and the request ids must account for exactly that traffic.
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, Metadata, type ServiceError, type StatusObject } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { freePort } from "../../test/rest/helpers.js";
import { useScratchDir } from "../../test/scratch.js";
import { type RunningServer, startModelServer } from "../cli/serve.js";
import { serverFlags } from "../cli/server-flags.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import {
  type PredictRequest,
  PredictRequestSchema,
  PredictResponseSchema,
} from "../proto/gen/tensorflow_serving/apis/predict_pb.js";
import { METRIC_NAMES } from "./metrics.js";
import { parsePrometheusText, type Sample, sampleValue } from "./prometheus-text.test-helpers.js";

const MODEL_DIR = tfServingModel("saved_model_half_plus_two_cpu");
const floats = (values: number[]) => ({
  dtype: DataType.DT_FLOAT,
  tensorShape: { dim: [{ size: BigInt(values.length) }] },
  floatVal: values,
});

interface GrpcResult {
  readonly error: ServiceError | null;
  readonly headers: Metadata | undefined;
  readonly status: StatusObject | undefined;
}

/** A Predict call with `x-request-id` metadata; resolves with the error (if any), headers and trailers. */
function grpcPredict(client: Client, request: PredictRequest, requestId?: string): Promise<GrpcResult> {
  return new Promise((resolve) => {
    const metadata = new Metadata();
    if (requestId !== undefined) metadata.set("x-request-id", requestId);
    let headers: Metadata | undefined;
    let error: ServiceError | null = null;
    const call = client.makeUnaryRequest(
      "/tensorflow.serving.PredictionService/Predict",
      (m: PredictRequest) => Buffer.from(toBinary(PredictRequestSchema, m)),
      (b: Buffer) => fromBinary(PredictResponseSchema, b),
      request,
      metadata,
      (e) => {
        error = e;
      },
    );
    call.on("metadata", (m: Metadata) => {
      headers = m;
    });
    call.on("status", (status: StatusObject) => resolve({ error, headers, status }));
  });
}

describe("observability of a running server", needsFixtures, () => {
  const scratch = useScratchDir("observability");
  let server: RunningServer | undefined;
  let rest = "";
  let client: Client | undefined;
  let accessLogPath = "";
  const restIds: string[] = [];
  const grpcResults: GrpcResult[] = [];
  let samples: Sample[] = [];
  let scrape: Response | undefined;
  let accessLines: Record<string, unknown>[] = [];

  before(async () => {
    const dir = scratch("run");
    await mkdir(dir, { recursive: true });
    const monitoring = join(dir, "monitoring.config");
    await writeFile(monitoring, "prometheus_config { enable: true }\n");
    accessLogPath = join(dir, "logs", "access.log");
    const flags = serverFlags({
      model_name: "half_plus_two",
      model_base_path: dirname(MODEL_DIR),
      rest_api_port: String(await freePort()),
      port: String(await freePort()),
      monitoring_config_file: monitoring,
      access_log: accessLogPath,
      file_system_poll_wait_seconds: "0",
    });
    server = await startModelServer(flags, () => {});
    rest = `http://127.0.0.1:${server.restPort}`;
    client = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());

    // REST: 3 predictions (the first with a client request id), a malformed body, an unknown model,
    // and a model status request.
    const predict = (model: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${rest}/v1/models/${model}:predict`, { method: "POST", body, headers });
    for (let i = 0; i < 3; i++) {
      const response = await predict(
        "half_plus_two",
        '{"instances": [1.0, 2.0]}',
        i === 0 ? { "x-request-id": "rest-id-1" } : {},
      );
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { predictions: [2.5, 3.0] });
      restIds.push(response.headers.get("x-request-id") ?? "");
    }
    assert.equal((await predict("half_plus_two", '{"instances": [1.0,')).status, 400);
    assert.equal((await predict("nope", '{"instances": [1.0]}')).status, 404);
    assert.equal((await fetch(`${rest}/v1/models/half_plus_two`)).status, 200);

    // gRPC: 2 predictions (the first with a request id), an unknown model, a wrong input name.
    const ok = create(PredictRequestSchema, {
      modelSpec: { name: "half_plus_two" },
      inputs: { x: floats([1, 2]) },
    });
    grpcResults.push(await grpcPredict(client, ok, "grpc-id-7"));
    grpcResults.push(await grpcPredict(client, ok));
    const unknown = create(PredictRequestSchema, { modelSpec: { name: "nope" }, inputs: { x: floats([1]) } });
    grpcResults.push(await grpcPredict(client, unknown, "grpc-id-8"));
    const badInput = create(PredictRequestSchema, {
      modelSpec: { name: "half_plus_two" },
      inputs: { wrong: floats([1]) },
    });
    grpcResults.push(await grpcPredict(client, badInput));

    scrape = await fetch(`${rest}/monitoring/prometheus/metrics`);
    samples = parsePrometheusText(await scrape.text());
    client.close();
    await server.stop();
    server = undefined;
    accessLines = (await readFile(accessLogPath, "utf8"))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  const requests = (labels: Record<string, string>) =>
    sampleValue(samples, METRIC_NAMES.requestCount, labels);
  const latencyCount = (labels: Record<string, string>) =>
    sampleValue(samples, `${METRIC_NAMES.requestLatency}_count`, labels);

  it("serves Prometheus text at TF Serving's default path on the REST port", () => {
    assert.equal(scrape?.status, 200);
    assert.match(scrape?.headers.get("content-type") ?? "", /^text\/plain/);
  });

  it("counts requests by model, API, entrypoint and status", () => {
    const hpt = { model_name: "half_plus_two", API: "Predict" };
    assert.equal(requests({ ...hpt, entrypoint: "REST", status: "OK" }), 3);
    assert.equal(requests({ ...hpt, entrypoint: "REST", status: "INVALID_ARGUMENT" }), 1);
    assert.equal(
      requests({ model_name: "nope", API: "Predict", entrypoint: "REST", status: "NOT_FOUND" }),
      1,
    );
    assert.equal(
      requests({ model_name: "half_plus_two", API: "GetModelStatus", entrypoint: "REST", status: "OK" }),
      1,
    );
    assert.equal(requests({ ...hpt, entrypoint: "GRPC", status: "OK" }), 2);
    assert.equal(requests({ ...hpt, entrypoint: "GRPC", status: "INVALID_ARGUMENT" }), 1);
    assert.equal(
      requests({ model_name: "nope", API: "Predict", entrypoint: "GRPC", status: "NOT_FOUND" }),
      1,
    );
    const total = samples
      .filter((s) => s.name === METRIC_NAMES.requestCount)
      .reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, 10, "the scrape itself and nothing else is uncounted");
  });

  it("has a request latency histogram per model, API and entrypoint, with TF's buckets", () => {
    assert.equal(latencyCount({ model_name: "half_plus_two", API: "Predict", entrypoint: "REST" }), 4);
    assert.equal(latencyCount({ model_name: "half_plus_two", API: "Predict", entrypoint: "GRPC" }), 3);
    assert.equal(latencyCount({ model_name: "nope", API: "Predict", entrypoint: "GRPC" }), 1);
    const inf = sampleValue(samples, `${METRIC_NAMES.requestLatency}_bucket`, {
      model_name: "half_plus_two",
      API: "Predict",
      entrypoint: "REST",
      le: "+Inf",
    });
    assert.equal(inf, 4);
    const buckets = samples.filter(
      (s) =>
        s.name === `${METRIC_NAMES.requestLatency}_bucket` &&
        s.labels.entrypoint === "REST" &&
        s.labels.API === "Predict" &&
        s.labels.model_name === "half_plus_two",
    );
    assert.equal(buckets.length, 34, "33 exponential buckets (10 µs × 1.8^k) and +Inf");
    assert.equal(buckets[0]?.labels.le, "10");
  });

  it("times runtime runs, loads and warmup; gauges the versions loaded; adds process metrics", () => {
    const runs = sampleValue(samples, `${METRIC_NAMES.runtimeLatency}_count`, {
      model_name: "half_plus_two",
      API: "Predict",
      runtime: "onnxruntime",
    });
    assert.equal(runs, 5, "3 REST and 2 gRPC predictions ran; the failures stopped before the runtime");
    assert.equal(sampleValue(samples, METRIC_NAMES.versionsLoaded, { model_name: "half_plus_two" }), 1);
    assert.equal(
      sampleValue(samples, METRIC_NAMES.loadAttemptCount, { model_path: MODEL_DIR, status: "success" }),
      1,
    );
    assert.ok(sampleValue(samples, METRIC_NAMES.loadLatency, { model_path: MODEL_DIR }) > 0);
    assert.equal(
      sampleValue(samples, `${METRIC_NAMES.warmupLatency}_count`, { model_path: MODEL_DIR, status: "OK" }),
      1,
    );
    assert.ok(samples.some((s) => s.name === "process_cpu_user_seconds_total"));
    assert.ok(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds"));
  });

  it("returns the client's x-request-id, or a generated one, on REST", () => {
    assert.equal(restIds[0], "rest-id-1");
    assert.match(restIds[1] ?? "", /^[0-9a-f-]{36}$/);
    assert.notEqual(restIds[1], restIds[2]);
  });

  it("returns x-request-id in gRPC response headers, and in the trailers of an error", () => {
    const [first, second, unknown] = grpcResults;
    assert.equal(first?.error, null);
    assert.deepEqual(first?.headers?.get("x-request-id"), ["grpc-id-7"]);
    assert.match(String(second?.headers?.get("x-request-id")[0]), /^[0-9a-f-]{36}$/);
    assert.equal(unknown?.error?.code, 5);
    assert.deepEqual(unknown?.status?.metadata.get("x-request-id"), ["grpc-id-8"]);
  });

  it("writes one access-log line per request with model, version, signature, API, status, latency, id", () => {
    assert.equal(accessLines.length, 10);
    const rest = accessLines.find((l) => l.request_id === "rest-id-1");
    assert.ok(rest);
    assert.equal(rest.entrypoint, "REST");
    assert.equal(rest.api, "Predict");
    assert.equal(rest.model, "half_plus_two");
    assert.equal(rest.version, "123");
    assert.equal(rest.signature, "serving_default");
    assert.equal(rest.status, "OK");
    assert.equal(rest.http_status, 200);
    assert.equal(typeof rest.latency_ms, "number");
    assert.equal(typeof rest.time, "string");
    const grpc = accessLines.find((l) => l.request_id === "grpc-id-7");
    assert.ok(grpc);
    assert.deepEqual(
      [grpc.entrypoint, grpc.api, grpc.model, grpc.version, grpc.signature, grpc.status],
      ["GRPC", "Predict", "half_plus_two", "123", "serving_default", "OK"],
    );
    const missing = accessLines.find((l) => l.request_id === "grpc-id-8");
    assert.deepEqual([missing?.model, missing?.status, missing?.version], ["nope", "NOT_FOUND", null]);
    const notFound = accessLines.filter((l) => l.entrypoint === "REST" && l.status === "NOT_FOUND");
    assert.equal(notFound[0]?.http_status, 404);
  });
});
