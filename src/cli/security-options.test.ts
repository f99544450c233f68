import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { useScratchDir } from "../../test/scratch.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import { Observability } from "../observability/observability.js";
import { ApiKeys, newApiKey } from "../security/api-keys.js";
import { Authenticator } from "../security/auth.js";
import { makeTestCerts, sslConfigText } from "../security/certs.test-helpers.js";
import { addApiKeyCommand } from "./api-key-command.js";
import { guardMetrics, securityOptions } from "./security-options.js";
import { addServerFlags, serverFlags } from "./server-flags.js";

const parse = (...argv: string[]) => {
  const command = addServerFlags(new Command()).exitOverride();
  command.parse(argv, { from: "user" });
  return serverFlags(command.opts());
};

describe("security and limits flags", () => {
  const freshDir = useScratchDir("security-flags");

  it("are off by default, with the documented limits", async () => {
    const flags = parse();
    const options = await securityOptions(flags);
    assert.deepEqual(options.summary, []);
    assert.equal(options.rest.auth, undefined);
    assert.equal(options.rest.limiter, undefined);
    assert.equal(options.rest.tls, undefined);
    assert.deepEqual(options.grpc, {});
    assert.equal(options.rest.maxBodyBytes, 256 * 1024 * 1024);
    assert.equal(options.rest.headersTimeoutMs, 60_000);
    assert.equal(options.rest.requestTimeoutMs, 300_000);
  });

  it("reject inconsistent combinations with a clear message", () => {
    assert.throws(() => parse("--auth_jwks_file=j.json", "--auth_jwt_audience=a"), {
      message: "--auth_jwks_file needs --auth_jwt_issuer: tokens are checked against it",
    });
    assert.throws(() => parse("--auth_jwt_issuer=https://x"), {
      message: "--auth_jwt_issuer needs --auth_jwks_file",
    });
    assert.throws(() => parse("--max_concurrent_requests_per_model=-1"), /must be >= 0/);
    assert.throws(() => parse("--rest_api_headers_timeout_ms=5000", "--rest_api_request_timeout_ms=1000"), {
      message: "--rest_api_headers_timeout_ms must be <= --rest_api_request_timeout_ms (node requires it)",
    });
  });

  it("build TLS for both ports (REST opt-out), auth and the limiter from the files", async () => {
    const dir = freshDir("files");
    const certs = makeTestCerts(join(dir, "certs"));
    writeFileSync(join(dir, "ssl.pbtxt"), sslConfigText(certs, true));
    writeFileSync(join(dir, "keys.txt"), `${newApiKey("alice").line}\n`);
    const flags = parse(
      `--ssl_config_file=${join(dir, "ssl.pbtxt")}`,
      `--auth_api_keys_file=${join(dir, "keys.txt")}`,
      "--max_concurrent_requests_per_model=4",
    );
    const options = await securityOptions(flags);
    assert.deepEqual(options.summary, [
      "gRPC: mTLS (client certificates required); REST: mTLS (client certificates required)",
      "authentication required: 1 API keys",
      "at most 4 concurrent inference requests per model",
    ]);
    assert.equal(options.rest.tls?.clientVerify, true);
    assert.equal(options.rest.limiter?.limit, 4);
    assert.ok(options.grpc.credentials && options.grpc.interceptor && options.rest.auth);
    const plainRest = await securityOptions(
      parse(`--ssl_config_file=${join(dir, "ssl.pbtxt")}`, "--rest_api_enable_ssl=false"),
    );
    assert.equal(plainRest.rest.tls, undefined);
    assert.ok(plainRest.grpc.credentials);
    assert.deepEqual(plainRest.summary, ["gRPC: mTLS (client certificates required); REST: plain HTTP"]);
  });

  it("fail the start on a missing keys file, naming it", async () => {
    await assert.rejects(securityOptions(parse("--auth_api_keys_file=/nonexistent/keys.txt")), {
      message: "--auth_api_keys_file /nonexistent/keys.txt: cannot be read",
    });
  });
});

describe("ts-serving new-api-key", () => {
  it("prints a key once and the keys-file line that authorizes it", () => {
    let out = "";
    const program = new Command().exitOverride();
    addApiKeyCommand(program, (text) => {
      out += text;
    });
    program.parse(["new-api-key", "--name", "ci-job", "--models", "a,b"], { from: "user" });
    const [, key = "", , line = ""] = out.split("\n").map((l) => l.trim());
    assert.deepEqual(ApiKeys.parse(line, "out").verify(key), { name: "ci-job", models: new Set(["a", "b"]) });
  });
});

describe("metrics endpoint behind authentication", () => {
  const path = "/monitoring/prometheus/metrics";
  const key = newApiKey("prometheus");
  let observability: Observability;
  const servers: { base: string; close: () => void }[] = [];
  const start = async (openHealthAndMetrics: boolean) => {
    const auth = new Authenticator({ apiKeys: ApiKeys.parse(key.line, "k"), openHealthAndMetrics });
    const backend = {
      acquire: () => {
        throw new Error("no models in this test");
      },
      status: () => [],
    };
    const { server, port } = await startRestServer({
      backend,
      port: 0,
      host: "127.0.0.1",
      auth,
      observability: guardMetrics(observability.rest, auth, path),
    });
    servers.push({ base: `http://127.0.0.1:${port}`, close: () => server.close() });
    return `http://127.0.0.1:${port}`;
  };
  before(() => {
    observability = new Observability({ prometheusPath: path, defaultMetrics: false });
  });
  after(async () => {
    for (const s of servers) s.close();
    await observability.close();
  });

  it("needs credentials by default, and is open with --auth_open_health_and_metrics", async () => {
    const closed = await start(false);
    const refused = await fetch(`${closed}${path}`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="ts-serving"');
    const allowed = await fetch(`${closed}${path}`, { headers: { authorization: `Bearer ${key.key}` } });
    assert.equal(allowed.status, 200);
    assert.match(await allowed.text(), /^# HELP /m);
    const open = await start(true);
    assert.equal((await fetch(`${open}${path}`)).status, 200);
  });
});
