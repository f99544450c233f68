// S3 model repositories end to end against a real S3-compatible server (moto_server): `ts-serving
// push` publishes, the S3 source downloads and verifies, REST serves; interrupted or corrupt pushes
// are never loaded.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { waitForState } from "../../src/core/core.test-helpers.js";
import { publishVersion } from "../../src/core/publish.js";
import { putFile, putObject } from "../../src/core/s3-client.js";
import { ServerCore, type ServerCoreOptions } from "../../src/core/server-core.js";
import { cacheDirName } from "../../src/core/version-lister.js";
import { buildManifest, MANIFEST_NAME, serializeManifest } from "../../src/core/version-manifest.js";
import { Code, ServingError } from "../../src/errors.js";
import { needsFixtures, REPO_ROOT, tfServingModel } from "../fixtures.js";
import { configText, modelEntry, parseConfig, post, startCli, startRest } from "../rest/helpers.js";
import { useScratchDir } from "../scratch.js";
import { needsMoto, useMoto } from "./moto.js";

const HALF_PLUS_TWO = tfServingModel("saved_model_half_plus_two_cpu");
const HALF_PLUS_THREE = tfServingModel("saved_model_half_plus_three");
const needs = { skip: needsMoto.skip || needsFixtures.skip };

/** `ts-serving push ...` as a user runs it; resolves with its stdout (rejects on a non-zero exit). */
function pushCli(args: readonly string[]): Promise<string> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), "push", ...args],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`push exited ${code}: ${err}`)),
    );
  });
}

async function predict(base: string, model: string): Promise<unknown> {
  const reply = await post(base, `/v1/models/${model}:predict`, { instances: [1.0, 2.0, 5.0] });
  assert.equal(reply.status, 200, reply.text);
  return (JSON.parse(reply.text) as { predictions: unknown }).predictions;
}

describe("S3 model repositories (moto_server)", () => {
  const moto = useMoto();
  const scratchDir = useScratchDir("s3-repository");

  /** A core polling only when told (pollNow), so that every step is deterministic. */
  const startCore = (config: string, extra: Partial<ServerCoreOptions> = {}) =>
    ServerCore.create({
      config: parseConfig(config),
      fileSystemPollWaitSeconds: 0,
      maxNumLoadRetries: 0,
      remote: { s3: { endpoint: moto().endpoint }, cacheDir: scratchDir("cache") },
      ...extra,
    });

  it(
    "`push` publishes versions that are served over REST; the next push swaps in, the old one unloads",
    needs,
    async () => {
      const bucket = await moto().bucket("swap");
      const base = `s3://${bucket}/models/hp`;
      const out = await pushCli(["--dir", HALF_PLUS_TWO, "--to", base, "--s3_endpoint", moto().endpoint]);
      assert.match(out, /^published version 1 at s3:\/\/swap\/models\/hp\/1 \(4 files, \d+ bytes\)\n$/);

      const core = await startCore(configText(modelEntry("hp", base)));
      const rest = await startRest({ backend: core });
      try {
        assert.deepEqual(await predict(rest.base, "hp"), [2.5, 3.0, 4.5]);
        const pushed = await publishVersion({
          dir: HALF_PLUS_THREE,
          to: base,
          s3: { endpoint: moto().endpoint },
        });
        assert.equal(pushed.version, 2n);
        await core.pollNow();
        await waitForState(core, () => core.status("hp", 1n)[0]?.state === "END");
        assert.deepEqual(core.availableVersions("hp"), [2n]);
        assert.deepEqual(await predict(rest.base, "hp"), [3.5, 4.0, 5.5]);
      } finally {
        await rest.close();
        await core.stop();
      }
    },
  );

  it(
    "an interrupted push (no manifest), a corrupt file and a missing file are never loaded; completing the push is",
    needs,
    async () => {
      const bucket = await moto().bucket("interrupted");
      const base = `s3://${bucket}/hp`;
      const { client, endpoint } = moto();
      await publishVersion({ dir: HALF_PLUS_TWO, to: base, s3: { endpoint } });
      const manifest = await buildManifest(HALF_PLUS_THREE, 0n);
      const upload = async (version: number, skip: string | undefined, corrupt: string | undefined) => {
        for (const file of manifest.files) {
          if (file.path === skip) continue;
          const key = `hp/${version}/${file.path}`;
          if (file.path === corrupt) {
            const bytes = await readFile(join(HALF_PLUS_THREE, file.path));
            bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // same size, other bytes
            await putObject(client, bucket, key, bytes);
          } else {
            await putFile(client, bucket, key, join(HALF_PLUS_THREE, file.path), file.size);
          }
        }
      };
      // 2: files uploaded, the manifest never written (the push died before its commit point).
      await upload(2, undefined, undefined);
      // 3: a manifest whose checksum does not match saved_model.pb.
      await upload(3, undefined, "saved_model.pb");
      await putObject(
        client,
        bucket,
        `hp/3/${MANIFEST_NAME}`,
        serializeManifest({ ...manifest, version: "3" }),
      );
      // 4: a manifest listing a file that never arrived.
      await upload(4, "variables/variables.index", undefined);
      await putObject(
        client,
        bucket,
        `hp/4/${MANIFEST_NAME}`,
        serializeManifest({ ...manifest, version: "4" }),
      );

      const core = await startCore(configText(modelEntry("hp", base)));
      try {
        await core.pollNow();
        await core.pollNow();
        assert.deepEqual(
          core.status("hp").map((s) => [s.version, s.state]),
          [[1n, "AVAILABLE"]],
          "2, 3 and 4 never even started loading",
        );
        const warning = core.sourceStatus("hp")?.warning ?? "";
        assert.match(
          warning,
          /version\(s\) 2 have no ts-serving-manifest\.json \(a push in progress or interrupted\)/,
        );
        assert.match(
          warning,
          /version 3 is not loaded: saved_model\.pb does not match its sha256 in the manifest/,
        );
        assert.match(
          warning,
          /version 4 is not loaded: variables\/variables\.index is in the manifest but not in the bucket/,
        );

        // Re-running the interrupted push publishes 2; 3 and 4 stay rejected.
        await publishVersion({ dir: HALF_PLUS_THREE, to: base, version: 2n, s3: { endpoint } });
        await core.pollNow();
        await waitForState(core, () => core.status("hp", 1n)[0]?.state === "END");
        assert.deepEqual(core.availableVersions("hp"), [2n]);
        const handle = core.acquire("hp");
        handle.release();
        assert.equal(handle.version, 2n);
      } finally {
        await core.stop();
      }
    },
  );

  it(
    "model_config_file entries: policies over published versions, only selected versions downloaded",
    needs,
    async () => {
      const bucket = await moto().bucket("policies");
      const { endpoint } = moto();
      for (const dir of [HALF_PLUS_TWO, HALF_PLUS_THREE, HALF_PLUS_TWO]) {
        await publishVersion({ dir, to: `s3://${bucket}/a`, s3: { endpoint } });
      }
      const cacheDir = scratchDir("cache");
      const core = await startCore(
        configText(
          modelEntry("two", `s3://${bucket}/a`, "model_version_policy { latest { num_versions: 2 } }"),
          modelEntry("pinned", `s3://${bucket}/a/`, "model_version_policy { specific { versions: 2 } }"),
        ),
        { remote: { s3: { endpoint }, cacheDir } },
      );
      try {
        assert.deepEqual(core.availableVersions("two"), [3n, 2n]);
        assert.deepEqual(core.availableVersions("pinned"), [2n]);
        const cached = async (model: string, basePath: string) =>
          (await readdir(join(cacheDir, cacheDirName(model, basePath)))).sort();
        assert.deepEqual(await cached("two", `s3://${bucket}/a`), ["2", "3"]);
        assert.deepEqual(await cached("pinned", `s3://${bucket}/a/`), ["2"]);
      } finally {
        await core.stop();
      }
    },
  );

  it(
    "a restart reuses the download cache only where it verifies: a corrupted cached file is fetched again",
    needs,
    async () => {
      const bucket = await moto().bucket("cache");
      const base = `s3://${bucket}/hp`;
      await publishVersion({ dir: HALF_PLUS_TWO, to: base, s3: { endpoint: moto().endpoint } });
      const cacheDir = scratchDir("cache");
      const options = { remote: { s3: { endpoint: moto().endpoint }, cacheDir } };
      const first = await startCore(configText(modelEntry("hp", base)), options);
      await first.stop();
      const cachedPb = join(cacheDir, cacheDirName("hp", base), "1", "saved_model.pb");
      const original = await readFile(cachedPb);
      await writeFile(cachedPb, Buffer.concat([original, Buffer.from([0])]));

      const second = await startCore(configText(modelEntry("hp", base)), options);
      const rest = await startRest({ backend: second });
      try {
        assert.deepEqual(await predict(rest.base, "hp"), [2.5, 3.0, 4.5]);
        assert.deepEqual(await readFile(cachedPb), original);
      } finally {
        await rest.close();
        await second.stop();
      }
    },
  );

  it("a missing base path or bucket fails the start with TF Serving's message", needs, async () => {
    const bucket = await moto().bucket("empty");
    await assert.rejects(
      startCore(configText(modelEntry("m", `s3://${bucket}/nothing`))),
      (error: unknown) => {
        assert.ok(error instanceof ServingError);
        assert.match(error.message, /Could not find base path s3:\/\/empty\/nothing for servable m/);
        return true;
      },
    );
    await assert.rejects(startCore(configText(modelEntry("m", "s3://no-such-bucket/m"))), /no such bucket/);
  });

  it("push refuses a published version and a directory that is not a model", needs, async () => {
    const bucket = await moto().bucket("refuse");
    const s3 = { endpoint: moto().endpoint };
    await publishVersion({ dir: HALF_PLUS_TWO, to: `s3://${bucket}/m`, version: 5n, s3 });
    await assert.rejects(
      publishVersion({ dir: HALF_PLUS_TWO, to: `s3://${bucket}/m`, version: 5n, s3 }),
      (error: unknown) => error instanceof ServingError && error.code === Code.ALREADY_EXISTS,
    );
    const next = await publishVersion({ dir: HALF_PLUS_TWO, to: `s3://${bucket}/m`, s3 });
    assert.equal(next.version, 6n);
    await assert.rejects(
      publishVersion({ dir: join(HALF_PLUS_TWO, "variables"), to: `s3://${bucket}/m`, s3 }),
    );
  });

  it(
    "the server CLI: --model_base_path=s3://... with --s3_endpoint and --model_cache_dir",
    needs,
    async () => {
      const bucket = await moto().bucket("cli");
      const base = `s3://${bucket}/models/hp`;
      await publishVersion({ dir: HALF_PLUS_TWO, to: base, s3: { endpoint: moto().endpoint } });
      const cacheDir = scratchDir("cli-cache");
      const cli = await startCli([
        "--model_name=hp",
        `--model_base_path=${base}`,
        `--s3_endpoint=${moto().endpoint}`,
        `--model_cache_dir=${cacheDir}`,
      ]);
      try {
        assert.deepEqual(await predict(cli.base, "hp"), [2.5, 3.0, 4.5]);
        assert.deepEqual(await readdir(join(cacheDir, cacheDirName("hp", base))), ["1"]);
      } finally {
        assert.equal(await cli.stop(), 0);
      }
    },
  );
});
