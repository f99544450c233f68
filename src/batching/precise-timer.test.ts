import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { preciseTimeout } from "./precise-timer.js";

describe("preciseTimeout", () => {
  for (const ms of [0.3, 2.5, 7]) {
    it(`fires once, never before ${ms} ms have passed`, async () => {
      const start = performance.now();
      let calls = 0;
      const firedAt = await new Promise<number>((resolve) => {
        preciseTimeout(() => {
          calls++;
          resolve(performance.now());
        }, ms);
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(calls, 1);
      assert.ok(firedAt - start >= ms, `fired after ${firedAt - start} ms`);
    });
  }

  it("does not fire once cancelled, in the sleeping or the polling phase", async () => {
    let calls = 0;
    const sleeping = preciseTimeout(() => calls++, 5);
    const polling = preciseTimeout(() => calls++, 0.5);
    sleeping.cancel();
    polling.cancel();
    polling.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(calls, 0);
  });
});
