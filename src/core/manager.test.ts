import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { loadServable, type Servable } from "../runtime/servable.js";
import { askScale, sleep, writeCorruptModel, writeScaleModel } from "./core.test-helpers.js";
import type { LoadFn } from "./load-retry.js";
import { ServableManager, type StateChangeEvent, type VersionState } from "./manager.js";

/** Every state event, and the sequence of states per version. */
function record(manager: ServableManager): {
  events: StateChangeEvent[];
  states: (v: bigint) => VersionState[];
} {
  const events: StateChangeEvent[] = [];
  manager.on("state", (e) => {
    events.push(e);
    if (process.env.DEBUG_CORE) console.log(e.model, e.version, e.state, e.error?.message);
  });
  return { events, states: (v) => events.filter((e) => e.version === v).map((e) => e.state) };
}

/** The real loader, counting loads and closes, optionally slowed down. */
function countingLoader(delayMs = 0): { load: LoadFn; loads: string[]; closes: string[] } {
  const loads: string[] = [];
  const closes: string[] = [];
  const load: LoadFn = async (dir) => {
    loads.push(dir);
    if (delayMs > 0) await sleep(delayMs);
    const servable = await loadServable(dir);
    return {
      ...servable,
      signatures: servable.signatures,
      close: async () => {
        closes.push(dir);
        await servable.close();
      },
    } satisfies Servable;
  };
  return { load, loads, closes };
}

const FULL_LIFE: VersionState[] = ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"];
const until = (manager: ServableManager, done: () => boolean) => manager.waitUntil(done);

function assertServingError(e: unknown, code: Code, message: string | RegExp): true {
  assert.ok(e instanceof ServingError, String(e));
  assert.equal(e.codeName, Code[code]);
  if (typeof message === "string") assert.equal(e.message, message);
  else assert.match(e.message, message);
  return true;
}

describe("ServableManager", () => {
  const scratchDir = useScratchDir("manager");
  let base = "";
  const dir = (v: number) => join(base, String(v));

  before(async () => {
    base = scratchDir("models");
    for (const v of [1, 2, 3]) await writeScaleModel(dir(v), v);
    await writeCorruptModel(dir(9));
  });

  it("rolls availability-preserving: the new version is AVAILABLE before the old one starts UNLOADING", async () => {
    const manager = new ServableManager({ maxNumLoadRetries: 0 });
    const { events, states } = record(manager);
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => manager.availableVersions("m").length === 1);
    const h1 = manager.acquire("m");
    assert.equal(h1.version, 1n);
    assert.equal(await askScale(h1.servable), 1);
    h1.release();

    manager.setAspiredVersions("m", [{ version: 2n, dir: dir(2) }]);
    const during = manager.acquire("m");
    assert.equal(during.version, 1n, "version 1 serves while 2 loads");
    during.release();
    await until(manager, () => manager.stateOf("m", 1n) === "END");
    assert.deepEqual(states(1n), FULL_LIFE);
    assert.deepEqual(states(2n), ["START", "LOADING", "AVAILABLE"]);
    const order = events.map((e) => `${e.version}:${e.state}`);
    assert.ok(order.indexOf("2:AVAILABLE") < order.indexOf("1:UNLOADING"), order.join(" "));
    const h2 = manager.acquire("m");
    assert.equal(await askScale(h2.servable), 2);
    h2.release();
    assert.deepEqual(
      manager.status("m").map((s) => [s.version, s.state]),
      [
        [2n, "AVAILABLE"],
        [1n, "END"],
      ],
    );
    await manager.stop();
    assert.deepEqual(states(2n), FULL_LIFE);
  });

  it("loads the highest new version first, one load at a time per model", async () => {
    const manager = new ServableManager({ maxNumLoadRetries: 0 });
    const { events } = record(manager);
    let loadingNow = 0;
    let maxLoading = 0;
    manager.on("state", (e) => {
      if (e.state === "LOADING") maxLoading = Math.max(maxLoading, ++loadingNow);
      if (e.state === "AVAILABLE" || (e.state === "END" && e.error)) loadingNow--;
    });
    manager.setAspiredVersions(
      "m",
      [1, 2, 3].map((v) => ({ version: BigInt(v), dir: dir(v) })),
    );
    await until(manager, () => manager.availableVersions("m").length === 3);
    assert.deepEqual(
      events.filter((e) => e.state === "LOADING").map((e) => e.version),
      [3n, 2n, 1n],
    );
    assert.equal(maxLoading, 1);
    const latest = manager.acquire("m");
    assert.equal(latest.version, 3n, "no version asked: the latest AVAILABLE");
    latest.release();
    const h = manager.acquire("m", { version: 1n });
    assert.equal(await askScale(h.servable), 1);
    h.release();
    await manager.stop();
  });

  it("an UNLOADING version finishes in-flight requests before close()", async () => {
    const { load, closes } = countingLoader();
    const manager = new ServableManager({ load, maxNumLoadRetries: 0 });
    const { states } = record(manager);
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "AVAILABLE");
    const held = manager.acquire("m");
    manager.setAspiredVersions("m", [{ version: 2n, dir: dir(2) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "UNLOADING");
    await sleep(50);
    assert.deepEqual(closes, [], "not closed while a handle is held");
    const other = manager.acquire("m");
    assert.equal(other.version, 2n);
    other.release();
    assert.throws(
      () => manager.acquire("m", { version: 1n }),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Specific(m, 1)"),
    );
    assert.equal(await askScale(held.servable), 1, "the held version still answers");
    held.release();
    held.release(); // idempotent
    await until(manager, () => manager.stateOf("m", 1n) === "END");
    assert.deepEqual(closes, [dir(1)]);
    assert.deepEqual(states(1n), FULL_LIFE);
    await manager.stop();
    assert.deepEqual(closes, [dir(1), dir(2)]);
  });

  it("a corrupt new version fails (END with its error) and the old one keeps serving", async () => {
    const manager = new ServableManager({ maxNumLoadRetries: 0 });
    const { states } = record(manager);
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "AVAILABLE");
    manager.setAspiredVersions("m", [{ version: 9n, dir: dir(9) }]);
    await until(manager, () => manager.stateOf("m", 9n) === "END");
    assert.deepEqual(states(9n), ["START", "LOADING", "END"]);
    assert.deepEqual(states(1n), ["START", "LOADING", "AVAILABLE"], "version 1 is never unloaded");
    const [failed] = manager.status("m", 9n);
    assert.equal(failed?.state, "END");
    assert.ok(failed?.error instanceof ServingError);
    assert.match(failed.error.message, /saved_model\.pb/);
    const old = manager.acquire("m");
    assert.equal(old.version, 1n);
    old.release();
    // Still aspired: not retried on every poll.
    manager.setAspiredVersions("m", [{ version: 9n, dir: dir(9) }]);
    await sleep(20);
    assert.deepEqual(states(9n), ["START", "LOADING", "END"]);
    // The source moves on to a good version: 1 goes once 3 is AVAILABLE.
    manager.setAspiredVersions("m", [{ version: 3n, dir: dir(3) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "END");
    assert.deepEqual(manager.availableVersions("m"), [3n]);
    await manager.stop();
  });

  it("retries a failed load maxNumLoadRetries times, loadRetryIntervalMs apart", async () => {
    let calls = 0;
    const times: number[] = [];
    const load: LoadFn = async (d) => {
      calls++;
      times.push(performance.now());
      if (calls < 3) throw new ServingError(Code.UNAVAILABLE, `flaky storage (attempt ${calls})`);
      return loadServable(d);
    };
    const manager = new ServableManager({ load, maxNumLoadRetries: 2, loadRetryIntervalMs: 40 });
    const { states } = record(manager);
    const retries: number[] = [];
    manager.on("loadRetry", (e) => retries.push(e.attempt));
    manager.setAspiredVersions("m", [{ version: 2n, dir: dir(2) }]);
    await until(manager, () => manager.stateOf("m", 2n) === "AVAILABLE");
    assert.equal(calls, 3);
    assert.deepEqual(retries, [1, 2]);
    assert.deepEqual(states(2n), ["START", "LOADING", "AVAILABLE"], "LOADING throughout the retries");
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 35, `gap ${i}`);
    await manager.stop();

    let failures = 0;
    const failing = new ServableManager({
      load: async () => {
        failures++;
        throw new ServingError(Code.NOT_FOUND, "gone");
      },
      maxNumLoadRetries: 3,
      loadRetryIntervalMs: 1,
    });
    failing.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(failing, () => failing.stateOf("m", 1n) === "END");
    assert.equal(failures, 4, "1 attempt + 3 retries");
    assert.equal(failing.status("m")[0]?.error?.message, "gone");
    await failing.stop();
  });

  it("stops retrying a version that is no longer aspired", async () => {
    let calls = 0;
    const manager = new ServableManager({
      load: async () => {
        calls++;
        throw new ServingError(Code.INTERNAL, "broken");
      },
      maxNumLoadRetries: 5,
      loadRetryIntervalMs: 60_000,
    });
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => calls === 1);
    const started = performance.now();
    manager.setAspiredVersions("m", []);
    await until(manager, () => manager.stateOf("m", 1n) === "END");
    assert.ok(performance.now() - started < 1000, "no 60 s wait");
    assert.equal(calls, 1);
    await manager.stop();
  });

  it("runs warmup while LOADING; a failed warmup fails the load and closes the servable", async () => {
    const { load, closes } = countingLoader();
    const seen: (VersionState | undefined)[] = [];
    const manager = new ServableManager({
      load,
      maxNumLoadRetries: 1,
      loadRetryIntervalMs: 1,
      warmup: async (servable, d, id) => {
        seen.push(manager.stateOf(id.model, id.version));
        assert.equal(await askScale(servable), Number(id.version));
        if (d === dir(3)) throw new ServingError(Code.INVALID_ARGUMENT, "bad warmup record");
      },
    });
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "AVAILABLE");
    assert.deepEqual(seen, ["LOADING"]);
    manager.setAspiredVersions("m", [{ version: 3n, dir: dir(3) }]);
    await until(manager, () => manager.stateOf("m", 3n) === "END");
    assert.equal(manager.status("m", 3n)[0]?.error?.message, "bad warmup record");
    assert.deepEqual(closes, [dir(3), dir(3)], "each warmed-up attempt closed");
    const old = manager.acquire("m");
    assert.equal(old.version, 1n);
    old.release();
    await manager.stop();
  });

  it("answers unknown models, versions and labels as TF Serving", async () => {
    const manager = new ServableManager({ maxNumLoadRetries: 0 });
    assert.throws(
      () => manager.acquire("nope"),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Latest(nope)"),
    );
    assert.throws(
      () => manager.acquire("nope", { version: 7n }),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Specific(nope, 7)"),
    );
    assert.throws(
      () => manager.acquire("nope", { label: "stable" }),
      (e) => assertServingError(e, Code.INVALID_ARGUMENT, "Unrecognized servable version label: stable"),
    );
    assert.throws(
      () => manager.status("nope"),
      (e) => assertServingError(e, Code.NOT_FOUND, "Could not find any versions of model nope"),
    );
    manager.setAspiredVersions("m", [{ version: 1n, dir: dir(1) }]);
    await until(manager, () => manager.stateOf("m", 1n) === "AVAILABLE");
    manager.setLabels(
      new Map([
        [
          "m",
          new Map([
            ["stable", 1n],
            ["canary", 2n],
          ]),
        ],
      ]),
    );
    const stable = manager.acquire("m", { label: "stable" });
    assert.equal(stable.version, 1n);
    stable.release();
    assert.throws(
      () => manager.acquire("m", { label: "canary" }),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Specific(m, 2)"),
    );
    assert.throws(
      () => manager.acquire("m", { label: "beta" }),
      (e) => assertServingError(e, Code.INVALID_ARGUMENT, "Unrecognized servable version label: beta"),
    );
    assert.throws(
      () => manager.status("m", 5n),
      (e) => assertServingError(e, Code.NOT_FOUND, "Could not find version 5 of model m"),
    );
    await manager.stop();
    assert.deepEqual(
      manager.status("m").map((s) => s.state),
      ["END"],
    );
    assert.throws(
      () => manager.acquire("m"),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Latest(m)"),
    );
  });

  it("stop() waits for in-flight requests", async () => {
    const { load, closes } = countingLoader();
    const manager = new ServableManager({ load });
    manager.setAspiredVersions("m", [{ version: 2n, dir: dir(2) }]);
    await until(manager, () => manager.stateOf("m", 2n) === "AVAILABLE");
    const held = manager.acquire("m");
    let stopped = false;
    const stopping = manager.stop().then(() => {
      stopped = true;
    });
    await sleep(50);
    assert.equal(stopped, false);
    assert.equal(await askScale(held.servable), 2);
    held.release();
    await stopping;
    assert.deepEqual(closes, [dir(2)]);
    manager.setAspiredVersions("m", [{ version: 2n, dir: dir(2) }]);
    assert.equal(manager.stateOf("m", 2n), "END", "a stopped manager loads nothing");
  });
});
