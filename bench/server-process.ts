// Servers under benchmark, each in its own process as they run in production: ts-serving is the built
// CLI (`node dist/cli/main.js`, what `npm start` runs) with TF Serving's flags; the baseline is
// bench/bare-rest-server.mjs. Also their CPU time, read from /proc, for CPU per request.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { DenseLayer } from "../src/export/mlp.js";
import { load, type Measure } from "./http-load.js";
import { onnxMlp } from "./onnx-mlp.js";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist/cli/main.js");

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** A port free right now (the server binds it a moment later; fine on a bench machine). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The CPUs servers started from now on run on (taskset's list), once `separateCpus()` pinned this process. */
let serverCpus: string | undefined;

/**
 * Pins this process (the load generator, and the worker threads it starts later) to CPU 0, and the
 * servers started afterwards to the other CPUs (Linux, taskset). Unpinned, on a small machine the
 * scheduler keeps moving servers and load generator between the same few cores, and a server's CPU
 * time per request then varies with how often it was moved rather than with its code. Returns what
 * it did, or undefined where it cannot (one CPU, no taskset) or BENCH_PIN=0 says not to.
 */
export function separateCpus(): string | undefined {
  const count = availableParallelism();
  if (process.env.BENCH_PIN === "0" || process.platform !== "linux" || count < 2) return undefined;
  try {
    execFileSync("taskset", ["-a", "-p", "-c", "0", String(process.pid)], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  serverCpus = count === 2 ? "1" : `1-${count - 1}`;
  return `load generator on CPU 0, servers on CPU ${serverCpus}`;
}

/** Spawns `args` and resolves once a stdout/stderr line matches `ready` (its first group: the port). */
function spawnUntil(name: string, args: string[], ready: RegExp, port?: number): Promise<ServerProcess> {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof") goes to the servers' node, for profiling a bench's servers.
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
  const command = [process.execPath, ...nodeFlags, ...args];
  if (serverCpus !== undefined) command.unshift("taskset", "-c", serverCpus);
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const onLine = (line: string) => {
      if (output.length < 50) output.push(line);
      if (process.env.BENCH_SERVER_OUTPUT) console.log(`[${name}] ${line}`);
      const match = ready.exec(line);
      if (!match) return;
      const stop = () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
        });
      resolve({ name, child, port: port ?? Number(match[1]), stop });
    };
    // Both streams are read to the end: a full pipe would block the server.
    if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);
    child.once("exit", (code) =>
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output.join("\n")}`)),
    );
  });
}

/**
 * ts-serving's CLI serving `modelBasePath` as `modelName` on a free REST port (gRPC on another), with
 * `flags` added (e.g. `--access_log=...`). Needs `npm run build` first.
 */
export async function startTsServing(
  modelName: string,
  modelBasePath: string,
  flags: readonly string[] = [],
): Promise<ServerProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const [rest, grpc] = [await freePort(), await freePort()];
  const args = [
    CLI,
    `--port=${grpc}`,
    `--rest_api_port=${rest}`,
    `--model_name=${modelName}`,
    `--model_base_path=${modelBasePath}`,
    ...flags,
  ];
  return spawnUntil("ts-serving", args, /Exporting HTTP\/REST API at/, rest);
}

/** bench/bare-rest-server.mjs running these layers as a raw ONNX model (written to `dir`). */
export async function startBareServer(layers: readonly DenseLayer[], dir: string): Promise<ServerProcess> {
  const model = join(dir, "bare-mlp.onnx");
  await writeFile(model, onnxMlp(layers));
  const width = layers[0]?.kernel.shape[0] ?? 0;
  const script = join(ROOT, "bench/bare-rest-server.mjs");
  return spawnUntil("bare", [script, model, String(width)], /^listening (\d+)$/);
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc; undefined where
 * there is no /proc.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** One server under comparison: where to send requests, and its process (for CPU time). */
export interface Contender {
  readonly url: string;
  readonly pid: number | undefined;
}

/** One side's runs at one concurrency, and its server CPU µs per request in each (where /proc exists). */
export interface ContenderRuns {
  readonly runs: Measure[];
  readonly cpuPerRequest: number[];
  /** Which of the side's servers each run went to. */
  readonly server: number[];
}

/**
 * `rounds` ABBA rounds of `durationS`-second runs of two sides at `connections`: A then B, then B then
 * A, so drift on the machine hits both alike. Run i of each side ran back to back. A side may be
 * several servers of the same kind, taken in turn: identical server processes differ by up to ~12% in
 * CPU per request for their whole life, so one process a side carries that bias into the ratio.
 *
 * @example
 * const [ours, bare] = await abbaRounds([ts], [baseline], body, 64, 3, 4);
 */
export async function abbaRounds(
  a: readonly Contender[],
  b: readonly Contender[],
  body: string,
  connections: number,
  rounds: number,
  durationS: number,
): Promise<[ContenderRuns, ContenderRuns]> {
  const results: [ContenderRuns, ContenderRuns] = [
    { runs: [], cpuPerRequest: [], server: [] },
    { runs: [], cpuPerRequest: [], server: [] },
  ];
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? [0, 1] : [1, 0]) {
      const contenders = side === 0 ? a : b;
      // Side B's turn advances one extra step per cycle, so each A server meets each B server.
      const index = (round + (side === 0 ? 0 : Math.floor(round / contenders.length))) % contenders.length;
      const server = contenders[index];
      if (server === undefined) throw new Error("abbaRounds: a side has no server");
      const before = cpuSeconds(server.pid);
      const measure = await load(server.url, body, connections, durationS);
      const after = cpuSeconds(server.pid);
      results[side]?.runs.push(measure);
      results[side]?.server.push(index);
      if (before !== undefined && after !== undefined)
        results[side]?.cpuPerRequest.push(((after - before) * 1e6) / (measure.rps * durationS));
    }
  }
  return results;
}
