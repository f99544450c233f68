import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { modelConfigEntries, readModelConfigFile } from "../core/model-config.js";
import { rollback, rollout } from "./rollout.js";

/** A repository with version dirs 1..3 of `ranking` and a config serving it with `policy`. */
async function repo(dir: string, policy = "", labels = ""): Promise<{ config: string; split: string }> {
  for (const v of ["1", "2", "3"]) await mkdir(join(dir, "ranking", v), { recursive: true });
  const config = join(dir, "models.config");
  await writeFile(
    config,
    `model_config_list { config { name: "ranking" base_path: "${join(dir, "ranking")}" model_platform: "tensorflow" ${policy} ${labels} } }\n`,
  );
  return { config, split: join(dir, "traffic_split.json") };
}

const readJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, "utf8"));

describe("rollout and rollback", () => {
  const scratchDir = useScratchDir("rollout");

  it("rollout widens a latest policy to both versions and writes the split; rollback restores the stable one", async () => {
    const dir = scratchDir();
    const { config, split } = await repo(dir);
    await rollout({ config, model: "ranking", version: 3n, canary: 10, stickyHeader: "x-user-id" });
    assert.deepEqual(await readJson(split), {
      ranking: { weights: { "2": 90, "3": 10 }, stable: "2", sticky_header: "x-user-id" },
    });
    const [entry] = modelConfigEntries(await readModelConfigFile(config));
    assert.deepEqual(entry?.versionPolicy, { kind: "specific", versions: [2n, 3n] });

    // Later steps find the canary and stable targets in the split file.
    await rollout({ config, model: "ranking", canary: 50 });
    assert.deepEqual(await readJson(split), {
      ranking: { weights: { "2": 50, "3": 50 }, stable: "2", sticky_header: "x-user-id" },
    });
    const said = await rollback({ config, model: "ranking" });
    assert.match(said, /sends 100% to 2 \(stable\)/);
    assert.deepEqual(await readJson(split), {
      ranking: { weights: { "2": 100, "3": 0 }, stable: "2", sticky_header: "x-user-id" },
    });
    assert.deepEqual(
      (await readdir(dir)).sort(),
      ["models.config", "ranking", "traffic_split.json"],
      "no temporary files left",
    );
  });

  it("uses the config's stable/canary labels and keeps other models' splits", async () => {
    const dir = scratchDir();
    const labels = 'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 }';
    const { config, split } = await repo(dir, "model_version_policy { all {} }", labels);
    await writeFile(split, '{"other": {"weights": {"7": 1}}}');
    const before = await readFile(config, "utf8");
    await rollout({ config, model: "ranking", canary: 25 });
    assert.deepEqual(await readJson(split), {
      other: { weights: { "7": 1 } },
      ranking: { weights: { stable: 75, canary: 25 }, stable: "stable" },
    });
    assert.equal(await readFile(config, "utf8"), before, "the config needed no change");
  });

  it("refuses what the server would refuse, writing nothing", async () => {
    const dir = scratchDir();
    const { config, split } = await repo(dir, "", 'version_labels { key: "stable" value: 1 }');
    await assert.rejects(rollout({ config, model: "ranking", version: 2n, canary: 101 }), /--canary=101/);
    await assert.rejects(
      rollout({ config, model: "ranking", canary: 10 }),
      /name the canary of model ranking/,
    );
    await assert.rejects(
      rollout({ config, model: "ranker", version: 2n, canary: 10 }),
      /has no model named ranker/,
    );
    await assert.rejects(
      rollout({ config, model: "ranking", version: 2n, stable: "gold", canary: 10 }),
      /names label gold, which its version_labels do not define/,
    );
    await assert.rejects(
      rollout({ config, model: "ranking", version: 1n, canary: 10 }),
      /the stable \(stable\) and canary \(1\) targets are both 1/,
    );
    await assert.rejects(rollback({ config, model: "ranking" }), /has no traffic split for model ranking/);
    await assert.rejects(readFile(split), { code: "ENOENT" });
  });

  it("runs as `ts-serving rollout` / `rollback` (subcommand flags after the subcommand)", async () => {
    const dir = scratchDir();
    const { config, split } = await repo(dir, "model_version_policy { specific { versions: 1 } }");
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args], {
        cwd: REPO_ROOT,
        encoding: "utf8",
      });
    const out = cli("rollout", "--config", config, "--model", "ranking", "--version", "3", "--canary", "10");
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /now loads versions 1, 3/);
    assert.match(out.stdout, /90% to 1 \(stable\), 10% to 3 \(canary\)/);
    const back = cli("rollback", "--split_file", split, "--model", "ranking");
    assert.equal(back.status, 0, back.stderr);
    assert.deepEqual(await readJson(split), { ranking: { weights: { "1": 100, "3": 0 }, stable: "1" } });
    const bad = cli("rollout", "--config", config, "--model", "ranking", "--canary", "ten");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /ts-serving: error: --canary=ten: expected an integer 0\.\.100/);
  });
});
