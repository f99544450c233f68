import assert from "node:assert/strict";
import { appendFile, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code } from "../errors.js";
import { type AspiredVersion, FileSystemSource, type SourceEvent } from "./fs-source.js";
import type { VersionPolicy } from "./version-policy.js";

/** A source over one model, remembering what it aspired after each poll. */
function watch(
  basePath: string,
  options: { stabilityPolls?: number; incompletePolls?: number; versionPolicy?: VersionPolicy } = {},
) {
  const emitted: (readonly AspiredVersion[])[] = [];
  const events: SourceEvent[] = [];
  const source = new FileSystemSource({
    onAspiredVersions: (_model, versions) => emitted.push(versions),
    onEvent: (event) => events.push(event),
    stabilityPolls: options.stabilityPolls ?? 0,
    incompletePolls: options.incompletePolls ?? 3,
  });
  source.setModels([{ name: "m", basePath, versionPolicy: options.versionPolicy ?? { kind: "all" } }]);
  const aspired = async (): Promise<bigint[]> => {
    const before = emitted.length;
    await source.poll();
    return emitted.length > before ? (emitted.at(-1) ?? []).map((v) => v.version) : ["no emission" as never];
  };
  return { source, emitted, events, aspired };
}

/** A complete SavedModel-looking version directory (the source never parses it). */
async function versionDir(dir: string, file = "saved_model.pb"): Promise<void> {
  await mkdir(join(dir, "variables"), { recursive: true });
  await writeFile(join(dir, "variables", "variables.index"), "index");
  await writeFile(join(dir, "variables", "variables.data-00000-of-00001"), "data");
  await writeFile(join(dir, file), "pb");
}

describe("FileSystemSource", () => {
  const scratchDir = useScratchDir("fs-source");

  it("finds int64-named version dirs, leading zeros fine, ignoring hidden and other names", async () => {
    const base = scratchDir();
    await versionDir(join(base, "00000123"));
    await versionDir(join(base, "7"), "model.onnx");
    await versionDir(join(base, ".8"));
    await versionDir(join(base, "9.partial"));
    await versionDir(join(base, "99999999999999999999")); // beyond int64
    await writeFile(join(base, "10"), "a file, not a directory");
    await versionDir(join(base, "assets"));
    const { aspired, emitted } = watch(base);
    assert.deepEqual(await aspired(), [123n, 7n]);
    assert.equal(emitted.at(-1)?.[0]?.dir, join(base, "00000123"));
  });

  it("applies the version policy to what is found", async () => {
    const base = scratchDir();
    for (const v of [1, 2, 3]) await versionDir(join(base, String(v)));
    assert.deepEqual(await watch(base, { versionPolicy: { kind: "latest", numVersions: 1 } }).aspired(), [
      3n,
    ]);
    assert.deepEqual(await watch(base, { versionPolicy: { kind: "latest", numVersions: 2 } }).aspired(), [
      3n,
      2n,
    ]);
    const specific = watch(base, { versionPolicy: { kind: "specific", versions: [1n, 5n] } });
    assert.deepEqual(await specific.aspired(), [1n]);
    assert.deepEqual(specific.events, [
      {
        type: "warning",
        model: "m",
        message: `Version(s) 5 of servable m requested by the version policy not found under base path ${base}`,
      },
    ]);
  });

  it("a missing base path is an error for the model that changes nothing; polling goes on", async () => {
    const base = scratchDir();
    const { source, aspired, emitted, events } = watch(base);
    assert.deepEqual(await aspired(), ["no emission"]);
    const status = source.status("m");
    assert.equal(status?.error?.code, Code.INVALID_ARGUMENT);
    assert.equal(status?.error?.message, `Could not find base path ${base} for servable m`);
    await source.poll();
    assert.equal(events.length, 1, "reported once while it lasts");

    await versionDir(join(base, "1"));
    assert.deepEqual(await aspired(), [1n]);
    assert.equal(source.status("m")?.error, undefined);
    await rm(base, { recursive: true });
    const before = emitted.length;
    await source.poll();
    assert.equal(emitted.length, before, "no empty list for a vanished base path: version 1 keeps serving");

    await mkdir(base);
    assert.deepEqual(await aspired(), [], "an existing but empty base path aspires nothing");
    assert.match(
      source.status("m")?.warning ?? "",
      /No versions of servable m found under base path .*Did you forget/,
    );
  });

  it("safe pickup: a version dir written file by file is aspired only when complete and stable", async () => {
    const base = scratchDir();
    await versionDir(join(base, "1"));
    const { source, aspired } = watch(base, {
      stabilityPolls: 1,
      versionPolicy: { kind: "latest", numVersions: 1 },
    });
    assert.deepEqual(await aspired(), [], "even version 1 waits one extra poll");
    assert.deepEqual(await aspired(), [1n]);

    const v2 = join(base, "2");
    await mkdir(join(v2, "variables"), { recursive: true });
    assert.deepEqual(await aspired(), [1n], "empty: incomplete");
    assert.deepEqual(
      source.status("m")?.pending.map((p) => [p.version, p.reason]),
      [[2n, "incomplete"]],
    );
    await writeFile(join(v2, "variables", "variables.data-00000-of-00001"), "chunk 1;");
    assert.deepEqual(await aspired(), [1n]);
    await writeFile(join(v2, "variables", "variables.index"), "index");
    await appendFile(join(v2, "variables", "variables.data-00000-of-00001"), "chunk 2;");
    await writeFile(join(v2, "saved_model.pb"), "pb");
    assert.deepEqual(await aspired(), [1n], "complete, but changed since the last poll");
    assert.deepEqual(
      source.status("m")?.pending.map((p) => [p.version, p.reason]),
      [[2n, "changing"]],
    );
    await appendFile(join(v2, "variables", "variables.data-00000-of-00001"), "chunk 3;");
    assert.deepEqual(await aspired(), [1n], "a file still growing");
    assert.deepEqual(await aspired(), [2n], "unchanged for one extra poll: picked up");
    await appendFile(join(v2, "saved_model.pb"), "touched after pickup");
    assert.deepEqual(await aspired(), [2n], "a picked-up version is not re-examined");
  });

  it("safe pickup: saved_model.pb is not enough while variables/ lacks its index or a shard", async () => {
    const base = scratchDir();
    const v6 = join(base, "6");
    await mkdir(join(v6, "variables"), { recursive: true });
    await writeFile(join(v6, "saved_model.pb"), "pb");
    await writeFile(join(v6, "variables", "variables.data-00000-of-00002"), "shard 0");
    const { source, aspired } = watch(base, { stabilityPolls: 0 });
    assert.deepEqual(await aspired(), []);
    assert.deepEqual(
      source.status("m")?.pending.map((p) => p.reason),
      ["incomplete"],
    );
    await writeFile(join(v6, "variables", "variables.index"), "index");
    assert.deepEqual(await aspired(), [], "shard 1 of 2 missing");
    await writeFile(join(v6, "variables", "variables.data-00001-of-00002"), "shard 1");
    assert.deepEqual(await aspired(), [6n]);
  });

  it("safe pickup: while nothing is ready but something is pending, the previous versions stand", async () => {
    const base = scratchDir();
    await versionDir(join(base, "1"));
    const { source, aspired } = watch(base, {
      stabilityPolls: 1,
      versionPolicy: { kind: "latest", numVersions: 1 },
    });
    await aspired();
    assert.deepEqual(await aspired(), [1n]);
    await rm(join(base, "1"), { recursive: true });
    await versionDir(join(base, "2"));
    assert.deepEqual(await aspired(), [1n], "1 is gone from disk but 2 is not ready: 1 keeps serving");
    assert.deepEqual(await aspired(), [2n]);
    // A new base path starts afresh, serving the old versions until its own are ready.
    const moved = scratchDir();
    await versionDir(join(moved, "3"));
    source.setModels([{ name: "m", basePath: moved, versionPolicy: { kind: "latest", numVersions: 1 } }]);
    assert.deepEqual(await aspired(), [2n]);
    assert.deepEqual(await aspired(), [3n]);
  });

  it("safe pickup: an rsync-style hidden temp file inside the version holds it back", async () => {
    const base = scratchDir();
    const v3 = join(base, "3");
    await versionDir(v3);
    await writeFile(join(v3, "variables", ".variables.data.Xa1b2"), "part");
    const { aspired } = watch(base, { stabilityPolls: 1 });
    assert.deepEqual(await aspired(), []);
    await appendFile(join(v3, "variables", ".variables.data.Xa1b2"), "more");
    assert.deepEqual(await aspired(), []);
    await rename(join(v3, "variables", ".variables.data.Xa1b2"), join(v3, "variables", "variables.data"));
    assert.deepEqual(await aspired(), []);
    assert.deepEqual(await aspired(), [3n]);
  });

  it("safe pickup: a dir assembled under a hidden name and renamed into place is picked up whole", async () => {
    const base = scratchDir();
    await mkdir(base);
    const { aspired } = watch(base, { stabilityPolls: 0 });
    await versionDir(join(base, ".4.partial"));
    assert.deepEqual(await aspired(), []);
    await rename(join(base, ".4.partial"), join(base, "4"));
    assert.deepEqual(await aspired(), [4n]);
  });

  it("a dir that stays without a model file is aspired after incompletePolls, so its load can fail loudly", async () => {
    const base = scratchDir();
    await mkdir(join(base, "5"), { recursive: true });
    await writeFile(join(base, "5", "model.tflite"), "tflite");
    const { aspired, events } = watch(base, { stabilityPolls: 1, incompletePolls: 3 });
    assert.deepEqual(await aspired(), []);
    assert.deepEqual(await aspired(), []);
    assert.deepEqual(await aspired(), []);
    assert.deepEqual(await aspired(), [5n]);
    assert.deepEqual(
      events.map((e) => e.type),
      ["pending"],
    );
  });

  it("setModels: a removed model gets an empty list; a changed policy applies at the next poll", async () => {
    const base = scratchDir();
    for (const v of [1, 2]) await versionDir(join(base, String(v)));
    const { source, aspired, emitted } = watch(base);
    assert.deepEqual(await aspired(), [2n, 1n]);
    source.setModels([{ name: "m", basePath: base, versionPolicy: { kind: "latest", numVersions: 1 } }]);
    assert.deepEqual(await aspired(), [2n]);
    source.setModels([]);
    assert.deepEqual(emitted.at(-1), []);
    assert.equal(source.status("m"), undefined);
  });

  it("start(0) polls until pending versions settle; start(ms) keeps polling", async () => {
    const base = scratchDir();
    await versionDir(join(base, "1"));
    const emitted: bigint[][] = [];
    const source = new FileSystemSource({
      onAspiredVersions: (_m, versions) => emitted.push(versions.map((v) => v.version)),
      stabilityPolls: 1,
      settleIntervalMs: 10,
    });
    source.setModels([{ name: "m", basePath: base, versionPolicy: { kind: "all" } }]);
    await source.start(0);
    assert.deepEqual(emitted, [[], [1n]]);
    await source.start(10);
    await versionDir(join(base, "2"));
    const deadline = Date.now() + 5000;
    while (!emitted.at(-1)?.includes(2n) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    await source.stop();
    assert.deepEqual(emitted.at(-1), [2n, 1n]);
  });
});
