// REST serving overhead: ts-serving (ServerCore + its REST server, in process, serving the embedded
// ranking_model) against a bare node:http server that JSON.parses the same request and runs the same
// MLP built directly as an ONNX model with onnxruntime-node. Both on 127.0.0.1, same request body (one
// instance of 32 floats), same ONNX Runtime session options. Load comes from a small keep-alive client
// in a worker thread (so the load generator never shares the servers' event loop), at 1, 16 and 64
// connections, in ABBA order per connection count to cancel drift.
// Run: npx tsx bench/rest.ts [--duration 5] [--rounds 2]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { startRestServer } from "../src/api/tfs-rest/server.js";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { singleModelServerConfig } from "../src/core/model-config.js";
import { ServerCore } from "../src/core/server-core.js";
import { type DenseLayer, mlpReference } from "../src/export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../src/export/ranking-model.js";
import { onnxMlp } from "./onnx-mlp.js";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "1,16,64" },
  },
});
const DURATION_S = Number(args.duration);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = (args.connections ?? "").split(",").map(Number);

/** The baseline: node:http + JSON.parse + onnxruntime + JSON.stringify, nothing else. */
async function startBare(layers: readonly DenseLayer[]): Promise<{ server: Server; port: number }> {
  const session = await InferenceSession.create(onnxMlp(layers), { graphOptimizationLevel: "all" });
  const width = RANKING_MODEL.features;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const reply = (status: number, body: string) =>
        res.writeHead(status, { "Content-Type": "application/json" }).end(body);
      try {
        const { instances } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { instances: number[][] };
        const data = new Float32Array(instances.length * width);
        for (const [i, row] of instances.entries()) data.set(row, i * width);
        session.run({ x: new OrtTensor("float32", data, [instances.length, width]) }).then(
          (out) => {
            const y = out.y?.data as Float32Array;
            reply(200, JSON.stringify({ predictions: Array.from(y, (v) => [v]) }));
          },
          (error: unknown) => reply(500, JSON.stringify({ error: String(error) })),
        );
      } catch (error: unknown) {
        reply(400, JSON.stringify({ error: String(error) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  /** Non-200 answers and socket errors. */
  failed: number;
}

/**
 * The load generator, run in a worker thread (its own event loop and core, never the servers'):
 * `connections` keep-alive sockets, each sending the next request as soon as the previous response
 * is complete, for `durationMs`; latency per request from hrtime. Raw sockets and a minimal HTTP/1.1
 * response parser (Content-Length or chunked), so the client costs a few µs per request.
 */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const net = require("node:net");
const { port, path, body, connections, durationMs } = workerData;
const request = Buffer.from(
  "POST " + path + " HTTP/1.1\\r\\nHost: 127.0.0.1:" + port + "\\r\\nContent-Type: application/json\\r\\n" +
  "Content-Length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
const CRLF2 = Buffer.from("\\r\\n\\r\\n");
// Length of the first complete response in buf, or -1.
function complete(buf) {
  const head = buf.indexOf(CRLF2);
  if (head < 0) return -1;
  const headers = buf.toString("latin1", 0, head);
  const length = /\\r\\ncontent-length: *(\\d+)/i.exec(headers);
  if (length) {
    const total = head + 4 + Number(length[1]);
    return buf.length >= total ? total : -1;
  }
  let pos = head + 4; // chunked
  for (;;) {
    const eol = buf.indexOf("\\r\\n", pos, "latin1");
    if (eol < 0) return -1;
    const size = parseInt(buf.toString("latin1", pos, eol), 16);
    if (size === 0) return buf.length >= eol + 4 ? eol + 4 : -1;
    pos = eol + 2 + size + 2;
    if (pos > buf.length) return -1;
  }
}
const latencies = [];
let ok = 0, bad = 0;
const start = performance.now();
const stopAt = start + durationMs;
function run() {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    let t0 = 0n;
    const send = () => {
      if (performance.now() >= stopAt) { socket.end(); resolve(); return; }
      t0 = process.hrtime.bigint();
      socket.write(request);
    };
    socket.on("connect", send);
    socket.on("data", (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const n = complete(buf);
      if (n < 0) return;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (buf.toString("latin1", 9, 12) === "200") ok++; else bad++;
      buf = buf.subarray(n);
      send();
    });
    socket.on("error", () => { bad++; resolve(); });
  });
}
Promise.all(Array.from({ length: connections }, run)).then(() => {
  parentPort.postMessage({ ok, bad, elapsedMs: performance.now() - start, latencies: Float64Array.from(latencies) });
});
`;

function load(url: string, body: string, connections: number, seconds: number): Promise<Measure> {
  const { port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, {
      eval: true,
      workerData: { port: Number(port), path: pathname, body, connections, durationMs: seconds * 1000 },
    });
    worker.once("error", reject);
    worker.once("message", (r: { ok: number; bad: number; elapsedMs: number; latencies: Float64Array }) => {
      void worker.terminate();
      const sorted = r.latencies.sort();
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      resolve({ rps: (r.ok * 1000) / r.elapsedMs, p50: at(0.5), p99: at(0.99), failed: r.bad });
    });
  });
}

async function predictOnce(url: string, body: string): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json" },
  });
  const json = (await response.json()) as { predictions: number[][] };
  const value = json.predictions[0]?.[0];
  if (response.status !== 200 || typeof value !== "number")
    throw new Error(`${url}: ${JSON.stringify(json)}`);
  return value;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (n: number, digits = 0) => n.toFixed(digits);

const dir = await mkdtemp(join(tmpdir(), "bench-rest-"));
let core: ServerCore | undefined;
const servers: Server[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  core = await ServerCore.create({ config: singleModelServerConfig(RANKING_MODEL.name, basePath) });
  const ours = await startRestServer({ backend: core, port: 0, host: "127.0.0.1", timeoutMs: 30_000 });
  servers.push(ours.server);
  const { layers } = rankingModel();
  const bare = await startBare(layers);
  servers.push(bare.server);

  const row = Float32Array.from(
    { length: RANKING_MODEL.features },
    (_, i) => Math.round(Math.sin(i) * 1000) / 1000,
  );
  const body = JSON.stringify({ instances: [Array.from(row)] });
  const urls = {
    "ts-serving": `http://127.0.0.1:${ours.port}/v1/models/${RANKING_MODEL.name}:predict`,
    bare: `http://127.0.0.1:${bare.port}/predict`,
  } as const;

  const expected = mlpReference(layers, row)[0] ?? Number.NaN;
  for (const [name, url] of Object.entries(urls)) {
    const got = await predictOnce(url, body);
    if (Math.abs(got - expected) > 1e-4) throw new Error(`${name} predicts ${got}, reference ${expected}`);
  }

  const cpu = cpus();
  const ort = JSON.parse(
    await readFile(join(import.meta.dirname, "../node_modules/onnxruntime-node/package.json"), "utf8"),
  ) as { version: string };
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}, onnxruntime-node ${ort.version}`;
  console.log(`REST predict, ${RANKING_MODEL.name} (MLP 32→64→32→1), one instance of 32 floats per request`);
  console.log(`${machine}; ${DURATION_S} s per run, ${ROUNDS} runs per server and concurrency (ABBA order)`);
  console.log(`body: ${body.length} bytes; both servers agree with the reference (${expected.toFixed(6)})\n`);

  // Warm both servers (JIT, ORT arenas, keep-alive sockets).
  for (const url of Object.values(urls)) await load(url, body, 16, 2);

  const rows: string[] = [];
  for (const connections of CONNECTIONS) {
    const runs: Record<keyof typeof urls, Measure[]> = { "ts-serving": [], bare: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: (keyof typeof urls)[] = round % 2 === 0 ? ["ts-serving", "bare"] : ["bare", "ts-serving"];
      for (const name of order) runs[name].push(await load(urls[name], body, connections, DURATION_S));
    }
    const summary = (name: keyof typeof urls) => {
      const m = runs[name];
      const bad = m.reduce((a, r) => a + r.failed, 0);
      if (bad > 0) throw new Error(`${name}: ${bad} failed requests at ${connections} connections`);
      return {
        rps: mean(m.map((r) => r.rps)),
        p50: mean(m.map((r) => r.p50)),
        p99: mean(m.map((r) => r.p99)),
      };
    };
    const t = summary("ts-serving");
    const b = summary("bare");
    const ratio = t.rps / b.rps;
    rows.push(
      `| ${connections} | ${fmt(t.rps)} | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(b.rps)} | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} | ${ratio.toFixed(2)} |`,
    );
    console.log(
      `c=${String(connections).padStart(2)}: ts-serving ${fmt(t.rps).padStart(6)} req/s p50 ${fmt(t.p50, 2)} ms p99 ${fmt(t.p99, 2)} ms | bare ${fmt(b.rps).padStart(6)} req/s p50 ${fmt(b.p50, 2)} ms p99 ${fmt(b.p99, 2)} ms | ratio ${ratio.toFixed(2)}  (runs: ${runs["ts-serving"].map((r) => fmt(r.rps)).join(", ")} vs ${runs.bare.map((r) => fmt(r.rps)).join(", ")})`,
    );
  }
  console.log("\nMarkdown:\n");
  console.log("| connections | ts-serving req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms | ratio |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
} finally {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await core?.stop();
  await rm(dir, { recursive: true, force: true });
}
