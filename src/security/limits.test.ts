import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Client, type ServiceError, status } from "@grpc/grpc-js";
import { needsFixtures } from "../../test/fixtures.js";
import { gate, post, slowServable } from "../../test/rest/helpers.js";
import { useScratchDir } from "../../test/scratch.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import type { ServerCore } from "../core/server-core.js";
import { PredictionService } from "../proto/gen/tensorflow_serving/apis/prediction_service_pb.js";
import { loadServable } from "../runtime/servable.js";
import { securityInterceptor } from "./grpc-interceptor.js";
import { ConcurrencyLimiter } from "./limits.js";
import { floats, grpcCall, startBothApis, twoModelCore } from "./security.test-helpers.js";

const P = PredictionService.method;
const MAX_BYTES = 1024;

describe("ConcurrencyLimiter", () => {
  it("counts per model, refuses the excess, frees a slot once per release", () => {
    const limiter = new ConcurrencyLimiter(2);
    const a1 = limiter.enter("a");
    const a2 = limiter.enter("a");
    assert.throws(() => limiter.enter("a"), {
      name: "ServingError",
      message: /at its limit of 2 concurrent requests/,
    });
    const b = limiter.enter("b");
    a1();
    a1();
    assert.equal(limiter.active("a"), 1);
    const a3 = limiter.enter("a");
    assert.throws(() => limiter.enterAll(["b", "a"]), { message: /"a" is at its limit/ });
    assert.equal(limiter.active("b"), 1, "enterAll took nothing when one model was full");
    a3();
    a2();
    b();
    assert.equal(limiter.active("a") + limiter.active("b"), 0);
    const unlimited = new ConcurrencyLimiter(0);
    for (let i = 0; i < 100; i++) unlimited.enter("a");
  });
});

describe("request limits on the REST and gRPC APIs", needsFixtures, () => {
  const freshDir = useScratchDir("limits");
  // half_plus_two runs are held at `hooks.until` (after `hooks.onRun`); `other` runs at once.
  const hooks: { onRun?: () => void; until?: Promise<void> } = {};
  let core: ServerCore;
  let restBase: string;
  let client: Client;
  let closeApis = () => {};

  before(async () => {
    core = await twoModelCore(freshDir("models"), async (dir) => {
      const servable = await loadServable(dir);
      return /half_plus_two/.test(dir) ? slowServable(servable, 0, hooks) : servable;
    });
    // One limiter for both APIs: the limit is per model across the server.
    const limiter = new ConcurrencyLimiter(1);
    const apis = await startBothApis(
      core,
      { limiter, maxBodyBytes: MAX_BYTES },
      { maxReceiveMessageBytes: MAX_BYTES, interceptors: [securityInterceptor({ limiter })] },
    );
    ({ restBase, client, close: closeApis } = apis);
  });
  after(async () => {
    closeApis();
    await core.stop();
  });

  const restPredict = (model: string, body = '{"instances": [1.0, 2.0]}') =>
    post(restBase, `/v1/models/${model}:predict`, body);
  const grpcPredict = (model: string, values = [1, 2]) =>
    grpcCall(client, P.predict, { modelSpec: { name: model }, inputs: { x: floats(values) } });
  const resourceExhausted = (pattern: RegExp) => (e: ServiceError) => {
    assert.equal(e.code, status.RESOURCE_EXHAUSTED, `${status[e.code]}: ${e.details}`);
    assert.match(e.details, pattern);
    return true;
  };
  /** Holds half_plus_two's next run; resolves once it is running (its slot taken). */
  const holdNextRun = () => {
    const running = gate();
    const release = gate();
    hooks.onRun = running.open;
    hooks.until = release.promise;
    return {
      running: running.promise,
      release: () => {
        delete hooks.onRun;
        delete hooks.until;
        release.open();
      },
    };
  };

  it("over-concurrent requests are refused at once (REST 503, gRPC RESOURCE_EXHAUSTED) while others succeed", async () => {
    const held = holdNextRun();
    const first = restPredict("half_plus_two");
    await held.running;

    const refused = await restPredict("half_plus_two");
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.match(
      (refused.json() as { error: string }).error,
      /^Model "half_plus_two" is at its limit of 1 concurrent requests/,
    );
    await assert.rejects(grpcPredict("half_plus_two"), resourceExhausted(/at its limit of 1 concurrent/));
    // Another model is not affected, on either API.
    assert.deepEqual((await restPredict("other")).json(), { predictions: [2.5, 3] });
    assert.deepEqual((await grpcPredict("other")).outputs.y?.floatVal, [2.5, 3]);

    held.release();
    assert.deepEqual((await first).json(), { predictions: [2.5, 3] });
    // The slot is free again.
    assert.equal((await restPredict("half_plus_two")).status, 200);
  });

  it("a held gRPC call takes the slot from REST too, and frees it when it ends", async () => {
    const held = holdNextRun();
    const first = grpcPredict("half_plus_two");
    await held.running;
    assert.equal((await restPredict("half_plus_two")).status, 503);
    await assert.rejects(grpcPredict("half_plus_two"), resourceExhausted(/at its limit/));
    held.release();
    assert.deepEqual((await first).outputs.y?.floatVal, [2.5, 3]);
    assert.deepEqual((await grpcPredict("half_plus_two")).outputs.y?.floatVal, [2.5, 3]);
  });

  it("oversized REST bodies → 413 and oversized gRPC messages → RESOURCE_EXHAUSTED, others still served", async () => {
    const big = `{"instances": [${Array.from({ length: 400 }, () => "1.0").join(", ")}]}`;
    assert.ok(big.length > MAX_BYTES);
    const refused = await restPredict("other", big);
    assert.equal(refused.status, 413);
    assert.equal(
      (refused.json() as { error: string }).error,
      `Request body exceeds the limit of ${MAX_BYTES} bytes`,
    );
    await assert.rejects(
      grpcPredict(
        "other",
        Array.from({ length: 400 }, () => 1),
      ),
      resourceExhausted(/larger than max/),
    );
    assert.equal((await restPredict("other")).status, 200);
    assert.deepEqual((await grpcPredict("other")).outputs.y?.floatVal, [2.5, 3]);
  });
});

// The timeout only guards against a hang if the server never answered; nothing is timed.
describe("REST slow-client timeouts", { ...needsFixtures, timeout: 120_000 }, () => {
  const freshDir = useScratchDir("slow-clients");
  let core: ServerCore;
  let port: number;
  let close: () => void = () => {};

  before(async () => {
    core = await twoModelCore(freshDir("models"));
    const rest = await startRestServer({
      backend: core,
      port: 0,
      host: "127.0.0.1",
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
    });
    port = rest.port;
    close = () => {
      rest.server.close();
      rest.server.closeAllConnections();
    };
  });
  after(async () => {
    close();
    await core.stop();
  });

  /** Writes `text` and never finishes the request; resolves with what the server sent before it closed. */
  const stall = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => socket.write(text));
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        received += chunk;
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(received));
    });

  it("a client that never finishes its headers or its body gets 408 and is disconnected", async () => {
    const headers = stall("POST /v1/models/other:predict HTTP/1.1\r\nHost: x\r\n");
    const body = stall(
      'POST /v1/models/other:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"instances": [',
    );
    // Meanwhile a well-behaved client is served.
    const ok = await post(`http://127.0.0.1:${port}`, "/v1/models/other:predict", '{"instances": [1.0]}');
    assert.deepEqual(ok.json(), { predictions: [2.5] });
    assert.match(await headers, /^HTTP\/1\.1 408 /);
    assert.match(await body, /^HTTP\/1\.1 408 /);
  });
});
