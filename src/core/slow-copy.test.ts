import assert from "node:assert/strict";
import { mkdir, open, readdir, readFile, stat } from "node:fs/promises";

import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { loadServable } from "../runtime/servable.js";
import { askScale, sleep, writeScaleModel } from "./core.test-helpers.js";
import type { StateChangeEvent } from "./manager.js";
import { singleModelEntry } from "./model-config.js";
import { ServerCore } from "./server-core.js";

/** Copies a version directory into place slowly: saved_model.pb first, then every file in `chunk`-byte pieces. */
async function slowCopy(from: string, to: string, chunk: number, pauseMs: number): Promise<void> {
  await mkdir(to, { recursive: true });
  const files = (await readdir(from, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(from.length + 1))
    .sort((a, b) => (a === "saved_model.pb" ? -1 : b === "saved_model.pb" ? 1 : a.localeCompare(b)));
  for (const file of files) {
    await mkdir(join(to, file, ".."), { recursive: true });
    const bytes = await readFile(join(from, file));
    const out = await open(join(to, file), "w");
    try {
      for (let offset = 0; offset < bytes.length || offset === 0; offset += chunk) {
        await out.write(bytes.subarray(offset, offset + chunk));
        await sleep(pauseMs);
        if (bytes.length === 0) break;
      }
    } finally {
      await out.close();
    }
  }
}

describe("safe pickup of a version copied slowly", () => {
  const scratchDir = useScratchDir("slow-copy");

  it("a ≥ 50 MB version copied in chunks over many poll intervals: no failed load, no request error", async () => {
    const base = scratchDir("base");
    const staged = scratchDir("staged");
    await writeScaleModel(join(base, "1"), 1);
    // 256 x 53,248 float32 ballast = 54.5 MB of variables.
    await writeScaleModel(staged, 2, { ballast: 53_248 });
    const size = (await stat(join(staged, "variables", "variables.data-00000-of-00001"))).size;
    assert.ok(size >= 50 * 1024 * 1024, `version 2 holds ${size} bytes`);

    const loads: string[] = [];
    const events: StateChangeEvent[] = [];
    const core = await ServerCore.create({
      models: [singleModelEntry("m", base)],
      fileSystemPollWaitSeconds: 0.1,
      maxNumLoadRetries: 0,
      load: (dir) => {
        loads.push(dir);
        return loadServable(dir);
      },
      listeners: { state: (e) => events.push(e) },
    });
    let requests = 0;
    const failures: string[] = [];
    const answers = new Set<number>();
    let running = true;
    const traffic = (async () => {
      while (running) {
        const handle = core.acquire("m");
        try {
          answers.add(await askScale(handle.servable));
          requests++;
        } catch (error: unknown) {
          failures.push(String(error));
        } finally {
          handle.release();
        }
        await sleep(2);
      }
    })();
    try {
      // 8 MiB every 150 ms: about 1 s of copying, over ten 100 ms poll intervals.
      await slowCopy(staged, join(base, "2"), 8 * 1024 * 1024, 150);
      for (let waited = 0; !core.availableVersions("m").includes(2n) && waited < 20_000; waited += 50)
        await sleep(50);
      await sleep(300);
    } finally {
      running = false;
      await traffic;
      await core.stop();
    }
    assert.deepEqual(failures, [], "no request failed");
    assert.ok(requests > 50, `${requests} requests ran during the copy`);
    assert.deepEqual(
      loads.map((dir) => dir.slice(base.length + 1)),
      ["1", "2"],
      "version 2 was loaded exactly once, after the copy completed",
    );
    const v2 = events.filter((e) => e.version === 2n);
    assert.deepEqual(
      v2.map((e) => e.state),
      ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"],
    );
    assert.ok(
      v2.every((e) => e.error === undefined),
      "no failed load",
    );
    assert.ok(answers.has(1) && answers.has(2), `answers came from versions ${[...answers]}`);
  });
});
