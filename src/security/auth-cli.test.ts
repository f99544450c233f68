// The real CLI with authentication on and every log enabled (lifecycle JSON logs and the access log):
// refused and accepted credentials over both APIs, then nothing of a key or token may appear in its output.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { startCli } from "../../test/rest/helpers.js";
import { useScratchDir } from "../../test/scratch.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { hashApiKey, newApiKey } from "./api-keys.js";
import { AUDIENCE, ISSUER, tamper, tokenIssuer } from "./jwt.test-helpers.js";
import { floats, grpcCall } from "./security.test-helpers.js";

// The timeout only guards against a hung child process; nothing is timed.
const options = { ...needsFixtures, timeout: 180_000 };

describe("ts-serving with authentication: nothing about a key or token reaches the logs", options, () => {
  const freshDir = useScratchDir("auth-cli");

  it("refuses wrong/expired/tampered credentials, accepts good ones, and logs none of them", async () => {
    const dir = freshDir("config");
    mkdirSync(dir, { recursive: true });
    const key = newApiKey("alice");
    const issuer = await tokenIssuer();
    writeFileSync(join(dir, "keys.txt"), `${key.line}\n`);
    writeFileSync(join(dir, "jwks.json"), JSON.stringify(issuer.jwks));
    const wrongKey = "tss_wrong-but-secret-looking-key-0123456789";
    const token = await issuer.token();
    const expired = await issuer.token({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const tampered = tamper(token, { sub: "mallory" });

    const cli = await startCli(
      [
        `--model_base_path=${dirname(tfServingModel("saved_model_half_plus_two_cpu"))}`,
        "--model_name=half_plus_two",
        "--file_system_poll_wait_seconds=0",
        `--auth_api_keys_file=${join(dir, "keys.txt")}`,
        `--auth_jwks_file=${join(dir, "jwks.json")}`,
        `--auth_jwt_issuer=${ISSUER}`,
        `--auth_jwt_audience=${AUDIENCE}`,
        "--access_log=stdout",
        "--log_format=json",
      ],
      60_000,
    );
    const grpcPort = /gRPC on localhost:(\d+)/.exec(cli.output())?.[1];
    assert.ok(grpcPort, cli.output());
    const client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    try {
      const attempts: [Record<string, string>, number][] = [
        [{ "x-api-key": wrongKey }, 401],
        [{ authorization: `Bearer ${wrongKey}` }, 401],
        [{ authorization: `Bearer ${expired}` }, 401],
        [{ authorization: `Bearer ${tampered}` }, 401],
        [{ "x-api-key": key.key }, 200],
        [{ authorization: `Bearer ${token}` }, 200],
      ];
      for (const [headers, expected] of attempts) {
        const reply = await fetch(`${cli.base}/v1/models/half_plus_two:predict`, {
          method: "POST",
          headers,
          body: '{"instances": [1.0]}',
        });
        assert.equal(reply.status, expected, await reply.text());
        const call = grpcCall(
          client,
          PredictionService.method.predict,
          { modelSpec: { name: "half_plus_two" }, inputs: { x: floats([1]) } },
          headers,
        );
        if (expected === 200) assert.deepEqual((await call).outputs.y?.floatVal, [2.5]);
        else await assert.rejects(call, (e: ServiceError) => e.code === status.UNAUTHENTICATED);
      }
    } finally {
      client.close();
      await cli.stop();
    }

    const output = cli.output();
    // The access log did record the refusals (so the check below is over real log lines).
    assert.match(output, /UNAUTHENTICATED/);
    const secrets = [
      key.key,
      hashApiKey(key.key).slice("sha256:".length),
      wrongKey,
      token,
      expired,
      tampered,
    ];
    // Every part of every token too: header, payload and signature.
    const parts = [token, expired, tampered].flatMap((t) => t.split(".")).filter((p) => p.length > 20);
    for (const secret of [...secrets, ...parts]) {
      assert.ok(!output.includes(secret), `a credential appears in the server output:\n${output}`);
    }
  });
});
