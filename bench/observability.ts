// The cost of observability on the REST path: the same load as bench/rest.ts (ranking_model, one
// instance of 32 floats per request) against two ts-serving REST servers in one process, one with
// Prometheus metrics and the access log on (a file, asynchronous pino), one with both off. ABBA order
// per connection count cancels drift. Target (issue 9): "on" within 10% of "off".
// Run: npm run bench:observability -- [--duration 5] [--rounds 2] [--connections 1,16,64]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startRestServer } from "../src/api/tfs-rest/server.js";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { singleModelServerConfig } from "../src/core/model-config.js";
import { ServerCore } from "../src/core/server-core.js";
import { RANKING_MODEL } from "../src/export/ranking-model.js";
import { METRIC_NAMES } from "../src/observability/metrics.js";
import { Observability } from "../src/observability/observability.js";
import { loadServable } from "../src/runtime/servable.js";
import { closeServers, load, loadBenchArgs, type Measure, mean, meanOfRuns } from "./http-load.js";

const { durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS } = loadBenchArgs();
const PROMETHEUS_PATH = "/monitoring/prometheus/metrics";

const dir = await mkdtemp(join(tmpdir(), "bench-observability-"));
const accessLog = join(dir, "access.log");
const observability = new Observability({ prometheusPath: PROMETHEUS_PATH, accessLog });
const cores: ServerCore[] = [];
const servers: Server[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  const config = singleModelServerConfig(RANKING_MODEL.name, basePath);
  // Two cores, so that runtime-latency timing (a wrapper around each signature run) is "on" only.
  const plain = await ServerCore.create({ config });
  cores.push(plain);
  const observed = await ServerCore.create({
    config,
    load: observability.timedLoad((d) => loadServable(d)),
    listeners: { state: (e) => observability.onState(e) },
  });
  cores.push(observed);
  const off = await startRestServer({ backend: plain, port: 0, host: "127.0.0.1", timeoutMs: 30_000 });
  servers.push(off.server);
  const on = await startRestServer({
    backend: observed,
    port: 0,
    host: "127.0.0.1",
    timeoutMs: 30_000,
    observability: observability.rest,
  });
  servers.push(on.server);
  const path = `/v1/models/${RANKING_MODEL.name}:predict`;
  const urls = {
    on: `http://127.0.0.1:${on.port}${path}`,
    off: `http://127.0.0.1:${off.port}${path}`,
  } as const;
  const row = Array.from({ length: RANKING_MODEL.features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
  const body = JSON.stringify({ instances: [row] });

  const cpu = cpus();
  console.log(
    `REST predict, ${RANKING_MODEL.name}, one instance of 32 floats; metrics + access log on vs off`,
  );
  console.log(
    `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}; ${DURATION_S} s per run, ${ROUNDS} runs each (ABBA)\n`,
  );
  for (const url of Object.values(urls)) await load(url, body, 16, 2); // warm-up

  const rows: string[] = [];
  for (const connections of CONNECTIONS) {
    const runs: Record<keyof typeof urls, Measure[]> = { on: [], off: [] };
    // Process CPU µs per request (server and load client together; the client's share is the same for
    // both): less sensitive to other load on the machine than throughput.
    const cpuPerRequest: Record<keyof typeof urls, number[]> = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: (keyof typeof urls)[] = round % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const name of order) {
        const cpu = process.cpuUsage();
        const measure = await load(urls[name], body, connections, DURATION_S);
        const used = process.cpuUsage(cpu);
        runs[name].push(measure);
        cpuPerRequest[name].push((used.user + used.system) / (measure.rps * DURATION_S));
      }
    }
    const a = meanOfRuns("on", runs.on, connections);
    const b = meanOfRuns("off", runs.off, connections);
    const ratio = a.rps / b.rps;
    const cpuOn = mean(cpuPerRequest.on);
    const cpuOff = mean(cpuPerRequest.off);
    rows.push(
      `| ${connections} | ${a.rps.toFixed(0)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${b.rps.toFixed(0)} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${ratio.toFixed(3)} | ${cpuOn.toFixed(1)} / ${cpuOff.toFixed(1)} (${((cpuOn / cpuOff - 1) * 100).toFixed(1)}%) |`,
    );
    console.log(
      `c=${String(connections).padStart(2)}: on ${a.rps.toFixed(0).padStart(6)} req/s p99 ${a.p99.toFixed(2)} ms | off ${b.rps.toFixed(0).padStart(6)} req/s p99 ${b.p99.toFixed(2)} ms | on/off ${ratio.toFixed(3)}${ratio >= 0.9 ? "" : "  (over the 10% budget)"} | CPU µs/request ${cpuOn.toFixed(1)} vs ${cpuOff.toFixed(1)}  (runs: ${runs.on.map((r) => r.rps.toFixed(0)).join(", ")} vs ${runs.off.map((r) => r.rps.toFixed(0)).join(", ")})`,
    );
  }

  // The "on" server really observed: its counter and its access log hold every request.
  const scrape = await (await fetch(`http://127.0.0.1:${on.port}${PROMETHEUS_PATH}`)).text();
  const counted = scrape
    .split("\n")
    .filter((l) => l.startsWith(`${METRIC_NAMES.requestCount}{`))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  await observability.close();
  const logged = (await readFile(accessLog, "utf8")).split("\n").filter((l) => l !== "").length;
  console.log(`\n"on" server: ${counted} requests counted, ${logged} access-log lines`);
  console.log(
    "\n| connections | on req/s | p50 ms | p99 ms | off req/s | p50 ms | p99 ms | on/off | CPU µs/req on / off |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
} finally {
  await closeServers(servers);
  for (const core of cores) await core.stop();
  await observability.close();
  await rm(dir, { recursive: true, force: true });
}
