// REST serving overhead: ts-serving as it runs in production (the built CLI, `node dist/cli/main.js`,
// serving the embedded ranking_model with TF Serving's flags) against a bare node:http server that
// JSON.parses the same request and runs the same MLP built directly as an ONNX model with
// onnxruntime-node (bench/bare-rest-server.mjs). Each server is its own process; the load comes from a
// keep-alive client in a worker thread of this process, at 1, 16 and 64 connections, in ABBA order per
// connection count to cancel drift. Besides throughput and latency it prints each server's CPU time
// per request (from /proc), which a noisy machine disturbs much less than throughput.
// Run: npm run bench:rest -- [--duration 5] [--rounds 2] [--connections 1,16,64]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { mlpReference } from "../src/export/mlp.js";
import { RANKING_MODEL, rankingModel } from "../src/export/ranking-model.js";
import { load, loadBenchArgs, mean, meanOfRuns, medianPairedRatio } from "./http-load.js";
import { abbaRounds, type ServerProcess, startBareServer, startTsServing } from "./server-process.js";

const { durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS } = loadBenchArgs();

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
const servers: ServerProcess[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  const ours = await startTsServing(RANKING_MODEL.name, basePath, ["--rest_api_timeout_in_ms=30000"]);
  servers.push(ours);
  const { layers } = rankingModel();
  const bare = await startBareServer(layers, dir);
  servers.push(bare);

  const row = Float32Array.from(
    { length: RANKING_MODEL.features },
    (_, i) => Math.round(Math.sin(i) * 1000) / 1000,
  );
  const body = JSON.stringify({ instances: [Array.from(row)] });
  const urls = {
    "ts-serving": `http://127.0.0.1:${ours.port}/v1/models/${RANKING_MODEL.name}:predict`,
    bare: `http://127.0.0.1:${bare.port}/predict`,
  } as const;
  const pids = { "ts-serving": ours.child.pid, bare: bare.child.pid } as const;

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
  for (const url of Object.values(urls)) await load(url, body, 16, 3);

  const rows: string[] = [];
  for (const connections of CONNECTIONS) {
    const [ours, baseline] = await abbaRounds(
      [{ url: urls["ts-serving"], pid: pids["ts-serving"] }],
      [{ url: urls.bare, pid: pids.bare }],
      body,
      connections,
      ROUNDS,
      DURATION_S,
    );
    const runs = { "ts-serving": ours.runs, bare: baseline.runs };
    const t = meanOfRuns("ts-serving", runs["ts-serving"], connections);
    const b = meanOfRuns("bare", runs.bare, connections);
    const ratio = t.rps / b.rps;
    const paired = medianPairedRatio(
      runs["ts-serving"].map((r) => r.rps),
      runs.bare.map((r) => r.rps),
    );
    const [cpuOurs, cpuBare] = [mean(ours.cpuPerRequest), mean(baseline.cpuPerRequest)];
    rows.push(
      `| ${connections} | ${fmt(t.rps)} | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(b.rps)} | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} | ${ratio.toFixed(2)} | ${paired.toFixed(2)} | ${fmt(cpuOurs)} / ${fmt(cpuBare)} |`,
    );
    console.log(
      `c=${String(connections).padStart(2)}: ts-serving ${fmt(t.rps).padStart(6)} req/s p50 ${fmt(t.p50, 2)} ms p99 ${fmt(t.p99, 2)} ms | bare ${fmt(b.rps).padStart(6)} req/s p50 ${fmt(b.p50, 2)} ms p99 ${fmt(b.p99, 2)} ms | ratio ${ratio.toFixed(2)} (median of paired runs ${paired.toFixed(2)}) | server CPU µs/request ${fmt(cpuOurs)} vs ${fmt(cpuBare)}  (runs: ${runs["ts-serving"].map((r) => fmt(r.rps)).join(", ")} vs ${runs.bare.map((r) => fmt(r.rps)).join(", ")})`,
    );
  }
  console.log("\nMarkdown:\n");
  console.log(
    "| connections | ts-serving req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms | ratio | paired ratio | server CPU µs/req (ts-serving / bare) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
} finally {
  for (const server of servers) await server.stop();
  await rm(dir, { recursive: true, force: true });
}
