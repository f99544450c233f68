import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdaptiveTimeout } from "./adaptive-timeout.js";

describe("AdaptiveTimeout", () => {
  it("fits the batch cost model: fixed cost per batch plus cost per row", () => {
    const t = new AdaptiveTimeout(5000);
    for (const rows of [1, 2, 4, 8, 16, 32]) t.batchDone(rows, 300 + 10 * rows);
    assert.ok(Math.abs(t.fixedCostMicros() - 300) < 1e-6);
  });

  it("waits 0 for one closed-loop client, however fast it sends", () => {
    const t = new AdaptiveTimeout(5000);
    for (let i = 0; i < 50; i++) {
      t.arrival(i * 0.2); // every 200 µs
      t.batchDone(1, 300);
      t.requestDone(150); // in flight 150 of every 200 µs: under one request on average
    }
    assert.equal(t.waitMicros(), 0);
  });

  it("at high load waits about one batch's fixed cost, capped", () => {
    const t = new AdaptiveTimeout(5000);
    for (let i = 0; i < 200; i++) {
      t.arrival(i * 0.01); // every 10 µs
      t.batchDone(1 + (i % 32), 400 + 5 * (1 + (i % 32)));
      t.requestDone(600); // ~60 in flight
    }
    assert.ok(Math.abs(t.waitMicros() - 400) < 1, String(t.waitMicros()));
    const capped = new AdaptiveTimeout(100);
    for (let i = 0; i < 200; i++) {
      capped.arrival(i * 0.01);
      capped.batchDone(1 + (i % 32), 400 + 5 * (1 + (i % 32)));
      capped.requestDone(600);
    }
    assert.equal(capped.waitMicros(), 100);
  });

  it("waits 0 when requests arrive slower than a batch's fixed cost", () => {
    const t = new AdaptiveTimeout(5000);
    for (let i = 0; i < 50; i++) {
      t.arrival(i * 2); // every 2 ms
      t.batchDone(1, 300);
      t.requestDone(5000); // a slow model: several in flight
    }
    assert.equal(t.waitMicros(), 0);
  });
});
