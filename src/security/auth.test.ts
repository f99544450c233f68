import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Client, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import type { ServerCore } from "../core/server-core.js";
import { Code } from "../errors.js";
import { ModelService } from "../proto/gen/tensorflow_serving/apis/model_service_pb.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { ApiKeys, hashApiKey, newApiKey } from "./api-keys.js";
import { Authenticator } from "./auth.js";
import { securityInterceptor } from "./grpc-interceptor.js";
import { JwtVerifier } from "./jwt.js";
import { AUDIENCE, ISSUER, type TokenIssuer, tamper, tokenIssuer } from "./jwt.test-helpers.js";
import { floats, grpcCall, startBothApis, twoModelCore } from "./security.test-helpers.js";

const P = PredictionService.method;
const M = ModelService.method;
const KEY_ALL = newApiKey("alice").key;
const KEY_OTHER = newApiKey("bob").key;
const KEYS_FILE = `# test keys\n${hashApiKey(KEY_ALL)} alice\n${hashApiKey(KEY_OTHER)} bob models=other  # only "other"\n`;

describe("API keys file", () => {
  it("parses hashes, names and allow-lists; verifies keys by hash", () => {
    const keys = ApiKeys.parse(KEYS_FILE, "keys.txt");
    assert.equal(keys.size, 2);
    assert.deepEqual(keys.verify(KEY_ALL), { name: "alice", models: undefined });
    assert.deepEqual(keys.verify(KEY_OTHER), { name: "bob", models: new Set(["other"]) });
    assert.equal(keys.verify("tss_not-a-key"), undefined);
    assert.equal(keys.verify(""), undefined);
    // The well-known digest of "test".
    assert.equal(
      hashApiKey("test"),
      "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    );
  });

  it("new-api-key lines parse back, `models=*` means every model", () => {
    const { key, line } = newApiKey("ci-job", ["a", "b"]);
    assert.match(key, /^tss_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(ApiKeys.parse(line, "f").verify(key), { name: "ci-job", models: new Set(["a", "b"]) });
    const star = ApiKeys.parse(`${hashApiKey(key)} ci-job models=*`, "f");
    assert.deepEqual(star.verify(key), { name: "ci-job", models: undefined });
  });

  it("refuses plain keys, duplicates and bad lines, naming the line but never echoing it", () => {
    const plain = "tss_this-is-a-plain-key-by-mistake";
    assert.throws(
      () => ApiKeys.parse(`\n${plain} someone\n`, "keys.txt"),
      (error: Error) => {
        assert.equal(
          error.message,
          "--auth_api_keys_file keys.txt, line 2: expected sha256:<64 hex digits> (the file stores key hashes, not keys)",
        );
        return true;
      },
    );
    const line = `${hashApiKey(KEY_ALL)} alice`;
    assert.throws(() => ApiKeys.parse(`${line}\n${line}`, "k"), /line 2: the same key hash appears twice/);
    assert.throws(() => ApiKeys.parse(hashApiKey(KEY_ALL), "k"), /line 1: expected a caller name/);
    assert.throws(() => ApiKeys.parse(`${line} scope=x`, "k"), /line 1: unknown option/);
  });
});

describe("authentication on the REST and gRPC APIs", needsFixtures, () => {
  const freshDir = useScratchDir("auth");
  let core: ServerCore;
  let issuer: TokenIssuer;
  let restBase: string;
  let client: Client;
  let closeApis = () => {};

  before(async () => {
    core = await twoModelCore(freshDir("models"));
    issuer = await tokenIssuer();
    const auth = new Authenticator({
      apiKeys: ApiKeys.parse(KEYS_FILE, "keys.txt"),
      jwt: new JwtVerifier(issuer.jwks, { issuer: ISSUER, audience: AUDIENCE }),
    });
    const apis = await startBothApis(core, { auth }, { interceptors: [securityInterceptor({ auth })] });
    ({ restBase, client, close: closeApis } = apis);
  });
  after(async () => {
    closeApis();
    await core.stop();
  });

  const restPredict = async (model: string, headers: Record<string, string>) => {
    const response = await fetch(`${restBase}/v1/models/${model}:predict`, {
      method: "POST",
      headers,
      body: '{"instances": [1.0, 2.0]}',
    });
    return {
      status: response.status,
      challenge: response.headers.get("www-authenticate"),
      text: await response.text(),
    };
  };
  const grpcPredict = (model: string, metadata: Record<string, string>) =>
    grpcCall(client, P.predict, { modelSpec: { name: model }, inputs: { x: floats([1, 2]) } }, metadata);

  /** Both APIs refuse `headers` (sent as gRPC metadata too) with `code`, a message matching `message`, and no echo. */
  const refusedOnBoth = async (
    model: string,
    headers: Record<string, string>,
    code: Code.UNAUTHENTICATED | Code.PERMISSION_DENIED,
    message: RegExp,
  ) => {
    const secrets = Object.values(headers).map((v) => v.replace(/^Bearer /i, ""));
    const reply = await restPredict(model, headers);
    assert.equal(reply.status, code === Code.UNAUTHENTICATED ? 401 : 403, reply.text);
    const error = (JSON.parse(reply.text) as { error: string }).error;
    assert.match(error, message);
    if (code === Code.UNAUTHENTICATED) assert.equal(reply.challenge, 'Bearer realm="ts-serving"');
    await assert.rejects(grpcPredict(model, headers), (e: ServiceError) => {
      assert.equal(e.code, code as number, `${status[e.code]}: ${e.details}`);
      assert.match(e.details, message);
      for (const secret of secrets) assert.ok(!e.details.includes(secret));
      return true;
    });
    for (const secret of secrets) assert.ok(!reply.text.includes(secret), "the credential is not echoed");
  };
  const acceptedOnBoth = async (model: string, headers: Record<string, string>) => {
    const reply = await restPredict(model, headers);
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(JSON.parse(reply.text), { predictions: [2.5, 3] });
    const response = await grpcPredict(model, headers);
    assert.deepEqual(response.outputs.y?.floatVal, [2.5, 3]);
  };
  const U = Code.UNAUTHENTICATED;
  const now = () => Math.floor(Date.now() / 1000);

  it("missing credentials → 401 / UNAUTHENTICATED", async () => {
    await refusedOnBoth("half_plus_two", {}, U, /^Missing credentials/);
  });

  it("wrong API key (x-api-key or Bearer) and a non-Bearer scheme → 401", async () => {
    await refusedOnBoth("half_plus_two", { "x-api-key": "tss_wrong-key-123" }, U, /^Invalid API key$/);
    await refusedOnBoth(
      "half_plus_two",
      { authorization: "Bearer tss_wrong-key-123" },
      U,
      /^Invalid API key$/,
    );
    await refusedOnBoth(
      "half_plus_two",
      { authorization: `Basic ${KEY_ALL}` },
      U,
      /^Unsupported Authorization header/,
    );
  });

  it("expired, wrong-audience, wrong-issuer and not-yet-valid tokens → 401 saying which check failed", async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    await refusedOnBoth(
      "half_plus_two",
      bearer(await issuer.token({ exp: now() - 3600 })),
      U,
      /^Invalid token: expired$/,
    );
    await refusedOnBoth(
      "half_plus_two",
      bearer(await issuer.token({ aud: "someone-else" })),
      U,
      /wrong audience$/,
    );
    await refusedOnBoth(
      "half_plus_two",
      bearer(await issuer.token({ iss: "https://evil.test" })),
      U,
      /wrong issuer$/,
    );
    await refusedOnBoth(
      "half_plus_two",
      bearer(await issuer.token({ nbf: now() + 3600 })),
      U,
      /not yet valid$/,
    );
    // A token without `exp` never expires: refused.
    const noExp = await issuer.token({ exp: undefined });
    await refusedOnBoth("half_plus_two", bearer(noExp), U, /^Invalid token: claim "exp" check failed$/);
  });

  it("tampered, forged and unsigned tokens → 401", async () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const limited = await issuer.token({ models: ["other"] });
    const widened = tamper(limited, { models: ["half_plus_two", "other"] });
    await refusedOnBoth(
      "half_plus_two",
      bearer(widened),
      U,
      /^Invalid token: signature verification failed$/,
    );
    await refusedOnBoth(
      "half_plus_two",
      bearer(await issuer.forgedToken()),
      U,
      /signature verification failed$/,
    );
    await refusedOnBoth("half_plus_two", bearer(issuer.unsignedToken()), U, /^Invalid token: /);
    await refusedOnBoth("half_plus_two", bearer("a.b.c"), U, /^Invalid token: malformed$/);
  });

  it("valid API keys (both headers) and a valid token pass", async () => {
    await acceptedOnBoth("half_plus_two", { "x-api-key": KEY_ALL });
    await acceptedOnBoth("half_plus_two", { authorization: `Bearer ${KEY_ALL}` });
    await acceptedOnBoth("half_plus_two", { authorization: `Bearer ${await issuer.token()}` });
  });

  it("per-model allow-lists: a key or token outside its models → 403 / PERMISSION_DENIED", async () => {
    const P403 = Code.PERMISSION_DENIED;
    await refusedOnBoth(
      "half_plus_two",
      { "x-api-key": KEY_OTHER },
      P403,
      /^Caller "bob" may not use model "half_plus_two"$/,
    );
    await acceptedOnBoth("other", { "x-api-key": KEY_OTHER });
    const token = await issuer.token({ sub: "svc-other", models: "other" });
    await refusedOnBoth(
      "half_plus_two",
      { authorization: `Bearer ${token}` },
      P403,
      /"svc-other" may not use model/,
    );
    await acceptedOnBoth("other", { authorization: `Bearer ${token}` });
  });

  it("model status and metadata need credentials too; ReloadConfig needs a caller allowed every model", async () => {
    assert.equal((await fetch(`${restBase}/v1/models/half_plus_two`)).status, 401);
    assert.equal((await fetch(`${restBase}/v1/models/half_plus_two/metadata`)).status, 401);
    const withKey = { headers: { "x-api-key": KEY_ALL } };
    assert.equal((await fetch(`${restBase}/v1/models/half_plus_two`, withKey)).status, 200);
    // An unauthenticated caller cannot tell a missing model from an existing one.
    assert.equal((await fetch(`${restBase}/v1/models/no_such_model`)).status, 401);

    const reload = (key: string) =>
      grpcCall(client, M.handleReloadConfigRequest, { config: {} }, { "x-api-key": key });
    await assert.rejects(reload(KEY_OTHER), (e: ServiceError) => e.code === status.PERMISSION_DENIED);
    // alice passes the check; the empty config is then refused by the handler itself.
    await assert.rejects(reload(KEY_ALL), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
  });

  it("the gRPC health service needs credentials unless left open", async () => {
    // HealthCheckRequest{service: ""} is the empty message.
    const check = (key?: string) =>
      new Promise<Buffer>((resolve, reject) => {
        const metadata = new Metadata();
        if (key !== undefined) metadata.set("x-api-key", key);
        client.makeUnaryRequest(
          "/grpc.health.v1.Health/Check",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          metadata,
          {},
          (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
        );
      });
    await assert.rejects(check(), (e: ServiceError) => e.code === status.UNAUTHENTICATED);
    // HealthCheckResponse{status: SERVING (1)}.
    assert.deepEqual([...(await check(KEY_OTHER))], [0x08, 0x01]);
    const open = new Authenticator({ apiKeys: ApiKeys.parse(KEYS_FILE, "k"), openHealthAndMetrics: true });
    assert.equal(await open.authorize({}, { kind: "health" }), undefined);
    await assert.rejects(open.authorize({}, { kind: "model", models: ["other"] }), {
      code: Code.UNAUTHENTICATED,
    });
  });
});
