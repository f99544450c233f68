// gRPC serving overhead: ts-serving (ServerCore + its gRPC server, in process, serving the embedded
// ranking_model) against a minimal @grpc/grpc-js server that decodes the same PredictRequest with
// protobuf-es, runs the same MLP built directly as an ONNX model with onnxruntime-node, and encodes a
// PredictResponse (tensor_content). Both on 127.0.0.1, same request bytes (one instance of 32 floats
// as tensor_content), same ONNX Runtime session options. Load comes from a grpc-js client in a child
// process (one channel, N unary calls in flight, pre-serialized request, responses not decoded) at 1,
// 16 and 64 concurrent calls, ABBA order per concurrency to cancel drift. Besides req/s, the servers'
// CPU time per call (this process's CPU, the client being elsewhere) is printed: on a shared machine it
// moves much less than throughput.
// Then a 1 MB payload case: y = 0.5·x + 2 on a float32 [1, 262144] tensor (a model written by our
// exporter against the same two ops as raw ONNX), reported in MB/s of request payload.
// Run: npx tsx bench/grpc.ts [--duration 5] [--rounds 2] [--concurrency 1,16,64] [--payload-concurrency 4]
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from "@grpc/grpc-js";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { startGrpcServer } from "../src/api/tfs-grpc/server.js";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { buildOnnxModel } from "../src/compiler/onnx/model-builder.js";
import { ServerCore } from "../src/core/server-core.js";
import { attr, GraphBuilder } from "../src/export/graph-builder.js";
import { mlpReference } from "../src/export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../src/export/ranking-model.js";
import { savedModelFromGraph } from "../src/export/signature-model.js";
import {
  type PredictRequest,
  PredictRequestSchema,
  type PredictResponse,
  PredictResponseSchema,
} from "../src/proto/gen/tensorflow_serving/apis/predict_pb.js";
import { ModelServerConfigSchema } from "../src/proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { writeSavedModel } from "../src/savedmodel/saved-model-writer.js";
import { DataType } from "../src/tensor/dtype.js";
import { shapeToProto } from "../src/tensor/shape.js";
import { Tensor } from "../src/tensor/tensor.js";
import { tensorFromProto } from "../src/tensor/tensor-proto.js";
import { mean } from "./http-load.js";
import { onnxMlp } from "./onnx-mlp.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    concurrency: { type: "string", default: "1,16,64" },
    "payload-concurrency": { type: "string", default: "4" },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = (args.concurrency ?? "").split(",").map(Number);
const PAYLOAD_CONCURRENCY = Number(args["payload-concurrency"]);
const PAYLOAD_ELEMENTS = 256 * 1024; // 1 MiB of float32
const PREDICT_PATH = "/tensorflow.serving.PredictionService/Predict";

/** The 1 MB case's model: y = x · 0.5 + 2 on float32 [-1, -1], as a TF SavedModel from our exporter. */
async function writeScaleModel(dir: string): Promise<void> {
  const g = new GraphBuilder();
  const x = g.placeholder("x", DataType.DT_FLOAT, [-1, -1]);
  const half = g.constant("half", new Tensor(DataType.DT_FLOAT, [], new Float32Array([0.5])));
  const two = g.constant("two", new Tensor(DataType.DT_FLOAT, [], new Float32Array([2])));
  const scaled = g.op("Mul", "scaled", [x, half], { T: attr.type(DataType.DT_FLOAT) });
  g.op("AddV2", "y", [scaled, two], { T: attr.type(DataType.DT_FLOAT) });
  const xy = { dtype: DataType.DT_FLOAT, shape: [-1, -1] };
  const savedModel = savedModelFromGraph(g.build(), {
    serving_default: { inputs: { x: xy }, outputs: { y: xy } },
  });
  await writeSavedModel(join(dir, "1"), { savedModel });
}

/** The same y = x · 0.5 + 2 as a raw ONNX model (input `x`, output `y`). */
function onnxScale(): Uint8Array {
  const scalar = (v: number) => new Tensor(DataType.DT_FLOAT, [], new Float32Array([v]));
  return buildOnnxModel({
    name: "scale",
    inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, -1] }],
    outputs: [{ name: "y", dtype: DataType.DT_FLOAT, shape: [-1, -1] }],
    initializers: new Map([
      ["half", scalar(0.5)],
      ["two", scalar(2)],
    ]),
    nodes: [
      { opType: "Mul", name: "mul", inputs: ["x", "half"], outputs: ["scaled"], attrs: {} },
      { opType: "Add", name: "add", inputs: ["scaled", "two"], outputs: ["y"], attrs: {} },
    ],
  });
}

/**
 * The baseline: a grpc-js server with only Predict, fromBinary → one InferenceSession.run → toBinary.
 * `models` maps a model name to its session and the request's input / response's output alias.
 */
async function startBare(
  models: Record<string, { session: InferenceSession; input: string; output: string }>,
): Promise<{ server: Server; port: number }> {
  const server = new Server({
    "grpc.max_receive_message_length": 2 ** 31 - 1,
    "grpc.max_send_message_length": 2 ** 31 - 1,
  });
  const predict = (
    call: ServerUnaryCall<PredictRequest, PredictResponse>,
    callback: sendUnaryData<PredictResponse>,
  ) => {
    const request = call.request;
    const model = models[request.modelSpec?.name ?? ""];
    const proto = model && request.inputs[model.input];
    if (!model || !proto || proto.dtype !== DataType.DT_FLOAT) {
      callback({ code: 3, details: "bad request" });
      return;
    }
    const dims = proto.tensorShape?.dim.map((d) => Number(d.size)) ?? [];
    const bytes = proto.tensorContent;
    // tensor_content is a view into the message buffer (a Buffer, whose slice() would not copy);
    // a Float32Array view needs 4-byte alignment.
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
    const data = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
    model.session.run({ x: new OrtTensor("float32", data, dims) }).then(
      (out) => {
        const y = out.y as OrtTensor;
        const values = y.data as Float32Array;
        callback(
          null,
          create(PredictResponseSchema, {
            outputs: {
              [model.output]: {
                dtype: DataType.DT_FLOAT,
                tensorShape: { dim: y.dims.map((d) => ({ size: BigInt(d) })) },
                tensorContent: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
              },
            },
            modelSpec: request.modelSpec,
          }),
        );
      },
      (error: unknown) => callback({ code: 13, details: String(error) }),
    );
  };
  server.addService(
    {
      Predict: {
        path: PREDICT_PATH,
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: PredictRequest) => Buffer.from(toBinary(PredictRequestSchema, m)),
        requestDeserialize: (b: Buffer) => fromBinary(PredictRequestSchema, b),
        responseSerialize: (m: PredictResponse) => Buffer.from(toBinary(PredictResponseSchema, m)),
        responseDeserialize: (b: Buffer) => fromBinary(PredictResponseSchema, b),
      },
    },
    { Predict: predict },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  /** CPU time of this process (the servers and their ONNX Runtime threads) per answered call, µs. */
  cpuPerCall: number;
  /** Event-loop utilization of the client process, 0..1 (near 1: the client, not the server, limits). */
  clientBusy: number;
}

/**
 * The load generator, in a child process (its own core and CPU accounting, so this process's CPU time
 * is the servers' alone): one grpc-js channel, `concurrency` unary calls in flight, each followed by
 * the next as soon as it completes, for `durationMs`. The request is serialized once and responses stay
 * bytes, so the client costs only grpc-js's own per-call work. Prints one JSON line.
 */
const CLIENT = `
const { grpcPath, port, path, requestFile, concurrency, durationMs } = JSON.parse(process.env.BENCH_LOAD);
const grpc = require(grpcPath);
const body = require("node:fs").readFileSync(requestFile);
const client = new grpc.Client("127.0.0.1:" + port, grpc.credentials.createInsecure(), {
  "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1,
});
const latencies = [];
let ok = 0, bad = 0;
const identity = (b) => b;
function loop(stopAt) {
  return new Promise((resolve) => {
    const next = () => {
      if (performance.now() >= stopAt) { resolve(); return; }
      const t0 = process.hrtime.bigint();
      client.makeUnaryRequest(path, identity, identity, body, new grpc.Metadata(), {}, (error) => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (error) bad++; else ok++;
        next();
      });
    };
    next();
  });
}
client.waitForReady(Date.now() + 5000, () => {
  const t = performance.now();
  const elu = performance.eventLoopUtilization();
  Promise.all(Array.from({ length: concurrency }, () => loop(t + durationMs))).then(() => {
    const clientBusy = performance.eventLoopUtilization(elu).utilization;
    const elapsedMs = performance.now() - t;
    client.close();
    const sorted = Float64Array.from(latencies).sort();
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    console.log(JSON.stringify({ ok, bad, elapsedMs, clientBusy, p50: at(0.5), p99: at(0.99) }));
  });
});
`;

const GRPC_PATH = createRequire(import.meta.url).resolve("@grpc/grpc-js");

async function load(
  port: number,
  request: Uint8Array,
  concurrency: number,
  seconds: number,
): Promise<Measure> {
  const requestFile = join(dir, `request-${request.byteLength}.bin`);
  await writeFile(requestFile, request);
  const env = {
    ...process.env,
    BENCH_LOAD: JSON.stringify({
      grpcPath: GRPC_PATH,
      port,
      path: PREDICT_PATH,
      requestFile,
      concurrency,
      durationMs: seconds * 1000,
    }),
  };
  const cpu = process.cpuUsage();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["-e", CLIENT], { env, maxBuffer: 1 << 20 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  const used = process.cpuUsage(cpu);
  const r = JSON.parse(out) as {
    ok: number;
    bad: number;
    elapsedMs: number;
    clientBusy: number;
    p50: number;
    p99: number;
  };
  return {
    rps: (r.ok * 1000) / r.elapsedMs,
    p50: r.p50,
    p99: r.p99,
    failed: r.bad,
    cpuPerCall: (used.user + used.system) / Math.max(1, r.ok),
    clientBusy: r.clientBusy,
  };
}

/** One decoded Predict through a plain client: the output tensor's values. */
function predictOnce(port: number, request: Uint8Array, output: string): Promise<Float32Array> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure(), {
    "grpc.max_receive_message_length": -1,
  });
  return new Promise<Float32Array>((resolve, reject) => {
    client.makeUnaryRequest(
      PREDICT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => fromBinary(PredictResponseSchema, b),
      Buffer.from(request),
      new Metadata(),
      {},
      (error, response) => {
        const proto = response?.outputs[output];
        if (error || !proto) reject(error ?? new Error(`no output ${output}`));
        else resolve(tensorFromProto(proto).values as Float32Array);
      },
    );
  }).finally(() => client.close());
}

function predictRequest(model: string, input: string, values: Float32Array, dims: number[]): Uint8Array {
  return toBinary(
    PredictRequestSchema,
    create(PredictRequestSchema, {
      modelSpec: { name: model },
      inputs: {
        [input]: {
          dtype: DataType.DT_FLOAT,
          tensorShape: shapeToProto(dims),
          tensorContent: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
        },
      },
    }),
  );
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);

/** Runs every server at `concurrency` ROUNDS times, rotating the order each round. */
async function compare(
  ports: Record<string, number>,
  request: Uint8Array,
  concurrency: number,
): Promise<Record<string, Measure & { runs: number[] }>> {
  const names = Object.keys(ports);
  const runs: Record<string, Measure[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order)
      runs[name]?.push(await load(ports[name] ?? 0, request, concurrency, DURATION_S));
  }
  const out: Record<string, Measure & { runs: number[] }> = {};
  for (const name of names) {
    const m = runs[name] ?? [];
    const failed = m.reduce((a, r) => a + r.failed, 0);
    if (failed > 0) throw new Error(`${name}: ${failed} failed calls at concurrency ${concurrency}`);
    out[name] = {
      rps: mean(m.map((r) => r.rps)),
      p50: mean(m.map((r) => r.p50)),
      p99: mean(m.map((r) => r.p99)),
      failed,
      cpuPerCall: mean(m.map((r) => r.cpuPerCall)),
      clientBusy: mean(m.map((r) => r.clientBusy)),
      runs: m.map((r) => r.rps),
    };
  }
  return out;
}

const dir = await mkdtemp(join(tmpdir(), "bench-grpc-"));
let core: ServerCore | undefined;
const servers: Server[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  const scalePath = join(dir, "scale_model");
  await writeScaleModel(scalePath);
  const config = create(ModelServerConfigSchema, {
    config: {
      case: "modelConfigList",
      value: {
        config: [
          { name: RANKING_MODEL.name, basePath, modelPlatform: "tensorflow" },
          { name: "scale_model", basePath: scalePath, modelPlatform: "tensorflow" },
        ],
      },
    },
  });
  core = await ServerCore.create({ config, fileSystemPollWaitSeconds: 0 });
  // As the CLI starts it by default (outputs in typed *_val fields), and with
  // --enable_serialization_as_tensor_content (outputs as raw bytes, like the baseline).
  const ours = await startGrpcServer({ core, port: 0, host: "127.0.0.1" });
  servers.push(ours.server);
  const oursContent = await startGrpcServer({ core, port: 0, host: "127.0.0.1", tensorContentOutputs: true });
  servers.push(oursContent.server);
  const { layers } = rankingModel();
  const options = { graphOptimizationLevel: "all" } as const;
  const bare = await startBare({
    [RANKING_MODEL.name]: {
      session: await InferenceSession.create(onnxMlp(layers), options),
      input: RANKING_MODEL.input,
      output: RANKING_MODEL.output,
    },
    scale_model: { session: await InferenceSession.create(onnxScale(), options), input: "x", output: "y" },
  });
  servers.push(bare.server);

  const row = Float32Array.from(
    { length: RANKING_MODEL.features },
    (_, i) => Math.round(Math.sin(i) * 1000) / 1000,
  );
  const request = predictRequest(RANKING_MODEL.name, RANKING_MODEL.input, row, [1, RANKING_MODEL.features]);
  const expected = mlpReference(layers, row)[0] ?? Number.NaN;
  const payload = Float32Array.from({ length: PAYLOAD_ELEMENTS }, (_, i) => (i % 1000) / 10);
  const payloadRequest = predictRequest("scale_model", "x", payload, [1, PAYLOAD_ELEMENTS]);
  for (const [name, port] of [
    ["ts-serving", ours.port],
    ["ts-serving tensor_content", oursContent.port],
    ["bare", bare.port],
  ] as const) {
    const got = (await predictOnce(port, request, RANKING_MODEL.output))[0] ?? Number.NaN;
    if (Math.abs(got - expected) > 1e-4) throw new Error(`${name} predicts ${got}, reference ${expected}`);
    const y = await predictOnce(port, payloadRequest, "y");
    if (
      y.length !== PAYLOAD_ELEMENTS ||
      y.some((v, i) => Math.abs(v - (0.5 * (payload[i] ?? 0) + 2)) > 1e-4)
    ) {
      throw new Error(`${name} answers the 1 MB case wrongly`);
    }
  }

  const cpu = cpus();
  const pkg = async (name: string) =>
    (
      JSON.parse(
        await readFile(join(import.meta.dirname, `../node_modules/${name}/package.json`), "utf8"),
      ) as {
        version: string;
      }
    ).version;
  console.log(`gRPC Predict, ${RANKING_MODEL.name} (MLP 32→64→32→1), one instance of 32 floats per call`);
  console.log(
    `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}, onnxruntime-node ${await pkg("onnxruntime-node")}, @grpc/grpc-js ${await pkg("@grpc/grpc-js")}`,
  );
  console.log(`${DURATION_S} s per run, ${ROUNDS} runs per server and concurrency (alternating order)`);
  console.log(
    `request: ${request.byteLength} bytes; all servers agree with the reference (${expected.toFixed(6)}) and on the 1 MB case\n`,
  );

  // Warm every server (JIT, ORT arenas, HTTP/2 connections).
  for (const port of [ours.port, bare.port]) await load(port, request, 16, 2);

  const rows: string[] = [];
  for (const concurrency of CONCURRENCY) {
    const r = await compare({ "ts-serving": ours.port, bare: bare.port }, request, concurrency);
    const t = r["ts-serving"]!;
    const b = r.bare!;
    const ratio = t.rps / b.rps;
    rows.push(
      `| ${concurrency} | ${fmt(t.rps)} | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(b.rps)} | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} | ${ratio.toFixed(2)} | ${fmt(t.cpuPerCall)} / ${fmt(b.cpuPerCall)} |`,
    );
    console.log(
      `c=${String(concurrency).padStart(2)}: ts-serving ${fmt(t.rps).padStart(6)} req/s p50 ${fmt(t.p50, 2)} ms p99 ${fmt(t.p99, 2)} ms | bare ${fmt(b.rps).padStart(6)} req/s p50 ${fmt(b.p50, 2)} ms p99 ${fmt(b.p99, 2)} ms | ratio ${ratio.toFixed(2)}  (runs: ${t.runs.map((x) => fmt(x)).join(", ")} vs ${b.runs.map((x) => fmt(x)).join(", ")}; server CPU/call ${fmt(t.cpuPerCall)} vs ${fmt(b.cpuPerCall)} µs, client busy ${fmt(t.clientBusy * 100)}% vs ${fmt(b.clientBusy * 100)}%)`,
    );
  }

  const mb = payloadRequest.byteLength / 1e6;
  console.log(
    `\n1 MB payload: scale_model, float32 [1, ${PAYLOAD_ELEMENTS}] in and out (request ${payloadRequest.byteLength} bytes), ${PAYLOAD_CONCURRENCY} calls in flight`,
  );
  for (const port of [ours.port, oursContent.port, bare.port])
    await load(port, payloadRequest, PAYLOAD_CONCURRENCY, 1);
  const p = await compare(
    { "ts-serving": ours.port, "ts-serving tensor_content": oursContent.port, bare: bare.port },
    payloadRequest,
    PAYLOAD_CONCURRENCY,
  );
  const payloadRows: string[] = [];
  for (const [name, m] of Object.entries(p)) {
    const ratio = m.rps / (p.bare?.rps ?? Number.NaN);
    payloadRows.push(
      `| ${name} | ${fmt(m.rps * mb, 1)} | ${fmt(m.rps, 1)} | ${fmt(m.p50, 2)} | ${fmt(m.p99, 2)} | ${ratio.toFixed(2)} | ${fmt(m.cpuPerCall)} |`,
    );
    console.log(
      `${name.padEnd(26)} ${fmt(m.rps * mb, 1).padStart(7)} MB/s ${fmt(m.rps, 1).padStart(6)} calls/s p50 ${fmt(m.p50, 2)} ms p99 ${fmt(m.p99, 2)} ms ratio ${ratio.toFixed(2)} server CPU/call ${fmt(m.cpuPerCall)} µs`,
    );
  }

  console.log("\nMarkdown:\n");
  console.log(
    "| concurrent calls | ts-serving req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms | ratio | server CPU µs/call (ts-serving / bare) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
  console.log("\n| 1 MB case | request MB/s | calls/s | p50 ms | p99 ms | ratio | server CPU µs/call |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const line of payloadRows) console.log(line);
} finally {
  for (const server of servers) server.forceShutdown();
  await core?.stop();
  await rm(dir, { recursive: true, force: true });
}
