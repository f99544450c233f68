// Hot swap under load: steady in-process predict traffic (acquire → run → release) while versions
// 1 → 2 → 3 of a model are written into its base path and picked up by polling (version 2 copied
// file by file, version 3 renamed into place), each retiring the one before.
// Prints requests/s, failures, p50/p99 latency during the swaps against the steady state before them
// (same run), the swap timeline, and RSS before/after the swaps.
// Run: npx tsx bench/hotswap.ts [--seconds 22] [--rate 250] [--default-malloc]
// The scenario runs in a child process with MALLOC_MMAP_THRESHOLD_=131072 so that RSS shows what
// the server holds; --default-malloc runs it in this process with glibc's defaults instead (RSS then
// stays at the first swap's two-version peak: memory kept by malloc, not leaked).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type HotSwapReport,
  MIN_HOTSWAP_SECONDS,
  runHotSwap,
  runHotSwapIsolated,
} from "../src/core/hotswap.test-helpers.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "22" },
    rate: { type: "string", default: "250" },
    "default-malloc": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);
if (!(seconds >= MIN_HOTSWAP_SECONDS)) throw new Error(`--seconds must be at least ${MIN_HOTSWAP_SECONDS}`);

const dir = await mkdtemp(join(tmpdir(), "ts-serving-bench-hotswap-"));
let report: HotSwapReport;
try {
  const options = { dir, seconds, rate };
  report = values["default-malloc"] ? await runHotSwap(options) : await runHotSwapIsolated(options);
} finally {
  await rm(dir, { recursive: true, force: true });
}

const ms = (x: number) => `${x.toFixed(2)} ms`;
const s = (x: number) => `${(x / 1000).toFixed(2)} s`;
const at = (version: number, state: string) =>
  report.events.find((e) => e.version === version && e.state === state)?.timeMs ?? Number.NaN;

console.log(`hot swap under load: ${report.requests} requests in ${report.seconds.toFixed(1)} s`);
console.log(
  `  rate               ${(report.requests / report.seconds).toFixed(0)} requests/s (target ${rate})`,
);
console.log(
  `  failed requests    ${report.failures.length}${report.failures.length ? ` (first: ${report.failures[0]})` : ""}`,
);
console.log(
  `  wrong version      ${report.wrongAnswers} answers, ${report.notAvailableAtAcquire} from a version not AVAILABLE, ${report.wentBackwards} from an older version than before`,
);
console.log(
  `  served by          ${Object.entries(report.servedBy)
    .map(([v, n]) => `v${v} ${n}`)
    .join(", ")}`,
);
console.log("  latency            p50        p99        requests");
for (const [name, l] of [
  ["steady (before)", report.steady],
  ["during swaps", report.swapping],
] as const) {
  console.log(`    ${name.padEnd(16)} ${ms(l.p50Ms).padEnd(10)} ${ms(l.p99Ms).padEnd(10)} ${l.count}`);
}
console.log(
  `    ratio swaps/steady p50 ${(report.swapping.p50Ms / report.steady.p50Ms).toFixed(2)}, p99 ${(report.swapping.p99Ms / report.steady.p99Ms).toFixed(2)}`,
);
for (const [i, w] of report.swapWindows.entries()) {
  const version = i + 2;
  console.log(
    `  swap to v${version}          written at ${s(w.fromMs)}, AVAILABLE at ${s(at(version, "AVAILABLE"))} (loading from ${s(at(version, "LOADING"))}), v${version - 1} END at ${s(at(version - 1, "END"))}`,
  );
}
const growth = (report.rssAfterMiB / report.rssBeforeMiB - 1) * 100;
console.log(
  `  RSS                ${report.rssBeforeMiB.toFixed(1)} MiB before the swaps, ${report.rssAfterMiB.toFixed(1)} MiB after (${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%), MALLOC_MMAP_THRESHOLD_=${report.mallocMmapThreshold ?? "glibc default"}`,
);
console.log(`  loads/closes       ${report.loads.length}/${report.closes.length}`);
