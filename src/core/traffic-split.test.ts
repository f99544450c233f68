import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ServingError } from "../errors.js";
import type { VersionRequest } from "./manager.js";
import { checkTrafficSplit, parseTrafficSplit, TrafficRouter } from "./traffic-split.js";
import type { LabelMap } from "./version-labels.js";

const LABELS: LabelMap = new Map([
  [
    "ranking",
    new Map([
      ["stable", 1n],
      ["canary", 2n],
    ]),
  ],
]);
const ALL_AVAILABLE = () => true;

/** A random source returning 0, 1/n, 2/n, ... (n draws spread evenly over [0, 1)). */
function evenly(n: number): () => number {
  let i = 0;
  return () => (i++ % n) / n;
}

function invalid(text: string, message: RegExp): void {
  assert.throws(
    () => parseTrafficSplit(text, "split.json"),
    (error: unknown) =>
      error instanceof ServingError && error.code === Code.INVALID_ARGUMENT && message.test(error.message),
  );
}

describe("parseTrafficSplit", () => {
  it("reads labels, versions, the sticky header (lower-cased) and the stable key", () => {
    const split = parseTrafficSplit(
      '{"ranking": {"weights": {"stable": 90, "canary": 10}, "sticky_header": "X-User-Id", "stable": "stable"},' +
        ' "other": {"weights": {"3": 1, "4": 0}}}',
    );
    assert.deepEqual(split.get("ranking"), {
      entries: [
        { key: "stable", target: { label: "stable" }, weight: 90 },
        { key: "canary", target: { label: "canary" }, weight: 10 },
      ],
      stickyHeader: "x-user-id",
      stable: "stable",
    });
    assert.deepEqual(split.get("other")?.entries, [
      { key: "3", target: { version: 3n }, weight: 1 },
      { key: "4", target: { version: 4n }, weight: 0 },
    ]);
    assert.equal(parseTrafficSplit("{}").size, 0);
    assert.deepEqual(parseTrafficSplit('{"m": {"shadow": {"target": "canary", "percent": 2.5}}}').get("m"), {
      entries: [],
      shadow: { key: "canary", target: { label: "canary" }, percent: 2.5 },
    });
  });

  it("rejects bad files with a message naming the file, model and key", () => {
    invalid("{", /^split\.json: not valid JSON/);
    invalid("[]", /^split\.json: expected a JSON object/);
    invalid('{"m": 5}', /^split\.json: model m: expected an object with "weights"/);
    invalid('{"m": {"weights": {}}}', /model m: "weights" must be a non-empty object/);
    invalid('{"m": {"weights": {"1": -1}}}', /weight of "1" must be a non-negative integer, got -1/);
    invalid('{"m": {"weights": {"1": 2.5}}}', /weight of "1" must be a non-negative integer, got 2.5/);
    invalid('{"m": {"weights": {"1": "10"}}}', /weight of "1" must be a non-negative integer, got "10"/);
    invalid('{"m": {"weights": {"1": 0, "2": 0}}}', /model m: the weights sum to 0/);
    invalid('{"m": {"weights": {"1": 1, "01": 1}}}', /model m: version 1 is listed twice/);
    invalid('{"m": {"weight": {"1": 1}}}', /model m: unknown field "weight"/);
    invalid('{"m": {"weights": {"1": 1}, "sticky_header": "x user"}}', /sticky_header must be a header name/);
    invalid(
      '{"m": {"weights": {"1": 1}, "stable": "2"}}',
      /stable must be one of the keys of "weights", got "2"/,
    );
    invalid(
      '{"m": {"shadow": {"target": "2", "percent": 0}}}',
      /shadow percent must be a number in \(0, 100\], got 0/,
    );
    invalid(
      '{"m": {"shadow": {"target": 2, "percent": 5}}}',
      /shadow target must be a label or version string/,
    );
    invalid('{"m": {"shadow": {"version": "2"}}}', /shadow must be \{"target"/);
  });
});

describe("checkTrafficSplit", () => {
  const models = [{ name: "ranking", labels: new Map([["stable", 1n]]) }];

  it("accepts labels the model defines and any version number", () => {
    checkTrafficSplit(parseTrafficSplit('{"ranking": {"weights": {"stable": 9, "7": 1}}}'), models);
  });

  it("rejects a model outside the config and an undefined label", () => {
    assert.throws(
      () => checkTrafficSplit(parseTrafficSplit('{"ranker": {"weights": {"1": 1}}}'), models),
      /traffic split names model ranker, which is not in the model config/,
    );
    assert.throws(
      () => checkTrafficSplit(parseTrafficSplit('{"ranking": {"weights": {"canary": 1}}}'), models),
      /names label canary, which its version_labels do not define \(labels: stable\)/,
    );
    assert.throws(
      () =>
        checkTrafficSplit(
          parseTrafficSplit('{"ranking": {"shadow": {"target": "next", "percent": 1}}}'),
          models,
        ),
      /names label next/,
    );
  });
});

describe("TrafficRouter", () => {
  const split = parseTrafficSplit(
    '{"ranking": {"weights": {"stable": 90, "canary": 10}, "sticky_header": "x-user-id"}}',
  );

  const count = (router: TrafficRouter, n: number, request: (i: number) => VersionRequest = () => ({})) => {
    const counts = new Map<bigint | undefined, number>();
    for (let i = 0; i < n; i++) {
      const { version } = router.route("ranking", request(i), LABELS, ALL_AVAILABLE);
      counts.set(version, (counts.get(version) ?? 0) + 1);
    }
    return counts;
  };

  it("splits evenly spread draws exactly by the weights", () => {
    const router = new TrafficRouter(evenly(1000));
    router.set(split);
    assert.deepEqual(
      count(router, 1000),
      new Map([
        [1n, 900],
        [2n, 100],
      ]),
    );
  });

  it("leaves requests that name a version or label, and models without a split, alone", () => {
    const router = new TrafficRouter(() => 0.99);
    router.set(split);
    assert.deepEqual(router.route("ranking", { version: 7n }, LABELS, ALL_AVAILABLE), { version: 7n });
    assert.deepEqual(router.route("ranking", { label: "stable" }, LABELS, ALL_AVAILABLE), {
      label: "stable",
    });
    assert.deepEqual(router.route("other", {}, LABELS, ALL_AVAILABLE), {});
    assert.deepEqual(router.route("ranking", {}, LABELS, ALL_AVAILABLE), { version: 2n });
  });

  it("gives an unavailable target's share to the others, and with none available serves the latest", () => {
    const router = new TrafficRouter(evenly(100));
    router.set(split);
    const onlyStable = (_model: string, version: bigint) => version === 1n;
    for (let i = 0; i < 100; i++) {
      assert.deepEqual(router.route("ranking", {}, LABELS, onlyStable), { version: 1n });
    }
    assert.deepEqual(
      router.route("ranking", {}, LABELS, () => false),
      {},
      "no target available: as without a split",
    );
    const noLabels: LabelMap = new Map();
    assert.deepEqual(
      router.route("ranking", {}, noLabels, ALL_AVAILABLE),
      {},
      "labels gone: as without a split",
    );
  });

  it("sends one sticky key to one version, the keys spread by the weights", () => {
    const router = new TrafficRouter(() => {
      throw new Error("a sticky request must not draw");
    });
    router.set(split);
    const keyed = (i: number): VersionRequest => ({
      header: (name) => (name === "x-user-id" ? `user-${i % 2000}` : undefined),
    });
    const first = count(router, 2000, keyed);
    assert.deepEqual(count(router, 2000, keyed), first, "the same keys, the same versions");
    const canaryShare = (first.get(2n) ?? 0) / 2000;
    assert.ok(Math.abs(canaryShare - 0.1) < 0.03, `canary share ${canaryShare}`);
  });

  it("keeps the canary's keys on the canary when its weight grows", () => {
    const router = new TrafficRouter();
    const keyed = (i: number): VersionRequest => ({ header: () => `key-${i}` });
    router.set(split);
    const before = Array.from({ length: 500 }, (_, i) =>
      router.route("ranking", keyed(i), LABELS, ALL_AVAILABLE),
    );
    router.set(
      parseTrafficSplit(
        '{"ranking": {"weights": {"stable": 50, "canary": 50}, "sticky_header": "x-user-id"}}',
      ),
    );
    const after = Array.from({ length: 500 }, (_, i) =>
      router.route("ranking", keyed(i), LABELS, ALL_AVAILABLE),
    );
    before.forEach((b, i) => {
      if (b.version === 2n) assert.equal(after[i]?.version, 2n, `key-${i}`);
    });
  });
});
