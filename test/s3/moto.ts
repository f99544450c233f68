// A real S3-compatible server for the S3 tests: moto_server on 127.0.0.1, one per test file, started
// before its tests and killed after them. Without moto_server on PATH the tests are skipped with a
// message, except under CI=true, where that is a failure.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { after, before } from "node:test";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { createS3Client } from "../../src/core/s3-client.js";
import { freePort } from "../rest/helpers.js";

// Dummy credentials for moto (the SDK's standard chain reads them from the environment; child
// processes, e.g. the CLI, inherit them).
process.env.AWS_ACCESS_KEY_ID = "test";
process.env.AWS_SECRET_ACCESS_KEY = "test";
process.env.AWS_REGION = "us-east-1";
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;

const onPath = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" }).status === 0;

if (!onPath && process.env.CI === "true") {
  throw new Error("CI=true but moto_server is not on PATH: install it with `pip install 'moto[server]'`");
}

/** Test option: skips S3 tests, saying why, where moto_server is not installed. */
export const needsMoto: { skip: string | false } = {
  skip: onPath ? false : "moto_server not on PATH (pip install 'moto[server]'): S3 tests skipped",
};

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly client: S3Client;
  /** Creates a bucket and returns its name. */
  bucket(name: string): Promise<string>;
}

/**
 * Starts moto_server before the file's tests (a free port; waits until it answers) and kills it
 * after them. Returns a function giving the running server.
 *
 * @example
 * const moto = useMoto();
 * it("lists", needsMoto, async () => { const bucket = await moto().bucket("models"); });
 */
export function useMoto(): () => Moto {
  let child: ChildProcess | undefined;
  let moto: Moto | undefined;
  before(async () => {
    if (!onPath) return;
    const port = await freePort();
    child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${port}`;
    await waitUntilAnswering(endpoint, child);
    const client = createS3Client({ endpoint });
    moto = {
      endpoint,
      client,
      bucket: async (name) => {
        await client.send(new CreateBucketCommand({ Bucket: name }));
        return name;
      },
    };
  });
  after(async () => {
    moto?.client.destroy();
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });
  return () => {
    if (!moto) throw new Error("moto_server is not running");
    return moto;
  };
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess): Promise<void> {
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(endpoint);
      return;
    } catch {
      if (waited > 30_000) throw new Error(`moto_server did not answer at ${endpoint} within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
