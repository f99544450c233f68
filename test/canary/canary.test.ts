// Canary releases end to end: a real server (startModelServer, REST and gRPC on 127.0.0.1) with a
// model whose versions answer y = x * <version>, so each response names the version that computed it;
// `rollout` and `rollback` edit the files the server polls.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { rollback, rollout } from "../../src/cli/rollout.js";
import { type RunningServer, startModelServer } from "../../src/cli/serve.js";
import { serverFlags } from "../../src/cli/server-flags.js";
import { writeScaleModel } from "../../src/core/core.test-helpers.js";
import {
  type PredictRequest,
  PredictRequestSchema,
  PredictResponseSchema,
} from "../../src/proto/gen/tensorflow_serving/apis/predict_pb.js";
import { DataType } from "../../src/tensor/dtype.js";
import { freePort, sleep } from "../rest/helpers.js";
import { useScratchDir } from "../scratch.js";

const POLL_SECONDS = 1;

describe("canary and rollback", () => {
  const scratchDir = useScratchDir("canary");
  let server: RunningServer;
  let dir = "";
  let url = "";
  let grpc: Client;
  const lines: { at: number; line: string }[] = [];

  before(async () => {
    dir = scratchDir("repo");
    const base = join(dir, "ranking");
    await writeScaleModel(join(base, "1"), 1);
    await writeScaleModel(join(base, "2"), 2);
    // Version 1 only, as before a canary: `rollout` widens the policy.
    await writeFile(
      join(dir, "models.config"),
      `model_config_list { config { name: "ranking" base_path: "${base}" model_platform: "tensorflow" ` +
        "model_version_policy { specific { versions: 1 } } } }\n",
    );
    await writeFile(join(dir, "traffic_split.json"), "{}\n");
    const flags = serverFlags({
      model_config_file: join(dir, "models.config"),
      model_config_file_poll_wait_seconds: String(POLL_SECONDS),
      file_system_poll_wait_seconds: "1",
      traffic_split_file: join(dir, "traffic_split.json"),
      rest_api_port: String(await freePort()),
      port: String(await freePort()),
    });
    server = await startModelServer(flags, (line) => lines.push({ at: performance.now(), line }));
    url = `http://127.0.0.1:${server.restPort}/v1/models/ranking:predict`;
    grpc = new Client(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure());
  });
  after(async () => {
    grpc?.close();
    await server?.stop();
  });

  /** One predict over REST; resolves with the version that answered (y/x). */
  const predict = async (headers: Record<string, string> = {}): Promise<number> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: '{"instances": [[1, 2, 3, 4]]}',
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text}`);
    return (JSON.parse(text) as { predictions: number[][] }).predictions[0]![0]!;
  };

  /** One gRPC Predict with `x-user-id` metadata; resolves with the version that answered. */
  const predictGrpc = (userId: string): Promise<number> => {
    const metadata = new Metadata();
    metadata.set("x-user-id", userId);
    const request = create(PredictRequestSchema, {
      modelSpec: { name: "ranking" },
      inputs: {
        x: {
          dtype: DataType.DT_FLOAT,
          tensorShape: { dim: [{ size: 1n }, { size: 4n }] },
          floatVal: [1, 2, 3, 4],
        },
      },
    });
    return new Promise((resolve, reject) => {
      grpc.makeUnaryRequest(
        "/tensorflow.serving.PredictionService/Predict",
        (m: PredictRequest) => Buffer.from(toBinary(PredictRequestSchema, m)),
        (b: Buffer) => fromBinary(PredictResponseSchema, b),
        request,
        metadata,
        (error, value) => (error || !value ? reject(error) : resolve(value.outputs.y!.floatVal[0]!)),
      );
    });
  };

  /** Runs `n` calls of `one` with `concurrency` in flight; resolves with their results in order. */
  const many = async <T>(n: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> => {
    const out: T[] = new Array(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          out[i] = await one(i);
        }
      }),
    );
    return out;
  };

  const untilTrue = async (what: string, done: () => boolean): Promise<void> => {
    for (let waited = 0; !done(); waited += 50) {
      if (waited > 30_000)
        throw new Error(`timed out waiting for ${what}: ${lines.map((l) => l.line).join("\n")}`);
      await sleep(50);
    }
  };

  it("rollout --canary 10: 2,000 requests land within ±3 points of 90/10", async () => {
    assert.equal(await predict(), 1, "version 1 alone before the rollout");
    const said = await rollout({
      config: join(dir, "models.config"),
      model: "ranking",
      version: 2n,
      canary: 10,
      stickyHeader: "x-user-id",
    });
    assert.match(said, /now loads versions 1, 2/);
    assert.match(said, /90% to 1 \(stable\), 10% to 2 \(canary\), sticky by x-user-id/);
    await untilTrue("version 2 AVAILABLE", () => server.core.availableVersions("ranking").includes(2n));
    await untilTrue("the split", () => server.core.trafficSplit().get("ranking")?.entries.length === 2);

    const versions = await many(2000, 16, () => predict());
    const canary = versions.filter((v) => v === 2).length / versions.length;
    assert.equal(versions.filter((v) => v !== 1 && v !== 2).length, 0);
    console.log(`canary share over 2,000 requests: ${(canary * 100).toFixed(1)}%`);
    assert.ok(Math.abs(canary - 0.1) <= 0.03, `canary share ${canary}`);
  });

  it("sticky keys always reach the same version, over REST and gRPC alike", async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `user-${i}`);
    const byKey = new Map<string, Set<number>>();
    await many(500, 16, async (i) => {
      const key = keys[i % 100]!;
      const version = await predict({ "X-User-Id": key });
      byKey.set(key, (byKey.get(key) ?? new Set()).add(version));
    });
    for (const [key, seen] of byKey) assert.equal(seen.size, 1, `${key} reached versions ${[...seen]}`);
    const onCanary = keys.filter((k) => byKey.get(k)?.has(2));
    console.log(`sticky keys on the canary: ${onCanary.length}/100`);
    assert.ok(onCanary.length > 0 && onCanary.length < 100, "both versions have keys");
    for (const key of keys.slice(0, 20)) {
      assert.equal(await predictGrpc(key), [...byKey.get(key)!][0], `gRPC metadata pins ${key} the same way`);
    }
    assert.deepEqual(await predict({ "x-user-id": "user-0" }), [...byKey.get("user-0")!][0]);
  });

  it("a bad split file is logged and the split in force stays", async () => {
    const before = server.core.trafficSplit();
    await writeFile(join(dir, "traffic_split.json"), '{"ranking": {"weights": {"1": -5}}}');
    await untilTrue("the failed reload", () => lines.some((l) => l.line.includes("traffic split reload")));
    assert.match(
      lines.find((l) => l.line.includes("traffic split reload"))!.line,
      /failed, keeping the current split: .*weight of "1" must be a non-negative integer, got -5/,
    );
    assert.equal(server.core.trafficSplit(), before);
    // Back to the rollout's file (the bad text is not re-reported).
    await writeFile(
      join(dir, "traffic_split.json"),
      '{"ranking": {"weights": {"1": 90, "2": 10}, "stable": "1", "sticky_header": "x-user-id"}}',
    );
    await untilTrue("the split again", () => server.core.trafficSplit() !== before);
  });

  it("rollback under load: all traffic on version 1 within one poll interval, zero failed requests", async () => {
    const failures: string[] = [];
    const answers: { sentAt: number; version: number }[] = [];
    let loadOn = true;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; loadOn; i++) {
          const sentAt = performance.now();
          try {
            const headers: Record<string, string> =
              worker % 2 === 0 ? { "x-user-id": `u${worker}-${i}` } : {};
            answers.push({ sentAt, version: await predict(headers) });
          } catch (error: unknown) {
            failures.push(String(error));
          }
        }
      }),
    );
    await sleep(500);
    const appliedLines = lines.length;
    const rolledBackAt = performance.now();
    assert.match(
      await rollback({ config: join(dir, "models.config"), model: "ranking" }),
      /100% to 1 \(stable\)/,
    );
    await untilTrue("the rollback", () =>
      lines
        .slice(appliedLines)
        .some((l) => l.line.includes("traffic split from") && l.line.includes("1 100")),
    );
    const appliedAt = lines.slice(appliedLines).find((l) => l.line.includes("1 100"))!.at;
    await sleep(1000);
    loadOn = false;
    await load;

    const after = answers.filter((a) => a.sentAt > appliedAt);
    const beforeRollback = answers.filter((a) => a.sentAt < rolledBackAt);
    const delayMs = appliedAt - rolledBackAt;
    console.log(
      `rollback applied ${delayMs.toFixed(0)} ms after the write (poll ${POLL_SECONDS * 1000} ms); ${answers.length} requests, ${failures.length} failed`,
    );
    assert.deepEqual(failures, [], "zero failed requests");
    assert.ok(delayMs <= POLL_SECONDS * 1000 + 250, `applied within one poll interval: ${delayMs} ms`);
    assert.ok(
      beforeRollback.some((a) => a.version === 2),
      "the canary had traffic before",
    );
    assert.ok(after.length > 100, `traffic after the rollback: ${after.length}`);
    assert.deepEqual(
      after.filter((a) => a.version !== 1),
      [],
      "every request sent after the rollback was applied reached version 1",
    );
    assert.deepEqual(server.core.availableVersions("ranking"), [2n, 1n], "the canary stays loaded");
  });
});
