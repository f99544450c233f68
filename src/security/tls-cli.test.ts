// The real CLI with --ssl_config_file: it announces an https:// REST address and answers predict
// over HTTPS, verified against the test CA.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { startCli } from "../../test/rest/helpers.js";
import { useScratchDir } from "../../test/scratch.js";
import { makeTestCerts, sslConfigText } from "./certs.test-helpers.js";

// The timeout only guards against a hung child process; nothing is timed.
describe("ts-serving --ssl_config_file", { ...needsFixtures, timeout: 120_000 }, () => {
  const freshDir = useScratchDir("tls-cli");

  it("announces https:// and serves REST predict over TLS", async () => {
    const certs = makeTestCerts(freshDir("certs"));
    const config = join(certs.dir, "ssl.pbtxt");
    writeFileSync(config, sslConfigText(certs, false));
    const cli = await startCli(
      [
        `--model_base_path=${dirname(tfServingModel("saved_model_half_plus_two_cpu"))}`,
        "--model_name=half_plus_two",
        "--file_system_poll_wait_seconds=0",
        `--ssl_config_file=${config}`,
      ],
      60_000,
    );
    try {
      const port = /REST on https:\/\/localhost:(\d+)/.exec(cli.output())?.[1];
      assert.ok(port, cli.output());
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            servername: "localhost",
            port: Number(port),
            path: "/v1/models/half_plus_two:predict",
            method: "POST",
            ca: certs.caCert,
          },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ instances: [1.0, 2.0, 5.0] }));
      });
      assert.deepEqual(JSON.parse(body), { predictions: [2.5, 3.0, 4.5] });
    } finally {
      await cli.stop();
    }
  });
});
