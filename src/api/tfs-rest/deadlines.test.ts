import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Deadlines } from "./deadlines.js";

describe("REST deadlines", () => {
  it("expires exactly the requests still running, in arrival order, with their detail", async () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<string, number>(30, (item, detail) => expired.push(`${item}:${detail}`));
    const ids = Array.from({ length: 200 }, (_, i) => deadlines.add(`r${i}`, i)); // grows the ring twice
    // Finished out of order, leaving every tenth one running.
    for (const [i, id] of ids.entries()) if (i % 10 !== 0 && i % 3 === 0) deadlines.delete(id);
    for (const [i, id] of ids.entries()) if (i % 10 !== 0 && i % 3 !== 0) deadlines.delete(id);
    deadlines.delete(ids[0] ?? -1);
    deadlines.delete(ids[0] ?? -1); // twice is harmless
    await sleep(150);
    const running = ids.map((_, i) => i).filter((i) => i % 10 === 0 && i !== 0);
    assert.deepEqual(
      expired,
      running.map((i) => `r${i}:${i}`),
    );
    deadlines.close();
  });

  it("keeps working after a long-running request made the ring grow", async () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(40, (item) => expired.push(item));
    const stuck = deadlines.add("stuck", undefined);
    for (let i = 0; i < 1000; i++) deadlines.delete(deadlines.add(`quick${i}`, undefined));
    const late = deadlines.add("late", undefined);
    await sleep(200);
    assert.deepEqual(expired, ["stuck", "late"]);
    deadlines.delete(stuck); // after expiry: ignored
    deadlines.delete(late);
    const next = deadlines.add("next", undefined);
    deadlines.delete(next);
    await sleep(120);
    assert.deepEqual(expired, ["stuck", "late"]);
    deadlines.close();
  });

  it("fires nothing after close", async () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<string>(10, (item) => expired.push(item));
    deadlines.add("a", undefined);
    deadlines.close();
    await sleep(60);
    assert.deepEqual(expired, []);
  });
});
