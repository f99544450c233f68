import assert from "node:assert/strict";
import { appendFile, cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { writeScaleModel } from "./core.test-helpers.js";
import { type AspiredVersion, FileSystemSource, type SourceEvent } from "./fs-source.js";
import { nextVersion, publishVersion } from "./publish.js";
import {
  buildManifest,
  MANIFEST_NAME,
  parseManifest,
  serializeManifest,
  verifyAgainstManifest,
} from "./version-manifest.js";

/** A source over one model with the strictest safe pickup: a plain directory needs 5 quiet polls. */
function watch(basePath: string) {
  const emitted: (readonly AspiredVersion[])[] = [];
  const events: SourceEvent[] = [];
  const source = new FileSystemSource({
    onAspiredVersions: (_model, versions) => emitted.push(versions),
    onEvent: (event) => events.push(event),
    stabilityPolls: 5,
    incompletePolls: 0,
  });
  source.setModels([{ name: "m", basePath, versionPolicy: { kind: "all" } }]);
  const aspired = async (): Promise<bigint[]> => {
    await source.poll();
    return (emitted.at(-1) ?? []).map((v) => v.version);
  };
  return { source, events, aspired };
}

describe("push to a file-system repository, and the manifest", () => {
  const scratchDir = useScratchDir("publish");

  it("publishes 1, 2, ... atomically with a manifest; the source picks each up in one poll", async () => {
    const exportDir = scratchDir("export");
    await writeScaleModel(exportDir, 2, { ballast: 8 });
    const base = scratchDir("models");
    const { aspired } = watch(base);
    const first = await publishVersion({ dir: exportDir, to: base });
    assert.deepEqual([first.version, first.location, first.files], [1n, join(base, "1"), 3]);
    assert.deepEqual(await aspired(), [1n], "verified by its manifest: no stability polls");
    const second = await publishVersion({ dir: exportDir, to: base });
    assert.equal(second.version, 2n);
    assert.deepEqual(await aspired(), [2n, 1n]);
    assert.deepEqual((await readdir(base)).sort(), ["1", "2"], "no staging directory left behind");
    const manifest = parseManifest(await readFile(join(base, "2", MANIFEST_NAME), "utf8"), "2");
    assert.equal(manifest.version, "2");
    assert.deepEqual(
      manifest.files.map((f) => f.path),
      ["saved_model.pb", "variables/variables.data-00000-of-00001", "variables/variables.index"].sort(),
    );
    assert.equal(await verifyAgainstManifest(join(base, "2"), manifest), undefined);
  });

  it("a version whose files do not match its manifest is never loaded, however long it waits", async () => {
    const exportDir = scratchDir("export");
    await writeScaleModel(exportDir, 3);
    const base = scratchDir("models");
    await publishVersion({ dir: exportDir, to: base, version: 1n });
    await cp(join(base, "1"), join(base, "2"), { recursive: true });
    await appendFile(join(base, "2", "saved_model.pb"), "x");
    const { aspired, source, events } = watch(base);
    for (let poll = 0; poll < 8; poll++) assert.deepEqual(await aspired(), [1n]);
    assert.deepEqual(
      source.status("m")?.pending.map((p) => [p.version, p.reason]),
      [[2n, "unverified"]],
    );
    assert.equal(events.filter((e) => e.type === "pending").length, 1, "reported once");
    // Repaired: picked up at the next poll.
    await cp(join(base, "1", "saved_model.pb"), join(base, "2", "saved_model.pb"));
    assert.deepEqual(await aspired(), [2n, 1n]);
  });

  it("without a manifest, safe pickup works as before (stability polls)", async () => {
    const base = scratchDir("models");
    await writeScaleModel(join(base, "1"), 1);
    const { aspired } = watch(base);
    for (let poll = 0; poll < 5; poll++) assert.deepEqual(await aspired(), []);
    assert.deepEqual(await aspired(), [1n]);
  });

  it("refuses an existing version, an incomplete model and a foreign scheme", async () => {
    const exportDir = scratchDir("export");
    await writeScaleModel(exportDir, 1, { ballast: 8 });
    const base = scratchDir("models");
    await publishVersion({ dir: exportDir, to: base, version: 7n });
    await assert.rejects(
      publishVersion({ dir: exportDir, to: base, version: 7n }),
      (error: unknown) => error instanceof ServingError && error.code === Code.ALREADY_EXISTS,
    );
    const truncated = scratchDir("truncated");
    await cp(exportDir, truncated, { recursive: true });
    const data = join(truncated, "variables", "variables.data-00000-of-00001");
    await writeFile(data, (await readFile(data)).subarray(0, 10));
    await assert.rejects(publishVersion({ dir: truncated, to: base }), /is not a complete model/);
    await assert.rejects(
      publishVersion({ dir: exportDir, to: "gs://bucket/m" }),
      (error: unknown) => error instanceof ServingError && error.code === Code.UNIMPLEMENTED,
    );
    assert.deepEqual((await readdir(base)).sort(), ["7"]);
  });

  it("the next version counts every numeric name, and starts at 1", () => {
    assert.equal(nextVersion([]), 1n);
    assert.equal(nextVersion(["3", "010", ".11.push-1", "assets"]), 11n);
  });

  it("manifests cannot point outside their version directory", async () => {
    const dir = scratchDir("m");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "saved_model.pb"), "pb");
    const good = await buildManifest(dir, 4n);
    assert.deepEqual(parseManifest(serializeManifest(good), "good"), good);
    for (const path of ["../etc/passwd", "/abs", "a//b", "a\\b", "./x", MANIFEST_NAME]) {
      const bad = { ...good, files: [{ ...good.files[0]!, path }] };
      assert.throws(
        () => parseManifest(serializeManifest(bad), "bad"),
        (error: unknown) => error instanceof ServingError && error.code === Code.DATA_LOSS,
        path,
      );
    }
    assert.throws(() => parseManifest("{}", "empty"), /format is not ts-serving-manifest\/v1/);
  });
});
