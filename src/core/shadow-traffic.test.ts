import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { askScale, sleep, writeScaleModel } from "./core.test-helpers.js";
import { ServerCore } from "./server-core.js";
import { outputDifference } from "./shadow-traffic.js";
import { parseTrafficSplit } from "./traffic-split.js";

const floats = (values: number[], shape = [values.length]) =>
  new Tensor(DataType.DT_FLOAT, shape, Float32Array.from(values));

describe("outputDifference", () => {
  it("measures the largest numeric difference and notices any other difference", () => {
    const y = (values: number[]) => new Map([["y", floats(values)]]);
    assert.deepEqual(outputDifference(y([1, 2, 3]), y([1, 2, 3])), { maxAbsDiff: 0, differs: false });
    assert.deepEqual(outputDifference(y([1, 2, 3]), y([1, 2.5, 1])), { maxAbsDiff: 2, differs: true });
    assert.deepEqual(outputDifference(y([Number.NaN]), y([Number.NaN])), { maxAbsDiff: 0, differs: false });
    assert.deepEqual(outputDifference(y([Number.NaN]), y([0])), {
      maxAbsDiff: Number.POSITIVE_INFINITY,
      differs: true,
    });
    assert.equal(
      outputDifference(y([1, 2]), new Map([["y", floats([1, 2], [1, 2])]])).differs,
      true,
      "shape",
    );
    assert.equal(outputDifference(y([1]), new Map([["z", floats([1])]])).differs, true, "missing output");
    const text = (s: string) => new Map([["t", new Tensor(DataType.DT_STRING, [1], [Buffer.from(s)])]]);
    assert.deepEqual(outputDifference(text("a"), text("a")), { maxAbsDiff: 0, differs: false });
    assert.deepEqual(outputDifference(text("a"), text("b")), { maxAbsDiff: 0, differs: true });
  });
});

describe("shadow traffic", () => {
  const scratchDir = useScratchDir("shadow");

  it("mirrors requests to the candidate, answers from the served version, and records the difference", async () => {
    const base = join(scratchDir(), "scale");
    await writeScaleModel(join(base, "1"), 1);
    await writeScaleModel(join(base, "2"), 2);
    const core = await ServerCore.create({
      models: [
        {
          name: "scale",
          basePath: base,
          platform: "tensorflow",
          versionPolicy: { kind: "specific", versions: [1n, 2n] },
          labels: new Map(),
        },
      ],
      fileSystemPollWaitSeconds: 0,
    });
    try {
      core.setTrafficSplit(
        parseTrafficSplit('{"scale": {"weights": {"1": 1}, "shadow": {"target": "2", "percent": 100}}}'),
      );
      const settled = () => core.shadowReport().reduce((n, r) => n + r.compared + r.failures + r.skipped, 0);
      for (let i = 0; i < 10; i++) {
        const handle = core.acquire("scale");
        try {
          assert.equal(await askScale(handle.servable), 1, "the answer comes from the served version");
        } finally {
          handle.release();
        }
        while (settled() < i + 1) await sleep(5);
      }
      // A request pinned to the shadow version itself is not mirrored.
      const pinned = core.acquire("scale", { version: 2n });
      assert.equal(await askScale(pinned.servable), 2);
      pinned.release();

      const [report] = core.shadowReport();
      assert.deepEqual(
        { ...report, primaryMsTotal: 0, shadowMsTotal: 0 },
        {
          model: "scale",
          target: "2",
          compared: 10,
          failures: 0,
          skipped: 0,
          primaryMsTotal: 0,
          shadowMsTotal: 0,
          // x = [1, 2, 3, 4]: y differs by x between scale 1 and scale 2.
          maxAbsDiff: 4,
          differing: 10,
        },
      );
      assert.ok((report?.shadowMsTotal ?? 0) > 0);
    } finally {
      await core.stop();
    }
  });
});
