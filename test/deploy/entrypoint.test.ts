// The image's entrypoint and health check, run as the image runs them but without Docker: the
// entrypoint under sh with `ts-serving` found on PATH (a stand-in that prints its arguments, then the
// real server), the health check with node against that server.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ensureDefaultModel } from "../../src/cli/default-model.js";
import { REPO_ROOT } from "../fixtures.js";
import { freePort } from "../rest/helpers.js";
import { useScratchDir } from "../scratch.js";
import { parseServerArgs } from "./server-args.js";

const ENTRYPOINT = join(REPO_ROOT, "deploy/docker/entrypoint.sh");
const HEALTHCHECK = join(REPO_ROOT, "deploy/docker/healthcheck.mjs");
const IMAGE_ENV = ["GRPC_PORT", "PORT", "MODEL_NAME", "MODEL_BASE_PATH"];

/** process.env without the image's variables, plus `extra`. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of IMAGE_ENV) delete env[name];
  return { ...env, ...extra };
}

/** A directory holding an executable `ts-serving` with the given sh body. */
async function fakeBin(dir: string, body: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, "ts-serving");
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return dir;
}

describe("docker entrypoint (deploy/docker/entrypoint.sh)", () => {
  const scratchDir = useScratchDir("entrypoint");
  let echoBin = "";
  /** The argument vector the entrypoint hands to `ts-serving`. */
  const argv = async (args: string[], env: Record<string, string> = {}): Promise<string[]> => {
    echoBin ||= await fakeBin(scratchDir("echo-bin"), `for arg in "$@"; do printf '%s\\n' "$arg"; done`);
    const run = spawnSync("sh", [ENTRYPOINT, ...args], {
      env: environment({ ...env, PATH: `${echoBin}:${process.env.PATH}` }),
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout.split("\n").slice(0, -1);
  };

  it("without arguments runs the server as tensorflow/serving's image does", async () => {
    assert.deepEqual(await argv([]), [
      "--port=8500",
      "--rest_api_port=8501",
      "--model_name=model",
      "--model_base_path=/models/model",
    ]);
  });

  it("takes the model and the ports from MODEL_NAME, MODEL_BASE_PATH, GRPC_PORT and PORT", async () => {
    const env = {
      MODEL_NAME: "half_plus_two",
      MODEL_BASE_PATH: "s3://bucket/models",
      GRPC_PORT: "9000",
      PORT: "8080",
    };
    const args = await argv([], env);
    assert.deepEqual(args, [
      "--port=9000",
      "--rest_api_port=8080",
      "--model_name=half_plus_two",
      "--model_base_path=s3://bucket/models/half_plus_two",
    ]);
    const flags = parseServerArgs(args);
    assert.equal(flags.string("model_base_path"), "s3://bucket/models/half_plus_two");
    assert.equal(flags.int("port"), 9000);
  });

  it("appends the docker run arguments, each kept whole, so they add to or override the defaults", async () => {
    const args = await argv(
      [
        "--model_config_file=/models/models.config",
        "--model_config_file_poll_wait_seconds=60",
        "--rest_api_port=9501",
        "--saved_model_tags=serve,gpu free",
      ],
      { MODEL_NAME: "ranking" },
    );
    assert.deepEqual(args.slice(4), [
      "--model_config_file=/models/models.config",
      "--model_config_file_poll_wait_seconds=60",
      "--rest_api_port=9501",
      "--saved_model_tags=serve,gpu free",
    ]);
    // As with tensorflow_model_server, the last value of a repeated flag wins.
    const flags = parseServerArgs(args);
    assert.equal(flags.int("rest_api_port"), 9501);
    assert.equal(flags.string("model_config_file"), "/models/models.config");
    assert.equal(flags.string("model_name"), "ranking");
  });

  it("runs a subcommand as it is (beyond tensorflow/serving)", async () => {
    assert.deepEqual(await argv(["inspect", "--dir", "/models/ranking/1", "--all"]), [
      "inspect",
      "--dir",
      "/models/ranking/1",
      "--all",
    ]);
  });

  // The timeout only guards against a hung start; nothing is measured.
  it("execs the real server: it serves $MODEL_BASE_PATH/$MODEL_NAME, is healthy, and gets SIGTERM itself", {
    timeout: 120_000,
  }, async () => {
    const modelsDir = scratchDir("models");
    await ensureDefaultModel(modelsDir); // <modelsDir>/ranking_model/1
    const bin = await fakeBin(
      scratchDir("real-bin"),
      `exec "${process.execPath}" --import tsx "${join(REPO_ROOT, "src/cli/main.ts")}" "$@"`,
    );
    const port = String(await freePort());
    const env = { MODEL_NAME: "ranking_model", MODEL_BASE_PATH: modelsDir, PORT: port, GRPC_PORT: "0" };
    // A subcommand through the entrypoint: the real CLI runs it instead of the server.
    const inspected = spawnSync("sh", [ENTRYPOINT, "inspect", "--dir", join(modelsDir, "ranking_model/1")], {
      cwd: REPO_ROOT,
      env: environment({ ...env, PATH: `${bin}:${process.env.PATH}` }),
      encoding: "utf8",
    });
    assert.equal(inspected.status, 0, inspected.stderr);
    assert.match(inspected.stdout, /serve/);

    const server = spawn("sh", [ENTRYPOINT], {
      cwd: REPO_ROOT,
      env: environment({ ...env, PATH: `${bin}:${process.env.PATH}` }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await ready(server);
      const status = (await (await fetch(`http://127.0.0.1:${port}/v1/models/ranking_model`)).json()) as {
        model_version_status: { version: string; state: string }[];
      };
      assert.deepEqual(
        status.model_version_status.map((v) => [v.version, v.state]),
        [["1", "AVAILABLE"]],
      );

      assert.deepEqual(healthcheck({ PORT: port, MODEL_NAME: "ranking_model" }), { status: 0, stderr: "" });
      const missing = healthcheck({ PORT: port, MODEL_NAME: "no_such_model" });
      assert.equal(missing.status, 1);
      assert.match(
        missing.stderr,
        /no_such_model: HTTP 404, Could not find any versions of model no_such_model/,
      );

      // `exec` all the way down: the signal reaches the server, which drains and exits 0.
      server.kill("SIGTERM");
      const [code] = (await once(server, "exit")) as [number | null];
      assert.equal(code, 0);
      const down = healthcheck({ PORT: port, MODEL_NAME: "ranking_model" });
      assert.equal(down.status, 1);
      assert.match(down.stderr, /ECONNREFUSED/);
    } finally {
      if (server.exitCode === null) server.kill("SIGKILL");
    }
  });
});

/** Resolves once the server prints its ready line; rejects if it exits first. */
async function ready(child: ChildProcess): Promise<void> {
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("ts-serving ready")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}

/** Runs the image's HEALTHCHECK command with the given environment. */
function healthcheck(env: Record<string, string>): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [HEALTHCHECK], { env: environment(env), encoding: "utf8" });
  return { status: run.status, stderr: run.stderr };
}
