// The hot-swap scenario shared by src/core/hotswap.test.ts and bench/hotswap.ts: steady predict
// traffic (acquire → run → release, in process) while versions 1 → 2 → 3 of a model are written
// into its base path and picked up by polling, each retiring the one before.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadServable, type Servable } from "../runtime/servable.js";
import { askScale, sleep, writeScaleModel } from "./core.test-helpers.js";
import type { LoadFn } from "./load-retry.js";
import type { StateChangeEvent, VersionState } from "./manager.js";
import { ServerCore, type ServerCoreOptions } from "./server-core.js";

/**
 * Where the versions go, when not into a local base path (e.g. S3, see test/s3): in-process runs
 * only (runHotSwap), since functions do not cross to runHotSwapIsolated's child process.
 */
export interface HotSwapRepository {
  /** The base path the core polls. */
  readonly basePath: string;
  /** Makes version `version`, written complete at `dir`, appear under the base path. */
  publish(version: number, dir: string): Promise<void>;
  /** Deletes a retired version from the base path. */
  remove(version: number): Promise<void>;
  /** Extra core options (e.g. `remote` for s3://). */
  readonly coreOptions?: Pick<ServerCoreOptions, "remote">;
}

export interface HotSwapOptions {
  /** Scratch directory (created; the model base path and a staging area go inside). */
  readonly dir: string;
  /** Requests issued per second (default 250). */
  readonly rate?: number;
  /** Seconds of traffic (default 22). */
  readonly seconds?: number;
  /** Width of x (default 64) and ballast columns (default 32 768: 32 MiB of weights per version). */
  readonly width?: number;
  readonly ballast?: number;
  /** Polling period in seconds (default 0.25). */
  readonly pollSeconds?: number;
  /** Publish through this repository instead of writing into `<dir>/models/scale` (in-process only). */
  readonly repository?: HotSwapRepository;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** A state change as the report keeps it (JSON-safe). */
export interface SwapEvent {
  readonly version: number;
  readonly state: VersionState;
  /** Since traffic started (negative: during startup). */
  readonly timeMs: number;
}

/** What the scenario measured (JSON-safe, so a child process can send it back). */
export interface HotSwapReport {
  readonly requests: number;
  readonly seconds: number;
  readonly failures: readonly string[];
  /** Answers whose y/x was not the version of the handle that computed them. */
  readonly wrongAnswers: number;
  /** Requests served by a version that was not AVAILABLE when acquired (per the state events). */
  readonly notAvailableAtAcquire: number;
  /** Requests for the latest version answered by a lower version than an earlier request got. */
  readonly wentBackwards: number;
  /** Version → requests it answered. */
  readonly servedBy: Readonly<Record<string, number>>;
  readonly steady: LatencySummary;
  readonly swapping: LatencySummary;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly events: readonly SwapEvent[];
  /** When each swap began (the new version's first file written) and ended (old version END + 0.5 s), ms since traffic started. */
  readonly swapWindows: readonly { readonly fromMs: number; readonly toMs: number }[];
  /** glibc's MALLOC_MMAP_THRESHOLD_ the run had, if any (see runHotSwapIsolated). */
  readonly mallocMmapThreshold: string | null;
  /** Directory of every servable loaded / closed. */
  readonly loads: readonly string[];
  readonly closes: readonly string[];
}

/**
 * The checks every hot-swap run must pass, whatever the repository: no failed or wrong answer, no
 * request on a version that was not AVAILABLE or older than one already seen, versions 1, 2 and 3
 * each served and each through its whole lifecycle, each retired only after its successor was
 * AVAILABLE, one load per version (`loadsWhy` says why that matters here) and every load closed.
 *
 * @example
 * assertCleanSwap(await runHotSwap(options), summary, "one load per version");
 */
export function assertCleanSwap(report: HotSwapReport, summary: string, loadsWhy: string): void {
  assert.deepEqual(report.failures, [], "zero failed requests");
  assert.equal(report.wrongAnswers, 0, "every answer computed by the version that was acquired");
  assert.equal(report.notAvailableAtAcquire, 0, "every request served by a version AVAILABLE at that moment");
  assert.equal(report.wentBackwards, 0, "once a newer version answered, older ones never did again");
  for (const v of [1, 2, 3])
    assert.ok((report.servedBy[v] ?? 0) > 0, `version ${v} served traffic: ${summary}`);
  const states = (v: number) => report.events.filter((e) => e.version === v).map((e) => e.state);
  const life = ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"];
  for (const v of [1, 2, 3]) assert.deepEqual(states(v), life, `version ${v}'s lifecycle`);
  const at = (v: number, state: string) =>
    report.events.findIndex((e) => e.version === v && e.state === state);
  assert.ok(at(2, "AVAILABLE") < at(1, "UNLOADING"), "1 retired only after 2 was AVAILABLE");
  assert.ok(at(3, "AVAILABLE") < at(2, "UNLOADING"), "2 retired only after 3 was AVAILABLE");
  assert.equal(report.loads.length, 3, loadsWhy);
  assert.deepEqual([...report.closes].sort(), [...report.loads].sort(), "every loaded version closed once");
}

/** The steady-state baseline: requests started in [1.5 s, 4.8 s), after warm-up, before the RSS reading. */
const STEADY_START_S = 1.5;
const STEADY_END_S = 5;

/** Shortest run: the swaps happen at 5 s and 11 s, clean-up at 16 s. */
export const MIN_HOTSWAP_SECONDS = 18;

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

/** Resident set size after a full GC, in MiB. */
export function settledRssMiB(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().rss / 2 ** 20;
}

/** Runs the scenario; see HotSwapReport. The core is stopped at the end (so every version is closed). */
export async function runHotSwap(options: HotSwapOptions): Promise<HotSwapReport> {
  const rate = options.rate ?? 250;
  const seconds = Math.max(MIN_HOTSWAP_SECONDS, options.seconds ?? 22);
  const width = options.width ?? 64;
  const ballast = options.ballast ?? 32_768;
  const repository = options.repository;
  const base = repository?.basePath ?? join(options.dir, "models", "scale");
  const staging = join(options.dir, "staging");
  const first = repository ? join(staging, "1") : join(base, "1");
  await writeScaleModel(first, 1, { width, ballast });
  for (const v of [2, 3]) await writeScaleModel(join(staging, String(v)), v, { width, ballast });
  await repository?.publish(1, first);
  // Prime the allocator with one load/close of a version-sized servable while another is loaded, as
  // a swap does: the RSS baseline then already includes what malloc keeps after a swap's peak, so the
  // before/after comparison measures versions leaked, not allocator high-water marks.
  const primer = await loadServable(first);
  const second = await loadServable(join(staging, "2"));
  await primer.close();
  await second.close();

  const loads: string[] = [];
  const closes: string[] = [];
  const load: LoadFn = async (dir) => {
    loads.push(dir);
    const servable = await loadServable(dir);
    return {
      ...servable,
      close: async () => {
        closes.push(dir);
        await servable.close();
      },
    } satisfies Servable;
  };
  const events: StateChangeEvent[] = [];
  const available = new Set<bigint>();
  const core = await ServerCore.create({
    models: [
      {
        name: "scale",
        basePath: base,
        platform: "tensorflow",
        versionPolicy: { kind: "latest", numVersions: 1 },
        labels: new Map(),
      },
    ],
    ...repository?.coreOptions,
    fileSystemPollWaitSeconds: options.pollSeconds ?? 0.25,
    stabilityPolls: 1,
    maxNumLoadRetries: 0,
    load,
    listeners: {
      state: (event) => {
        events.push(event);
        if (event.state === "AVAILABLE") available.add(event.version);
        else available.delete(event.version);
      },
    },
  });

  const failures: string[] = [];
  const servedBy: Record<string, number> = {};
  const samples: { start: number; ms: number }[] = [];
  let wrongAnswers = 0;
  let notAvailableAtAcquire = 0;
  let wentBackwards = 0;
  let highestSeen = 0n;
  const inFlight = new Set<Promise<void>>();

  const request = async (): Promise<void> => {
    const start = performance.now();
    try {
      const handle = core.acquire("scale");
      if (!available.has(handle.version)) notAvailableAtAcquire++;
      if (handle.version < highestSeen) wentBackwards++;
      if (handle.version > highestSeen) highestSeen = handle.version;
      try {
        const scale = await askScale(handle.servable, width);
        if (scale !== Number(handle.version)) wrongAnswers++;
        servedBy[String(handle.version)] = (servedBy[String(handle.version)] ?? 0) + 1;
      } finally {
        handle.release();
      }
      samples.push({ start, ms: performance.now() - start });
    } catch (error: unknown) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  };

  // Traffic: every 5 ms, issue as many requests as the rate calls for so far (open loop).
  const t0 = performance.now();
  let issued = 0;
  let trafficOn = true;
  const traffic = (async () => {
    while (trafficOn) {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (; issued < due; issued++) {
        const p = request();
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await sleep(5);
    }
  })();

  const at = (s: number) => sleep(Math.max(0, t0 + s * 1000 - performance.now()));
  const swaps: { from: number; to: number }[] = [];
  const endOf = async (version: bigint): Promise<number> => {
    while (!events.some((e) => e.version === version && e.state === "END")) await sleep(10);
    return events.find((e) => e.version === version && e.state === "END")!.timeMs;
  };

  // Warm-up, the steady-state window, then RSS (its full GCs stall traffic: after the window).
  await at(STEADY_END_S - 0.2);
  const rssBeforeMiB = settledRssMiB();
  // Version 2 arrives the slow way: copied file by file, saved_model.pb first, over ~1 s.
  await at(STEADY_END_S);
  let swapStart = performance.now();
  if (repository) await repository.publish(2, join(staging, "2"));
  else await copySlowly(join(staging, "2"), join(base, "2"), 250);
  swaps.push({ from: swapStart, to: (await endOf(1n)) + 500 });
  // Version 3 arrives the safe way: assembled under a hidden name and renamed into place.
  await at(11);
  swapStart = performance.now();
  if (repository) await repository.publish(3, join(staging, "3"));
  else await writeScaleModel(join(base, "3"), 3, { width, ballast });
  swaps.push({ from: swapStart, to: (await endOf(2n)) + 500 });
  // Clean-up of retired versions: nothing to unload any more.
  await at(16);
  for (const v of [1, 2]) {
    if (repository) await repository.remove(v);
    else await rm(join(base, String(v)), { recursive: true });
  }
  await at(seconds);
  trafficOn = false;
  await traffic;
  await Promise.all([...inFlight]);
  const elapsed = (performance.now() - t0) / 1000;
  // Measured once the traffic has drained, after a pause for the allocator to return freed pages.
  await sleep(500);
  const rssAfterMiB = settledRssMiB();
  await core.stop();

  const inSwap = (t: number) => swaps.some((s) => t >= s.from && t <= s.to);
  const steady = samples
    .filter((s) => s.start - t0 >= STEADY_START_S * 1000 && s.start - t0 < (STEADY_END_S - 0.2) * 1000)
    .map((s) => s.ms);
  const swapping = samples.filter((s) => inSwap(s.start)).map((s) => s.ms);
  return {
    requests: issued,
    seconds: elapsed,
    failures,
    wrongAnswers,
    notAvailableAtAcquire,
    wentBackwards,
    servedBy,
    steady: summarize(steady),
    swapping: summarize(swapping),
    rssBeforeMiB,
    rssAfterMiB,
    events: events.map((e) => ({ version: Number(e.version), state: e.state, timeMs: e.timeMs - t0 })),
    swapWindows: swaps.map((w) => ({ fromMs: w.from - t0, toMs: w.to - t0 })),
    mallocMmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null,
    loads,
    closes,
  };
}

/** Copies a version directory file by file (saved_model.pb first), pausing between files. */
async function copySlowly(from: string, to: string, pauseMs: number): Promise<void> {
  const files = ["saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"];
  for (const file of files) {
    const bytes = await readFile(join(from, file));
    await mkdir(join(to, file, ".."), { recursive: true });
    const half = Math.floor(bytes.length / 2);
    await writeFile(join(to, file), bytes.subarray(0, half));
    await sleep(pauseMs / 2);
    await writeFile(join(to, file), bytes);
    await sleep(pauseMs / 2);
  }
}

function summarize(ms: number[]): LatencySummary {
  const sorted = [...ms].sort((a, b) => a - b);
  const pick = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { count: sorted.length, p50Ms: pick(0.5), p99Ms: pick(0.99) };
}

const REPORT_PREFIX = "HOTSWAP_REPORT ";

/**
 * Runs the scenario in a child process whose glibc returns freed large blocks to the system
 * (MALLOC_MMAP_THRESHOLD_ fixed at 128 KiB). With glibc's default, the mmap threshold rises after
 * the first large free, so the memory of a retired version stays in malloc's heap, reused by later
 * versions but never returned: RSS stays at the two-versions peak of the first swap (measured:
 * +25-40% after one swap, then flat over 15 more swaps, and the same with plain load/close without
 * the core). Fixing the threshold makes RSS measure what the server still holds.
 */
export function runHotSwapIsolated(options: HotSwapOptions): Promise<HotSwapReport> {
  const env = { ...process.env, MALLOC_MMAP_THRESHOLD_: "131072" };
  const args = [
    "--import",
    import.meta.resolve("tsx"),
    "--expose-gc",
    fileURLToPath(import.meta.url),
    JSON.stringify(options),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(REPORT_PREFIX));
      if (code !== 0 || !line) reject(new Error(`hot-swap child exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(REPORT_PREFIX.length)) as HotSwapReport);
    });
  });
}

// Run as a script (by runHotSwapIsolated): options as JSON in argv[2], the report on stdout.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await runHotSwap(JSON.parse(process.argv[2] ?? "{}") as HotSwapOptions);
  process.stdout.write(`${REPORT_PREFIX}${JSON.stringify(report)}\n`);
}
