import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ensureDefaultModel } from "../../src/cli/default-model.js";
import { REPO_ROOT } from "../fixtures.js";
import { freePort } from "../rest/helpers.js";
import { useScratchDir } from "../scratch.js";

/** Starts `ts-serving` as a user would and resolves once it prints its ready line. */
async function startServer(
  args: string[],
): Promise<{ child: ChildProcess; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  for (let waited = 0; !out.includes("ts-serving ready"); waited += 50) {
    if (child.exitCode !== null || waited > 30_000) throw new Error(`server did not start: ${err}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, stdout: () => out, stderr: () => err };
}

describe("the server process", () => {
  const scratchDir = useScratchDir("signals");

  it("SIGTERM under load: in-flight requests complete, new connections are refused, exit code 0", async () => {
    const { basePath } = await ensureDefaultModel(scratchDir("models"));
    const port = await freePort();
    const server = await startServer([
      `--model_name=ranker`,
      `--model_base_path=${basePath}`,
      `--rest_api_port=${port}`,
      `--port=${await freePort()}`,
    ]);
    const url = `http://127.0.0.1:${port}/v1/models/ranker:predict`;
    // Big batches so that requests are still running when the signal arrives.
    const rows = Array.from({ length: 4000 }, (_, r) =>
      Array.from({ length: 32 }, (_, c) => ((r + c) % 10) / 10),
    );
    const body = JSON.stringify({ instances: rows });
    const answeredAt: number[] = [];
    const inFlight = Array.from({ length: 8 }, () =>
      fetch(url, { method: "POST", body }).then((response) => {
        answeredAt.push(performance.now());
        return response;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    const signalledAt = performance.now();
    server.child.kill("SIGTERM");
    const responses = await Promise.all(inFlight);
    assert.ok(
      answeredAt.some((t) => t > signalledAt),
      "some requests were still in flight when SIGTERM arrived",
    );
    for (const response of responses) {
      assert.equal(response.status, 200);
      const json = (await response.json()) as { predictions: number[][] };
      assert.equal(json.predictions.length, 4000);
    }
    const [code] = await once(server.child, "exit");
    assert.equal(code, 0, server.stderr());
    assert.match(server.stderr(), /SIGTERM: draining in-flight requests/);
    await assert.rejects(fetch(url, { method: "POST", body: '{"instances": [[0]]}' }), /fetch failed/);
  });
});
