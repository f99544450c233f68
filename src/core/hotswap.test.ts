import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { runHotSwapIsolated } from "./hotswap.test-helpers.js";

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
    assert.deepEqual(report.failures, [], "zero failed requests");
    assert.equal(report.wrongAnswers, 0, "every answer computed by the version that was acquired");
    assert.equal(
      report.notAvailableAtAcquire,
      0,
      "every request served by a version AVAILABLE at that moment",
    );
    assert.equal(report.wentBackwards, 0, "once a newer version answered, older ones never did again");
    for (const v of [1, 2, 3]) assert.ok((report.servedBy[v] ?? 0) > 0, `version ${v} served traffic`);

    const states = (v: number) => report.events.filter((e) => e.version === v).map((e) => e.state);
    const life = ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"];
    assert.deepEqual(states(1), life);
    assert.deepEqual(states(2), life);
    assert.deepEqual(states(3), life, "3 served until stop()");
    const at = (v: number, state: string) =>
      report.events.findIndex((e) => e.version === v && e.state === state);
    assert.ok(at(2, "AVAILABLE") < at(1, "UNLOADING"), "1 retired only after 2 was AVAILABLE");
    assert.ok(at(3, "AVAILABLE") < at(2, "UNLOADING"), "2 retired only after 3 was AVAILABLE");
    assert.equal(
      report.loads.length,
      3,
      "one load per version: safe pickup never loaded a half-copied version",
    );
    assert.deepEqual([...report.closes].sort(), [...report.loads].sort(), "every loaded version closed once");

    const growth = report.rssAfterMiB / report.rssBeforeMiB - 1;
    assert.ok(Math.abs(growth) <= 0.1, `RSS within 10%: ${summary}`);
  });
});
