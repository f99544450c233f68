// The cost of observability on the REST path: the same load as bench/rest.ts (ranking_model, one
// instance of 32 floats per request) against ts-serving servers, each the built CLI in its own process
// as in production: four with Prometheus metrics (--monitoring_config_file) and the access log
// (--access_log to a file) on, four with both off, taken in turn. ABBA order per connection count
// cancels drift.
// Besides throughput it prints each server's CPU time per request (from /proc), which a noisy machine
// disturbs much less. Target (issue 9): "on" within 10% of "off".
// Run: npm run bench:observability -- [--duration 2] [--rounds 8] [--connections 1,16,64]
// BENCH_AA=1 starts the "on" side with observability off too: the method's own noise floor.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDefaultModel } from "../src/cli/default-model.js";
import { RANKING_MODEL } from "../src/export/ranking-model.js";
import { METRIC_NAMES } from "../src/observability/metrics.js";
import { load, loadBenchArgs, mean, meanOfRuns, medianPairedRatio } from "./http-load.js";
import {
  abbaRounds,
  type ContenderRuns,
  type ServerProcess,
  separateCpus,
  startTsServing,
} from "./server-process.js";

// Eight rounds: two per server process of each side.
const {
  durationS: DURATION_S,
  rounds: ROUNDS,
  connections: CONNECTIONS,
} = loadBenchArgs({
  durationS: 2,
  rounds: 8,
});
const PROMETHEUS_PATH = "/monitoring/prometheus/metrics";

/**
 * Servers per side, taken in turn: identical server processes differ by up to ~12% in CPU per request
 * for their whole life (two "off" servers in one run: 52 and 59 µs), more than the cost measured.
 */
const PROCESSES = 4;
/** A/A run: both sides off. */
const AA = process.env.BENCH_AA === "1";

/** First thing: servers started later get CPUs of their own; the load generator's worker inherits CPU 0. */
const pinning = separateCpus();

const dir = await mkdtemp(join(tmpdir(), "bench-observability-"));
const servers: ServerProcess[] = [];
try {
  const { basePath } = await ensureDefaultModel(dir);
  const monitoring = join(dir, "monitoring.config");
  await writeFile(monitoring, `prometheus_config {\n  enable: true\n  path: "${PROMETHEUS_PATH}"\n}\n`);
  const accessLogs = Array.from({ length: PROCESSES }, (_, i) => join(dir, `access-${i}.log`));
  const offServers: ServerProcess[] = [];
  const onServers: ServerProcess[] = [];
  // Started in alternating order (off first, then on first, ...): nothing then depends on start order.
  for (const [i, accessLog] of accessLogs.entries()) {
    for (const observed of i % 2 === 0 ? [false, true] : [true, false]) {
      const flags =
        observed && !AA ? [`--monitoring_config_file=${monitoring}`, `--access_log=${accessLog}`] : [];
      const server = await startTsServing(RANKING_MODEL.name, basePath, flags);
      servers.push(server);
      (observed ? onServers : offServers).push(server);
    }
  }
  const path = `/v1/models/${RANKING_MODEL.name}:predict`;
  const contender = (server: ServerProcess) => ({
    url: `http://127.0.0.1:${server.port}${path}`,
    pid: server.child.pid,
  });
  const sides = { on: onServers.map(contender), off: offServers.map(contender) };
  const row = Array.from({ length: RANKING_MODEL.features }, (_, i) => Math.round(Math.sin(i) * 1000) / 1000);
  const body = JSON.stringify({ instances: [row] });

  const cpu = cpus();
  console.log(
    `REST predict, ${RANKING_MODEL.name}, one instance of 32 floats; metrics + access log on vs off`,
  );
  console.log(
    `${cpu.length} × ${cpu[0]?.model.trim() ?? "?"}, Node ${process.version}; ${DURATION_S} s per run, ${ROUNDS} runs each (ABBA), ${PROCESSES} server processes a side taken in turn; ${pinning ?? "no CPU pinning"}\n`,
  );
  for (const { url } of [...sides.on, ...sides.off]) await load(url, body, 16, 2); // warm-up

  const rows: string[] = [];
  let requestsToOn = 0;
  for (const connections of CONNECTIONS) {
    const [observed, plain] = await abbaRounds(sides.on, sides.off, body, connections, ROUNDS, DURATION_S);
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
    const perProcess = ({ cpuPerRequest, server }: ContenderRuns) =>
      Array.from({ length: PROCESSES }, (_, p) =>
        mean(cpuPerRequest.filter((_, run) => server[run] === p)).toFixed(0),
      ).join(" / ");
    rows.push(
      `| ${connections} | ${a.rps.toFixed(0)} | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${b.rps.toFixed(0)} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${ratio.toFixed(3)} | ${paired.toFixed(3)} | ${cpuOn.toFixed(1)} / ${cpuOff.toFixed(1)} (${((cpuOn / cpuOff - 1) * 100).toFixed(1)}%) |`,
    );
    console.log(
      `c=${String(connections).padStart(2)}: on ${a.rps.toFixed(0).padStart(6)} req/s p99 ${a.p99.toFixed(2)} ms | off ${b.rps.toFixed(0).padStart(6)} req/s p99 ${b.p99.toFixed(2)} ms | on/off ${ratio.toFixed(3)} (median of paired runs ${paired.toFixed(3)})${ratio >= 0.9 ? "" : "  (over the 10% budget)"} | server CPU µs/request ${cpuOn.toFixed(1)} vs ${cpuOff.toFixed(1)}  (runs: ${runs.on.map((r) => r.rps.toFixed(0)).join(", ")} vs ${runs.off.map((r) => r.rps.toFixed(0)).join(", ")}; CPU by process: on ${perProcess(observed)}, off ${perProcess(plain)})`,
    );
  }

  if (AA) console.log('\nA/A run: the "on" servers ran with observability off too.');
  else {
    // The "on" servers really observed: their counters and access logs hold the requests (the warm-up's
    // too, so at least as many as measured).
    let counted = 0;
    let logged = 0;
    for (const [i, on] of onServers.entries()) {
      const scrape = await (await fetch(`http://127.0.0.1:${on.port}${PROMETHEUS_PATH}`)).text();
      counted += scrape
        .split("\n")
        .filter((l) => l.startsWith(`${METRIC_NAMES.requestCount}{`))
        .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
      await on.stop(); // flushes the access log
      servers.splice(servers.indexOf(on), 1);
      logged += (await readFile(accessLogs[i] ?? "", "utf8")).split("\n").filter((l) => l !== "").length;
    }
    console.log(
      `\n"on" servers: ${counted} requests counted, ${logged} access-log lines (≥ ${requestsToOn} measured)`,
    );
    if (counted < requestsToOn || logged < counted) throw new Error("the observed server missed requests");
  }
  console.log(
    "\n| connections | on req/s | p50 ms | p99 ms | off req/s | p50 ms | p99 ms | on/off | paired on/off | server CPU µs/req on / off |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const line of rows) console.log(line);
} finally {
  for (const server of servers) await server.stop();
  await rm(dir, { recursive: true, force: true });
}
