import assert from "node:assert/strict";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { PredictionLogSchema } from "../proto/gen/tensorflow_serving/apis/prediction_log_pb.js";
import type { VersionState } from "./manager.js";
import { singleModelEntry } from "./model-config.js";
import { ServerCore } from "./server-core.js";
import { WARMUP_FILE, warmupServable, writeWarmupFile } from "./warmup.js";

describe("warmup in the lifecycle", needsFixtures, () => {
  const scratchDir = useScratchDir("warmup-core");

  it("replays assets.extra/tf_serving_warmup_requests while LOADING, before the version is AVAILABLE", async () => {
    const base = scratchDir("counter");
    const version = join(base, "1");
    await cp(tfServingModel("saved_model_counter"), version, { recursive: true });
    const incr = create(PredictionLogSchema, {
      logType: {
        case: "predictLog",
        value: { request: { modelSpec: { name: "counter", signatureName: "incr_counter" } } },
      },
    });
    await writeWarmupFile(join(version, WARMUP_FILE), [incr, incr, incr]);

    const timeline: (VersionState | "warmup")[] = [];
    const core = await ServerCore.create({
      models: [singleModelEntry("counter", base)],
      fileSystemPollWaitSeconds: 0,
      warmup: async (servable, dir, id) => {
        timeline.push("warmup");
        const { records } = await warmupServable(servable, dir, { modelName: id.model, version: id.version });
        assert.equal(records, 3);
      },
      listeners: { state: (e) => timeline.push(e.state) },
    });
    try {
      // create() resolves once the version is AVAILABLE; the first request already sees the warmup's effect.
      const handle = core.acquire("counter");
      try {
        const out = await handle.servable.signatures.get("get_counter")?.run(new Map());
        assert.equal(Number(out?.get("output")?.values[0]), 3);
      } finally {
        handle.release();
      }
      assert.deepEqual(timeline, ["START", "LOADING", "warmup", "AVAILABLE"]);
    } finally {
      await core.stop();
    }
  });
});
