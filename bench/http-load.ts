// A small HTTP/1.1 load generator for the benches: keep-alive sockets in a worker thread (so the
// load never shares the server's event loop), each sending the next request as soon as the previous
// response is complete. Shared by bench/rest.ts, bench/batching.ts and bench/observability.ts.
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";

export interface Measure {
  rps: number;
  p50: number;
  p99: number;
  /** Non-200 answers and socket errors. */
  failed: number;
}

/**
 * Worker-side JavaScript (a source fragment to splice into a worker's code): `complete(buf)`, the
 * length of the first complete HTTP/1.1 response in `buf` (Content-Length or chunked), or -1.
 */
export const RESPONSE_LENGTH_JS = `
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
`;

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
${RESPONSE_LENGTH_JS}
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

/** What a load worker posts when done: counts, wall time and every request's latency in ms. */
interface WorkerResult {
  ok: number;
  bad: number;
  elapsedMs: number;
  latencies: Float64Array;
}

/**
 * Runs a load worker (`source`, evaluated as CommonJS, given `workerData`) and summarises what it
 * posts: throughput over its wall time, p50/p99 latency, failures.
 *
 * @example
 * const m = await measureInWorker(CLIENT, { port, durationMs: 5000 });
 */
export function measureInWorker(source: string, workerData: Record<string, unknown>): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true, workerData });
    worker.once("error", reject);
    worker.once("message", (r: WorkerResult) => {
      void worker.terminate();
      const sorted = r.latencies.sort();
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      resolve({ rps: (r.ok * 1000) / r.elapsedMs, p50: at(0.5), p99: at(0.99), failed: r.bad });
    });
  });
}

/**
 * `connections` keep-alive clients POSTing `body` to `url` for `seconds`; throughput and latency.
 *
 * @example
 * const { rps, p99 } = await load("http://127.0.0.1:8501/v1/models/m:predict", body, 16, 5);
 */
export function load(url: string, body: string, connections: number, seconds: number): Promise<Measure> {
  const { port, pathname } = new URL(url);
  return measureInWorker(CLIENT, {
    port: Number(port),
    path: pathname,
    body,
    connections,
    durationMs: seconds * 1000,
  });
}

/**
 * The command line shared by the REST load benches: `--duration` seconds per run, `--rounds` (ABBA)
 * and `--connections` (a comma-separated list).
 *
 * @example
 * const { durationS, rounds, connections } = loadBenchArgs(); // --duration 5 --rounds 2 --connections 1,16,64
 */
export function loadBenchArgs(defaults: { durationS?: number; rounds?: number } = {}): {
  durationS: number;
  rounds: number;
  connections: number[];
} {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: String(defaults.durationS ?? 5) },
      rounds: { type: "string", default: String(defaults.rounds ?? 2) },
      connections: { type: "string", default: "1,16,64" },
    },
  });
  return {
    durationS: Number(values.duration),
    rounds: Number(values.rounds),
    connections: (values.connections ?? "").split(",").map(Number),
  };
}

/** The arithmetic mean (of runs' figures). */
export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * The median over rounds of a / b, where a[i] and b[i] ran back to back (one ABBA round): a noisy
 * neighbour slows both runs of a round about alike, so this moves less than the ratio of means.
 *
 * @example
 * medianPairedRatio([9, 10, 4], [10, 10, 8]); // 0.9
 */
export function medianPairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios = a.map((x, i) => x / (b[i] ?? Number.NaN)).sort((x, y) => x - y);
  const mid = ratios.length / 2;
  return ratios.length % 2 === 1
    ? (ratios[Math.floor(mid)] ?? Number.NaN)
    : ((ratios[mid - 1] ?? Number.NaN) + (ratios[mid] ?? Number.NaN)) / 2;
}

/**
 * The mean throughput and latencies of one server's runs at `connections`; any failed request fails
 * the bench.
 *
 * @example
 * const { rps, p99 } = meanOfRuns("ts-serving", runs, 16);
 */
export function meanOfRuns(name: string, runs: readonly Measure[], connections: number): Measure {
  const failed = runs.reduce((n, r) => n + r.failed, 0);
  if (failed > 0) throw new Error(`${name}: ${failed} failed requests at ${connections} connections`);
  return {
    rps: mean(runs.map((r) => r.rps)),
    p50: mean(runs.map((r) => r.p50)),
    p99: mean(runs.map((r) => r.p99)),
    failed,
  };
}
