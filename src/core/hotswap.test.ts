import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { assertCleanSwap, runHotSwapIsolated } from "./hotswap.test-helpers.js";

describe("hot swap under load", () => {
  const scratchDir = useScratchDir("hotswap");

  it("≥ 200 requests/s for ≥ 20 s while 1 → 2 → 3 roll: no failure, no wrong version, old versions END, RSS back", async () => {
    const report = await runHotSwapIsolated({ dir: scratchDir(), rate: 250, seconds: 22 });
    const rate = report.requests / report.seconds;
    const summary = [
      `${report.requests} requests in ${report.seconds.toFixed(1)} s (${rate.toFixed(0)}/s)`,
      `served by ${Object.entries(report.servedBy)
        .map(([v, n]) => `v${v}: ${n}`)
        .join(", ")}`,
      `latency p50/p99 steady ${report.steady.p50Ms.toFixed(2)}/${report.steady.p99Ms.toFixed(2)} ms, swapping ${report.swapping.p50Ms.toFixed(2)}/${report.swapping.p99Ms.toFixed(2)} ms`,
      `RSS ${report.rssBeforeMiB.toFixed(1)} → ${report.rssAfterMiB.toFixed(1)} MiB`,
    ].join("; ");
    console.log(summary);

    assert.ok(report.seconds >= 20, summary);
    assert.ok(rate >= 200, summary);
    assertCleanSwap(report, summary, "one load per version: safe pickup never loaded a half-copied version");

    const growth = report.rssAfterMiB / report.rssBeforeMiB - 1;
    assert.ok(Math.abs(growth) <= 0.1, `RSS within 10%: ${summary}`);
  });
});
