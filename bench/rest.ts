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
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { startRestServer } from "../src/api/tfs-rest/server.js";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { singleModelServerConfig } from "../src/core/model-config.js";
import { ServerCore } from "../src/core/server-core.js";
import { type DenseLayer, mlpReference } from "../src/export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../src/export/ranking-model.js";
import { closeServers, load, loadBenchArgs, type Measure, meanOfRuns } from "./http-load.js";
import { onnxMlp } from "./onnx-mlp.js";

const { durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS } = loadBenchArgs();

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
    const t = meanOfRuns("ts-serving", runs["ts-serving"], connections);
    const b = meanOfRuns("bare", runs.bare, connections);
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
  await closeServers(servers);
  await core?.stop();
  await rm(dir, { recursive: true, force: true });
}
