import assert from "node:assert/strict";
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { needsFixtures, TFSERVING_FIXTURES } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import {
  type ModelServerConfig,
  ModelServerConfigSchema,
} from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";
import { loadServable } from "../runtime/servable.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { askScale, waitForState, writeCorruptModel, writeScaleModel } from "./core.test-helpers.js";
import type { LoadFn } from "./load-retry.js";
import type { StateChangeEvent, VersionState } from "./manager.js";
import { ServerCore, type ServerCoreOptions } from "./server-core.js";

const FULL_LIFE: VersionState[] = ["START", "LOADING", "AVAILABLE", "UNLOADING", "END"];
const UP: VersionState[] = ["START", "LOADING", "AVAILABLE"];

interface Model {
  name: string;
  base: string;
  policy?: string;
  labels?: Record<string, number>;
}

function config(models: readonly Model[]): ModelServerConfig {
  const text = models
    .map(
      (m) => `config {
        name: "${m.name}" base_path: "${m.base}" model_platform: "tensorflow"
        ${m.policy ? `model_version_policy { ${m.policy} }` : ""}
        ${Object.entries(m.labels ?? {})
          .map(([k, v]) => `version_labels { key: "${k}" value: ${v} }`)
          .join("\n")}
      }`,
    )
    .join("\n");
  return parseTextProto(ModelServerConfigSchema, `model_config_list { ${text} }`, "test config");
}

/** A core in poll-once mode (tests drive polls with pollNow), recording every state change. */
async function startCore(options: ServerCoreOptions) {
  const events: StateChangeEvent[] = [];
  const core = await ServerCore.create({
    fileSystemPollWaitSeconds: 0,
    stabilityPolls: 0,
    incompletePolls: 0,
    maxNumLoadRetries: 0,
    ...options,
    listeners: { state: (event) => events.push(event) },
  });
  const states = (model: string, version: number) =>
    events.filter((e) => e.model === model && e.version === BigInt(version)).map((e) => e.state);
  const settle = (done: () => boolean) => waitForState(core, done);
  return { core, events, states, settle };
}

const state = (core: ServerCore, model: string, version: number): VersionState | undefined => {
  try {
    return core.status(model, BigInt(version))[0]?.state;
  } catch {
    return undefined;
  }
};

async function scaleOf(core: ServerCore, model: string, request = {}): Promise<[bigint, number]> {
  const handle = core.acquire(model, request);
  try {
    return [handle.version, await askScale(handle.servable)];
  } finally {
    handle.release();
  }
}

function assertServingError(e: unknown, code: Code, message: string | RegExp): true {
  assert.ok(e instanceof ServingError, String(e));
  assert.equal(e.codeName, Code[code], e.message);
  if (typeof message === "string") assert.equal(e.message, message);
  else assert.match(e.message, message);
  return true;
}

describe("ServerCore", () => {
  const scratchDir = useScratchDir("server-core");
  let models = "";

  /** A fresh base path holding scale models of the given versions. */
  async function basePath(versions: readonly number[]): Promise<string> {
    const base = join(models, `base-${Math.random().toString(36).slice(2)}`);
    await mkdir(base, { recursive: true });
    for (const v of versions) await writeScaleModel(join(base, String(v)), v);
    return base;
  }

  before(async () => {
    models = scratchDir("models");
  });

  it("policy latest 1: startup loads the highest version; a new one replaces it", async () => {
    const base = await basePath([1, 2]);
    const { core, states, settle } = await startCore({ config: config([{ name: "m", base }]) });
    assert.deepEqual(states("m", 2), UP);
    assert.deepEqual(states("m", 1), [], "never aspired");
    await writeScaleModel(join(base, "3"), 3);
    await core.pollNow();
    await settle(() => state(core, "m", 2) === "END");
    assert.deepEqual(states("m", 2), FULL_LIFE);
    assert.deepEqual(states("m", 3), UP);
    assert.deepEqual(await scaleOf(core, "m"), [3n, 3]);
    await core.stop();
  });

  it("policy latest 2: the two highest; a third new version retires the lowest", async () => {
    const base = await basePath([1, 2, 3]);
    const { core, states, settle } = await startCore({
      config: config([{ name: "m", base, policy: "latest { num_versions: 2 }" }]),
    });
    assert.deepEqual(core.availableVersions("m"), [3n, 2n]);
    await writeScaleModel(join(base, "4"), 4);
    await core.pollNow();
    await settle(() => state(core, "m", 2) === "END" && state(core, "m", 4) === "AVAILABLE");
    assert.deepEqual(states("m", 2), FULL_LIFE, "3 still serves: 2 goes at once");
    assert.deepEqual(states("m", 3), UP);
    assert.deepEqual(states("m", 4), UP);
    assert.deepEqual(states("m", 1), []);
    assert.deepEqual(
      core.status("m").map((s) => [s.version, s.state]),
      [
        [4n, "AVAILABLE"],
        [3n, "AVAILABLE"],
        [2n, "END"],
      ],
    );
    await core.stop();
  });

  it("policy all: every version; a deleted version dir is unloaded", async () => {
    const base = await basePath([1, 2]);
    const { core, states, settle } = await startCore({
      config: config([{ name: "m", base, policy: "all {}" }]),
    });
    assert.deepEqual(core.availableVersions("m"), [2n, 1n]);
    assert.deepEqual(await scaleOf(core, "m", { version: 1n }), [1n, 1]);
    await rm(join(base, "2"), { recursive: true });
    await core.pollNow();
    await settle(() => state(core, "m", 2) === "END");
    assert.deepEqual(states("m", 2), FULL_LIFE);
    assert.deepEqual(states("m", 1), UP);
    assert.deepEqual(await scaleOf(core, "m"), [1n, 1]);
    await core.stop();
  });

  it("policy specific: the listed versions; a reload changes the list", async () => {
    const base = await basePath([1, 2, 3]);
    const { core, states, settle } = await startCore({
      config: config([{ name: "m", base, policy: "specific { versions: 1 versions: 3 }" }]),
    });
    assert.deepEqual(core.availableVersions("m"), [3n, 1n]);
    await core.reloadConfig(config([{ name: "m", base, policy: "specific { versions: 2 }" }]));
    await settle(() => state(core, "m", 1) === "END" && state(core, "m", 3) === "END");
    assert.deepEqual(states("m", 2), UP);
    assert.deepEqual(states("m", 1), FULL_LIFE);
    assert.deepEqual(states("m", 3), FULL_LIFE);
    await core.stop();
  });

  it("a corrupt new version leaves the old one serving and reports END with its error", async () => {
    const base = await basePath([1]);
    const { core, states, settle } = await startCore({ config: config([{ name: "m", base }]) });
    await writeCorruptModel(join(base, "2"));
    await core.pollNow();
    await settle(() => state(core, "m", 2) === "END");
    assert.deepEqual(states("m", 2), ["START", "LOADING", "END"]);
    assert.deepEqual(states("m", 1), UP);
    const [failed] = core.status("m", 2n);
    assert.ok(failed?.error, "the failed version carries its error");
    assert.match(failed.error.message, /saved_model\.pb/);
    assert.deepEqual(await scaleOf(core, "m"), [1n, 1]);
    await core.stop();
  });

  it("retries failed loads as configured, then fails startup as TF Serving does", async () => {
    const base = join(models, "corrupt");
    await writeCorruptModel(join(base, "1"));
    let calls = 0;
    const load: LoadFn = (dir) => {
      calls++;
      return loadServable(dir);
    };
    const retries: number[] = [];
    await assert.rejects(
      ServerCore.create({
        config: config([{ name: "m", base }]),
        fileSystemPollWaitSeconds: 0,
        stabilityPolls: 0,
        maxNumLoadRetries: 2,
        loadRetryIntervalMicros: 5_000,
        load: (dir) => {
          retries.push(calls);
          return load(dir);
        },
      }),
      (e) =>
        assertServingError(
          e,
          Code.UNKNOWN,
          /^1 servable\(s\) did not become available: \{\{\{name: m version: 1\} due to error: [A-Z_]+: .*saved_model\.pb.*\}, \}$/,
        ),
    );
    assert.equal(calls, 3, "1 attempt + 2 retries");
  });

  it("labels: rejected at startup unless allowed for unavailable versions, then resolved per request", async () => {
    const base = await basePath([1, 2]);
    const labeled = config([{ name: "m", base, policy: "all {}", labels: { stable: 1, canary: 2 } }]);
    await assert.rejects(
      ServerCore.create({ config: labeled, fileSystemPollWaitSeconds: 0, stabilityPolls: 0 }),
      (e) =>
        assertServingError(
          e,
          Code.FAILED_PRECONDITION,
          /^Request to assign label to version [12] of model m, which is not currently available for inference$/,
        ),
    );
    const { core } = await startCore({ config: labeled, allowVersionLabelsForUnavailableModels: true });
    assert.deepEqual(await scaleOf(core, "m", { label: "stable" }), [1n, 1]);
    assert.deepEqual(await scaleOf(core, "m", { label: "canary" }), [2n, 2]);
    assert.throws(
      () => core.acquire("m", { label: "beta" }),
      (e) => assertServingError(e, Code.INVALID_ARGUMENT, "Unrecognized servable version label: beta"),
    );
    await core.stop();
  });

  it("reload: adds a model (waiting until it serves), removes one, relabels, keeping the label rules", async () => {
    const a = await basePath([1, 2]);
    const b = await basePath([5]);
    const { core, states, settle } = await startCore({
      config: config([{ name: "a", base: a, policy: "all {}" }]),
    });

    await core.reloadConfig(
      config([
        { name: "a", base: a, policy: "all {}", labels: { stable: 1 } },
        { name: "b", base: b },
      ]),
    );
    assert.deepEqual(core.availableVersions("b"), [5n], "reload returns once the added model serves");
    assert.deepEqual(await scaleOf(core, "a", { label: "stable" }), [1n, 1]);

    // Moving a label to an AVAILABLE version is fine; to a version not AVAILABLE is not.
    await core.reloadConfig(
      config([
        { name: "a", base: a, policy: "all {}", labels: { stable: 2 } },
        { name: "b", base: b },
      ]),
    );
    assert.deepEqual(await scaleOf(core, "a", { label: "stable" }), [2n, 2]);
    await assert.rejects(
      core.reloadConfig(
        config([
          { name: "a", base: a, policy: "all {}", labels: { stable: 7 } },
          { name: "b", base: b },
        ]),
      ),
      (e) =>
        assertServingError(
          e,
          Code.FAILED_PRECONDITION,
          "Request to assign label to version 7 of model a, which is not currently available for inference",
        ),
    );
    assert.deepEqual(
      await scaleOf(core, "a", { label: "stable" }),
      [2n, 2],
      "a failed reload changes nothing",
    );
    assert.deepEqual(core.availableVersions("b"), [5n]);

    // Removing b unloads it; its status keeps the END entry.
    await core.reloadConfig(config([{ name: "a", base: a, policy: "all {}" }]));
    await settle(() => state(core, "b", 5) === "END");
    assert.deepEqual(states("b", 5), FULL_LIFE);
    assert.throws(
      () => core.acquire("b"),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Latest(b)"),
    );
    assert.throws(
      () => core.acquire("a", { label: "stable" }),
      (e) => assertServingError(e, Code.INVALID_ARGUMENT, "Unrecognized servable version label: stable"),
    );
    assert.deepEqual(
      core.models().map((m) => m.name),
      ["a"],
    );
    await core.stop();
  });

  it("reload with allowVersionLabelsForUnavailableModels: a new label may wait for its version, a moved one may not", async () => {
    const a = await basePath([1]);
    const { core } = await startCore({
      config: config([{ name: "a", base: a, policy: "all {}", labels: { stable: 1 } }]),
      allowVersionLabelsForUnavailableModels: true,
    });
    await core.reloadConfig(
      config([{ name: "a", base: a, policy: "all {}", labels: { stable: 1, canary: 2 } }]),
    );
    assert.throws(
      () => core.acquire("a", { label: "canary" }),
      (e) => assertServingError(e, Code.NOT_FOUND, "Servable not found for request: Specific(a, 2)"),
    );
    await assert.rejects(
      core.reloadConfig(config([{ name: "a", base: a, policy: "all {}", labels: { stable: 2, canary: 2 } }])),
      (e) =>
        assertServingError(
          e,
          Code.FAILED_PRECONDITION,
          /version 2 of model a, which is not currently available/,
        ),
    );
    await writeScaleModel(join(a, "2"), 2);
    await core.pollNow();
    await waitForState(core, () => core.availableVersions("a").includes(2n));
    assert.deepEqual(await scaleOf(core, "a", { label: "canary" }), [2n, 2]);
    await core.stop();
  });

  it("reload rejects what TF Serving rejects and changes nothing; an empty config is a no-op", async () => {
    const a = await basePath([1]);
    const { core } = await startCore({ config: config([{ name: "a", base: a }]) });
    const custom = create(ModelServerConfigSchema, {
      config: {
        case: "customModelConfig",
        value: anyPack(ModelServerConfigSchema, create(ModelServerConfigSchema)),
      },
    });
    await assert.rejects(core.reloadConfig(custom), (e) =>
      assertServingError(
        e,
        Code.INVALID_ARGUMENT,
        /^ServerModelConfig type not supported by HandleReloadConfigRequest/,
      ),
    );
    const onnx = parseTextProto(
      ModelServerConfigSchema,
      `model_config_list { config { name: "a" base_path: "${a}" model_platform: "onnx" } }`,
    );
    await assert.rejects(core.reloadConfig(onnx), (e) =>
      assertServingError(
        e,
        Code.INVALID_ARGUMENT,
        "Illegal to change a model's platform. For model a platform was tensorflow and new platform requested is onnx",
      ),
    );
    await assert.rejects(
      core.reloadConfig(
        config([
          { name: "a", base: a },
          { name: "a", base: a },
        ]),
      ),
      (e) =>
        assertServingError(e, Code.INVALID_ARGUMENT, "Illegal to list model a multiple times in config list"),
    );
    await core.reloadConfig(create(ModelServerConfigSchema));
    assert.deepEqual(
      core.models().map((m) => m.name),
      ["a"],
    );
    assert.deepEqual(await scaleOf(core, "a"), [1n, 1]);
    await core.stop();
  });

  it("reload: an added model that cannot load fails the reload with UNKNOWN N model(s) did not become available", async () => {
    const a = await basePath([1]);
    const broken = join(models, "broken-added");
    await writeCorruptModel(join(broken, "3"));
    const { core } = await startCore({ config: config([{ name: "a", base: a }]) });
    await assert.rejects(
      core.reloadConfig(
        config([
          { name: "a", base: a },
          { name: "broken", base: broken },
        ]),
      ),
      (e) =>
        assertServingError(
          e,
          Code.UNKNOWN,
          /^1 model\(s\) did not become available: \{\{\{name: broken version: 3\} due to error: /,
        ),
    );
    assert.deepEqual(await scaleOf(core, "a"), [1n, 1]);
    await core.stop();
  });

  it("safe pickup end to end: a version copied file by file over several polls loads once, with no failed load", async () => {
    const staging = join(models, "staging");
    await writeScaleModel(join(staging, "2"), 2, { ballast: 256 });
    const files = await listFiles(join(staging, "2"));
    const base = await basePath([1]);
    const loads: string[] = [];
    const failures: string[] = [];
    const load: LoadFn = async (dir) => {
      loads.push(dir);
      try {
        return await loadServable(dir);
      } catch (error: unknown) {
        failures.push(String(error));
        throw error;
      }
    };
    const { core, settle } = await startCore({
      config: config([{ name: "m", base }]),
      stabilityPolls: 1,
      incompletePolls: 30,
      load,
    });
    await core.pollNow(); // version 1 needs one extra poll to be stable
    await settle(() => core.availableVersions("m").includes(1n));

    // The worst order for a naive server: saved_model.pb first, then the variables, 1 KiB per poll.
    const target = join(base, "2");
    let polls = 0;
    for (const file of files.sort((x, y) => (x.endsWith(".pb") ? -1 : y.endsWith(".pb") ? 1 : 0))) {
      const bytes = await readFile(join(staging, "2", file));
      await mkdir(join(target, file, ".."), { recursive: true });
      for (let offset = 0; offset < bytes.length; offset += 1024) {
        await appendFile(join(target, file), bytes.subarray(offset, offset + 1024));
        await core.pollNow();
        polls++;
      }
    }
    assert.ok(polls >= 5, `copied over ${polls} polls`);
    assert.deepEqual(core.availableVersions("m"), [1n], "not picked up during the copy");
    await core.pollNow(); // unchanged since the last poll: picked up
    await settle(() => state(core, "m", 1) === "END");
    assert.deepEqual(await scaleOf(core, "m"), [2n, 2]);
    assert.deepEqual(failures, []);
    assert.deepEqual(loads, [join(base, "1"), join(base, "2")]);
    await core.stop();
  });

  it("without safe pickup (stabilityPolls 0) the same copy triggers a failed load", async () => {
    const staging = join(models, "staging-naive");
    await writeScaleModel(join(staging, "2"), 2, { ballast: 256 });
    const base = await basePath([1]);
    const { core, settle } = await startCore({ config: config([{ name: "m", base }]), stabilityPolls: 0 });
    const target = join(base, "2");
    await mkdir(join(target, "variables"), { recursive: true });
    await writeFile(join(target, "saved_model.pb"), await readFile(join(staging, "2", "saved_model.pb")));
    const data = await readFile(join(staging, "2", "variables", "variables.data-00000-of-00001"));
    await writeFile(join(target, "variables", "variables.data-00000-of-00001"), data.subarray(0, 100));
    await core.pollNow();
    await settle(() => state(core, "m", 2) === "END");
    assert.ok(core.status("m", 2n)[0]?.error, "the half-copied version failed to load");
    assert.deepEqual(core.availableVersions("m"), [1n]);
    await core.stop();
  });

  it("a missing base path: poll-once startup fails with TF Serving's message; polling startup waits for it", async () => {
    const missing = join(models, "not-there-yet");
    await assert.rejects(
      ServerCore.create({ config: config([{ name: "m", base: missing }]), fileSystemPollWaitSeconds: 0 }),
      (e) =>
        assertServingError(e, Code.UNKNOWN, new RegExp(`Could not find base path ${missing} for servable m`)),
    );
    const starting = ServerCore.create({
      config: config([{ name: "m", base: missing }]),
      fileSystemPollWaitSeconds: 0.02,
      stabilityPolls: 0,
    });
    await new Promise((r) => setTimeout(r, 100));
    await writeScaleModel(join(missing, "4"), 4);
    const core = await starting;
    assert.deepEqual(await scaleOf(core, "m"), [4n, 4]);
    await core.stop();
  });

  it(
    "serves TF Serving's half_plus_two with two versions; the legacy SessionBundle fixture fails to load",
    needsFixtures,
    async () => {
      const { core } = await startCore({
        config: config([
          {
            name: "half_plus_two",
            base: join(TFSERVING_FIXTURES, "saved_model_half_plus_two_2_versions"),
            policy: "all {}",
          },
        ]),
      });
      assert.deepEqual(core.availableVersions("half_plus_two"), [124n, 123n]);
      const handle = core.acquire("half_plus_two", { version: 123n });
      const out = await handle.servable.signatures
        .get("serving_default")
        ?.run(new Map([["x", new Tensor(DataType.DT_FLOAT, [3], new Float32Array([1, 2, 3]))]]));
      handle.release();
      assert.deepEqual(Array.from(out?.get("y")?.values as Float32Array), [2.5, 3, 3.5]);
      await core.stop();

      await assert.rejects(
        ServerCore.create({
          config: config([{ name: "bad", base: join(TFSERVING_FIXTURES, "bad_half_plus_two") }]),
          fileSystemPollWaitSeconds: 0,
          incompletePolls: 0,
          maxNumLoadRetries: 0,
        }),
        (e) =>
          assertServingError(
            e,
            Code.UNKNOWN,
            /^1 servable\(s\) did not become available: .*legacy TF Serving SessionBundle/,
          ),
      );
    },
  );

  it("stop() waits for in-flight requests, then unloads everything", async () => {
    const base = await basePath([1]);
    const { core, states } = await startCore({ config: config([{ name: "m", base }]) });
    const held = core.acquire("m");
    let stopped = false;
    const stopping = core.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(stopped, false);
    assert.equal(await askScale(held.servable), 1);
    held.release();
    await stopping;
    assert.deepEqual(states("m", 1), FULL_LIFE);
  });
});

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), `${prefix}${entry.name}/`)));
    else out.push(`${prefix}${entry.name}`);
  }
  return out;
}
