// Server-side batching, measured end to end: the MLP 256→512→512→1 (src/export/mlp.ts) served by the
// real server (startModelServer with TF Serving's flags) over REST and gRPC, with batching off, on
// (TF Serving's fixed batch_timeout_micros) and adaptive (--batching_adaptive). Load comes from
// closed-loop clients in a worker thread (its own event loop): raw keep-alive HTTP/1.1 sockets for
// REST, one @grpc/grpc-js channel (connection) per client for gRPC, each client sending its next request when the previous
// answer is complete. Every client sends its own distinct row; a first pass checks answers against the
// MLP's reference.
// Run: npm run bench:batching -- [--duration 5] [--rounds 2] [--clients 64] [--timeout-micros 5000]
//      [--max-batch-size 64] [--threads 2]
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { type RunningServer, startModelServer } from "../src/cli/serve.js";
import { serverFlags } from "../src/cli/server-flags.js";
import { type DenseLayer, mlpReference, mlpSavedModel } from "../src/export/mlp.js";
import { DataType } from "../src/proto/gen/tensorflow/core/framework/types_pb.js";
import { PredictRequestSchema } from "../src/proto/gen/tensorflow_serving/apis/predict_pb.js";
import { writeSavedModel } from "../src/savedmodel/saved-model-writer.js";
import { type Measure, mean, measureInWorker, RESPONSE_LENGTH_JS } from "./http-load.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    clients: { type: "string", default: "64" },
    "timeout-micros": { type: "string", default: "5000" },
    "max-batch-size": { type: "string", default: "64" },
    // One batch at a time: each onnxruntime run already uses every core (intra-op threads).
    threads: { type: "string", default: "1" },
    apis: { type: "string", default: "rest,grpc" },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const APIS = (args.apis ?? "").split(",") as ("rest" | "grpc")[];
const CLIENTS = Number(args.clients);
const TIMEOUT_MICROS = Number(args["timeout-micros"]);
const WIDTHS = [256, 512, 512, 1];
const ROWS = 256; // distinct input rows, client i sends row i % ROWS

/** Closed-loop load in a worker: REST over raw sockets or gRPC over one channel. */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { kind, port, path, bodies, clients, durationMs } = workerData;
const latencies = [];
let ok = 0, bad = 0;
const start = performance.now();
const stopAt = start + durationMs;
const record = (t0, good) => { latencies.push(Number(process.hrtime.bigint() - t0) / 1e6); if (good) ok++; else bad++; };
${RESPONSE_LENGTH_JS}
function restClient(i) {
  const net = require("node:net");
  const body = bodies[i % bodies.length];
  const request = Buffer.concat([Buffer.from("POST " + path + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nContent-Length: " + body.length + "\\r\\n\\r\\n"), Buffer.from(body)]);
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0), t0 = 0n;
    const send = () => { if (performance.now() >= stopAt) { socket.end(); resolve(); return; } t0 = process.hrtime.bigint(); socket.write(request); };
    socket.on("connect", send);
    socket.on("data", (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const total = complete(buf);
      if (total < 0) return;
      record(t0, buf.toString("latin1", 9, 12) === "200");
      buf = buf.subarray(total);
      send();
    });
    socket.on("error", () => { bad++; resolve(); });
  });
}
const channels = [];
function grpcClient(i) {
  const grpc = require("@grpc/grpc-js");
  // One connection per client, like REST's sockets (grpc-js would otherwise share one subchannel).
  const channel = new grpc.Client("127.0.0.1:" + port, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
  channels.push(channel);
  const body = Buffer.from(bodies[i % bodies.length]);
  return new Promise((resolve) => {
    const send = () => {
      if (performance.now() >= stopAt) { resolve(); return; }
      const t0 = process.hrtime.bigint();
      channel.makeUnaryRequest("/tensorflow.serving.PredictionService/Predict", (b) => b, (b) => b, body, (error) => { record(t0, !error); send(); });
    };
    send();
  });
}
Promise.all(Array.from({ length: clients }, (_, i) => (kind === "rest" ? restClient(i) : grpcClient(i)))).then(() => {
  for (const channel of channels) channel.close();
  parentPort.postMessage({ ok, bad, elapsedMs: performance.now() - start, latencies: Float64Array.from(latencies) });
});
`;

function load(
  kind: "rest" | "grpc",
  port: number,
  bodies: readonly Uint8Array[],
  clients: number,
  seconds: number,
): Promise<Measure> {
  return measureInWorker(CLIENT, {
    kind,
    port,
    path: "/v1/models/mlp:predict",
    bodies,
    clients,
    durationMs: seconds * 1000,
  });
}

function inputRow(i: number): Float32Array {
  return Float32Array.from(
    { length: WIDTHS[0] ?? 0 },
    (_, j) => Math.round(Math.sin(i * 31 + j) * 1000) / 1000,
  );
}

/** Every client's answer is its own row's: one pass over all rows, REST and gRPC, before measuring. */
async function check(server: RunningServer, layers: readonly DenseLayer[]): Promise<void> {
  await Promise.all(
    Array.from({ length: ROUNDS_CHECK }, async (_, i) => {
      const row = inputRow(i % ROWS);
      const response = await fetch(`http://127.0.0.1:${server.restPort}/v1/models/mlp:predict`, {
        method: "POST",
        body: JSON.stringify({ instances: [Array.from(row)] }),
      });
      const json = (await response.json()) as { predictions: number[][] };
      const got = json.predictions[0]?.[0] ?? Number.NaN;
      const expected = mlpReference(layers, row)[0] ?? Number.NaN;
      if (!(Math.abs(got - expected) <= 1e-3 * Math.max(1, Math.abs(expected))))
        throw new Error(`row ${i}: got ${got}, reference ${expected}`);
    }),
  );
}
const ROUNDS_CHECK = 256;

/** A port nothing listens on now (the server's flags need a number: 0 means off). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const mode = (name: string, extra: Record<string, string>) => ({ name, extra });

const dir = await mkdtemp(join(tmpdir(), "bench-batching-"));
try {
  const { layers, ...contents } = mlpSavedModel({ widths: WIDTHS, input: "x", output: "y", seed: 7 });
  await writeSavedModel(join(dir, "mlp", "1"), contents);
  const conf = join(dir, "batch.conf");
  await writeFile(
    conf,
    `max_batch_size { value: ${args["max-batch-size"]} }\nbatch_timeout_micros { value: ${TIMEOUT_MICROS} }\nmax_enqueued_batches { value: 1000 }\nnum_batch_threads { value: ${args.threads} }\n`,
  );
  const restBodies = Array.from({ length: ROWS }, (_, i) =>
    new TextEncoder().encode(JSON.stringify({ instances: [Array.from(inputRow(i))] })),
  );
  const grpcBodies = Array.from({ length: ROWS }, (_, i) =>
    toBinary(
      PredictRequestSchema,
      create(PredictRequestSchema, {
        modelSpec: { name: "mlp" },
        inputs: {
          x: {
            dtype: DataType.DT_FLOAT,
            tensorShape: { dim: [{ size: 1n }, { size: BigInt(WIDTHS[0] ?? 0) }] },
            floatVal: Array.from(inputRow(i)),
          },
        },
      }),
    ),
  );
  const modes = [
    mode("off", {}),
    mode("on", { enable_batching: "true", batching_parameters_file: conf }),
    mode("adaptive", { enable_batching: "true", batching_parameters_file: conf, batching_adaptive: "true" }),
  ];
  const cpu = cpus();
  const ort = JSON.parse(
    await readFile(join(import.meta.dirname, "../node_modules/onnxruntime-node/package.json"), "utf8"),
  ) as { version: string };
  console.log(`Batching: MLP ${WIDTHS.join("→")}, one row of ${WIDTHS[0]} floats per request, distinct rows`);
  console.log(
    `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}, onnxruntime-node ${ort.version}; ${DURATION_S} s per run, ${ROUNDS} rounds (ABBA), means; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")}`,
  );
  console.log(
    `batching: max_batch_size ${args["max-batch-size"]}, batch_timeout_micros ${TIMEOUT_MICROS}, num_batch_threads ${args.threads}\n`,
  );
  const results = new Map<string, Measure[]>();
  // Rounds in ABBA order (off, on, adaptive, adaptive, on, off, ...) so drift hits every mode alike.
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, extra } of round % 2 === 0 ? modes : [...modes].reverse()) {
      const server = await startModelServer(
        serverFlags({
          model_name: "mlp",
          model_base_path: join(dir, "mlp"),
          port: String(await freePort()),
          rest_api_port: String(await freePort()),
          ...extra,
        }),
        () => {},
      );
      try {
        await check(server, layers);
        const ports = { rest: server.restPort ?? 0, grpc: server.grpcPort ?? 0 };
        for (const kind of APIS) {
          const bodies = kind === "rest" ? restBodies : grpcBodies;
          await load(kind, ports[kind], bodies, CLIENTS, 1); // warm-up
          for (const clients of [CLIENTS, 1]) {
            const m = await load(kind, ports[kind], bodies, clients, DURATION_S);
            if (m.failed > 0) throw new Error(`${name} ${kind} c=${clients}: ${m.failed} failed requests`);
            const key = `${name}/${kind}/${clients}`;
            results.set(key, [...(results.get(key) ?? []), m]);
            console.log(
              `${name.padEnd(8)} ${kind.padEnd(4)} c=${String(clients).padStart(2)}: ${m.rps.toFixed(0).padStart(6)} req/s  p50 ${m.p50.toFixed(3)} ms  p99 ${m.p99.toFixed(3)} ms`,
            );
          }
        }
      } finally {
        await server.stop();
      }
    }
  }
  console.log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")}`,
  );
  const get = (key: string): Measure => {
    const runs = results.get(key) ?? [];
    return {
      rps: mean(runs.map((r) => r.rps)),
      p50: mean(runs.map((r) => r.p50)),
      p99: mean(runs.map((r) => r.p99)),
      failed: 0,
    };
  };
  console.log("\nMarkdown:\n");
  console.log(`| API | clients | batching | req/s | p50 ms | p99 ms | vs off |`);
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const kind of APIS) {
    for (const clients of [CLIENTS, 1]) {
      const off = get(`off/${kind}/${clients}`);
      for (const name of ["off", "on", "adaptive"]) {
        const m = get(`${name}/${kind}/${clients}`);
        const vs =
          clients === 1
            ? `p50 ${m.p50 - off.p50 >= 0 ? "+" : ""}${((m.p50 - off.p50) * 1000).toFixed(0)} µs`
            : `${(m.rps / off.rps).toFixed(2)}× req/s`;
        console.log(
          `| ${kind === "rest" ? "REST" : "gRPC"} | ${clients} | ${name} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(3)} | ${m.p99.toFixed(3)} | ${name === "off" ? "—" : vs} |`,
        );
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
