// The cost of observability on the REST path: the same load as bench/rest.ts (ranking_model, one
// instance of 32 floats per request) against two ts-serving servers, each the built CLI in its own
// process as in production: one with Prometheus metrics (--monitoring_config_file) and the access log
// (--access_log to a file) on, one with both off. ABBA order per connection count cancels drift.
// Besides throughput it prints each server's CPU time per request (from /proc), which a noisy machine
// disturbs much less. Target (issue 9): "on" within 10% of "off".
// Run: npm run bench:observability -- [--duration 5] [--rounds 2] [--connections 1,16,64]
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { RANKING_MODEL } from "../src/export/ranking-model.js";
import { METRIC_NAMES } from "../src/observability/metrics.js";
import { load, loadBenchArgs, mean, meanOfRuns, medianPairedRatio } from "./http-load.js";
import { abbaRounds, type ServerProcess, startTsServing } from "./server-process.js";

const { durationS: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS } = loadBenchArgs();
const PROMETHEUS_PATH = "/monitoring/prometheus/metrics";

const dir = await mkdtemp(join(tmpdir(), "bench-observability-"));
const accessLog = join(dir, "access.log");
const servers: ServerProcess[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  const monitoring = join(dir, "monitoring.config");
  await writeFile(monitoring, `prometheus_config {\n  enable: true\n  path: "${PROMETHEUS_PATH}"\n}\n`);
  const off = await startTsServing(RANKING_MODEL.name, basePath);
  servers.push(off);
  const on = await startTsServing(RANKING_MODEL.name, basePath, [
    `--monitoring_config_file=${monitoring}`,
    `--access_log=${accessLog}`,
  ]);
  servers.push(on);
  const path = `/v1/models/${RANKING_MODEL.name}:predict`;
  const urls = {
    on: `http://127.0.0.1:${on.port}${path}`,
    off: `http://127.0.0.1:${off.port}${path}`,
  } as const;
  const pids = { on: on.child.pid, off: off.child.pid } as const;
  const row = Array.from({ length: RANKING_MODEL.features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
  const body = JSON.stringify({ instances: [row] });

  const cpu = cpus();
  console.log(
    `REST predict, ${RANKING_MODEL.name}, one instance of 32 floats; metrics + access log on vs off`,
  );
  console.log(
    `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}; ${DURATION_S} s per run, ${ROUNDS} runs each (ABBA)\n`,
  );
  for (const url of Object.values(urls)) await load(url, body, 16, 3); // warm-up

  const rows: string[] = [];
  let requestsToOn = 0;
  for (const connections of CONNECTIONS) {
    const [observed, plain] = await abbaRounds(
      { url: urls.on, pid: pids.on },
      { url: urls.off, pid: pids.off },
      body,
      connections,
      ROUNDS,
      DURATION_S,
    );
    const runs = { on: observed.runs, off: plain.runs };
    for (const run of runs.on) requestsToOn += Math.round(run.rps * DURATION_S);
    const a = meanOfRuns("on", runs.on, connections);
    const b = meanOfRuns("off", runs.off, connections);
    const ratio = a.rps / b.rps;
    const paired = medianPairedRatio(
      runs.on.map((r) => r.rps),
      runs.off.map((r) => r.rps),
    );
    const cpuOn = mean(observed.cpuPerRequest);
    const cpuOff = mean(plain.cpuPerRequest);
    rows.push(
      `| ${connections} | ${a.rps.toFixed(0)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${b.rps.toFixed(0)} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${ratio.toFixed(3)} | ${paired.toFixed(3)} | ${cpuOn.toFixed(1)} / ${cpuOff.toFixed(1)} (${((cpuOn / cpuOff - 1) * 100).toFixed(1)}%) |`,
    );
    console.log(
      `c=${String(connections).padStart(2)}: on ${a.rps.toFixed(0).padStart(6)} req/s p99 ${a.p99.toFixed(2)} ms | off ${b.rps.toFixed(0).padStart(6)} req/s p99 ${b.p99.toFixed(2)} ms | on/off ${ratio.toFixed(3)} (median of paired runs ${paired.toFixed(3)})${paired >= 0.9 ? "" : "  (over the 10% budget)"} | server CPU µs/request ${cpuOn.toFixed(1)} vs ${cpuOff.toFixed(1)}  (runs: ${runs.on.map((r) => r.rps.toFixed(0)).join(", ")} vs ${runs.off.map((r) => r.rps.toFixed(0)).join(", ")})`,
    );
  }

  // The "on" server really observed: its counter and its access log hold the requests (the warm-up's
  // too, so at least as many as measured).
  const scrape = await (await fetch(`http://127.0.0.1:${on.port}${PROMETHEUS_PATH}`)).text();
  const counted = scrape
    .split("\n")
    .filter((l) => l.startsWith(`${METRIC_NAMES.requestCount}{`))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  await on.stop(); // flushes the access log
  servers.splice(servers.indexOf(on), 1);
  const logged = (await readFile(accessLog, "utf8")).split("\n").filter((l) => l !== "").length;
  console.log(
    `\n"on" server: ${counted} requests counted, ${logged} access-log lines (≥ ${requestsToOn} measured)`,
  );
  if (counted < requestsToOn || logged < counted) throw new Error("the observed server missed requests");
  console.log(
    "\n| connections | on req/s | p50 ms | p99 ms | off req/s | p50 ms | p99 ms | on/off | paired on/off | server CPU µs/req on / off |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
} finally {
  for (const server of servers) await server.stop();
  await rm(dir, { recursive: true, force: true });
}
