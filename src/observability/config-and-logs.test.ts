import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { type AccessEntry, AccessLineEncoder, openAccessLog } from "./access-log.js";
import { lifecycleLog } from "./logger.js";
import { DEFAULT_PROMETHEUS_PATH, prometheusPath } from "./monitoring-config.js";
import { requestIdFrom } from "./request-observer.js";

describe("--monitoring_config_file", () => {
  const scratch = useScratchDir("monitoring-config");
  const file = async (text: string) => {
    const dir = scratch();
    await mkdir(dir, { recursive: true });
    const path = join(dir, "monitoring.config");
    await writeFile(path, text);
    return path;
  };
  const fails = (promise: Promise<unknown>, code: Code, message: RegExp) =>
    assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ServingError);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      return true;
    });

  it("enable with no path: TF Serving's default path", async () => {
    assert.equal(
      await prometheusPath(await file("prometheus_config { enable: true }")),
      DEFAULT_PROMETHEUS_PATH,
    );
    assert.equal(DEFAULT_PROMETHEUS_PATH, "/monitoring/prometheus/metrics");
  });

  it("a configured path; not enabled = no endpoint", async () => {
    assert.equal(
      await prometheusPath(await file('prometheus_config { enable: true path: "/metrics" }')),
      "/metrics",
    );
    assert.equal(await prometheusPath(await file('prometheus_config { path: "/metrics" }')), undefined);
    assert.equal(await prometheusPath(await file("")), undefined);
  });

  it("refuses paths under /v1/ or without a leading slash, bad syntax, and a missing file", async () => {
    await fails(
      prometheusPath(await file('prometheus_config { enable: true path: "/v1/metrics" }')),
      Code.INVALID_ARGUMENT,
      /\/v1\//,
    );
    await fails(
      prometheusPath(await file('prometheus_config { enable: true path: "metrics" }')),
      Code.INVALID_ARGUMENT,
      /start with \//,
    );
    await fails(
      prometheusPath(await file("prometheus_config { enable: yes please }")),
      Code.INVALID_ARGUMENT,
      /monitoring\.config/,
    );
    await fails(prometheusPath(join(scratch(), "absent.config")), Code.NOT_FOUND, /No such file/);
  });
});

describe("lifecycle log", () => {
  const capture = () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    return { stream, text: () => text };
  };

  it("text: an ISO time and the line", () => {
    const { stream, text } = capture();
    lifecycleLog("text", stream)("Exporting HTTP/REST API at:localhost:8501 ...", {
      event: "rest_listening",
      port: 8501,
    });
    assert.match(text(), /^\d{4}-\d\d-\d\dT[\d:.]+Z Exporting HTTP\/REST API at:localhost:8501 \.\.\.\n$/);
  });

  it("json: one object a line with level, time, msg and the fields; an error field makes a warning", async () => {
    const { stream, text } = capture();
    const log = lifecycleLog("json", stream);
    log("model m version 1: AVAILABLE", {
      event: "version_state",
      model: "m",
      version: "1",
      state: "AVAILABLE",
    });
    log("model m version 2: END (bad)", { event: "version_state", model: "m", version: "2", error: "bad" });
    await new Promise((resolve) => setImmediate(resolve));
    const [first, second] = text()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(first?.msg, "model m version 1: AVAILABLE");
    assert.equal(first?.level, 30);
    assert.equal(first?.state, "AVAILABLE");
    assert.equal(typeof first?.time, "string");
    assert.equal(second?.level, 40);
    assert.equal(second?.error, "bad");
  });
});

describe("request ids", () => {
  it("keeps a client's id of visible ASCII up to 128 characters, else generates a UUID", () => {
    assert.equal(requestIdFrom("abc-123_x.y:z/="), "abc-123_x.y:z/=");
    assert.equal(requestIdFrom(["first", "second"]), "first");
    for (const bad of [undefined, "", "has space", "new\nline", "x".repeat(129), "é", 'a"b', "a\\b"]) {
      assert.match(
        requestIdFrom(bad),
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
    const ids = Array.from({ length: 1000 }, () => requestIdFrom(undefined));
    assert.equal(new Set(ids).size, 1000, "generated ids are distinct");
  });
});

describe("access-log lines", () => {
  const encoder = new AccessLineEncoder();
  const encode = (entry: AccessEntry, micros: number, nowMs: number): string => {
    const bytes = Buffer.alloc(encoder.maxBytes(entry));
    return bytes.toString("utf8", 0, encoder.encode(entry, micros, nowMs, bytes, 0));
  };
  /** The line as pino would write it for `logger.info(fields, "request")`: the layout the encoder must match. */
  const pinoLine = (entry: AccessEntry, micros: number, nowMs: number): string =>
    `${JSON.stringify({
      level: 30,
      time: new Date(nowMs).toISOString(),
      msg: "request",
      request_id: entry.requestId,
      entrypoint: entry.entrypoint,
      api: entry.api,
      model: entry.model,
      version: entry.version === undefined ? null : String(entry.version),
      signature: entry.signature,
      status: entry.status,
      ...(entry.httpStatus === undefined ? {} : { http_status: entry.httpStatus }),
      latency_ms: Math.round(micros) / 1000,
    })}\n`;
  const entry = (fields: Partial<AccessEntry> = {}): AccessEntry => ({
    requestId: "r1",
    entrypoint: "REST",
    api: "Predict",
    model: "half_plus_two",
    version: 7n,
    signature: "serving_default",
    status: "OK",
    httpStatus: 200,
    ...fields,
  });

  it("are pino's JSON line byte for byte, whatever the names, ids and latencies hold", () => {
    const names = [
      "half_plus_two",
      'a"b',
      "back\\slash",
      "new\nline",
      "ünï",
      "emoji 🙂",
      "\u2028",
      "",
      "x".repeat(300),
    ];
    const ids = ["r1", "3f1c0000-1111-4222-8333-000000000001", 'q"uote', "tab\there", "ü"];
    const latencies = [0, 0.4, 1, 999, 1000, 1234.5, 1200, 5000, 999_999.6, 86_400_000_123];
    let lines = 0;
    for (const [i, name] of names.entries()) {
      for (const [j, requestId] of ids.entries()) {
        for (const [k, micros] of latencies.entries()) {
          const e = entry({
            requestId,
            model: name,
            signature: names[(i + k) % names.length] ?? "",
            version: k % 3 === 0 ? undefined : BigInt(k * 1000 + j),
            status: k % 4 === 0 ? "NOT_FOUND" : "OK",
            httpStatus: k % 5 === 0 ? undefined : 200 + k,
            api: j % 2 === 0 ? "Predict" : "GetModelMetadata",
          });
          const nowMs = 1_764_000_000_000 + i * 7919 + k;
          assert.equal(encode(e, micros, nowMs), pinoLine(e, micros, nowMs));
          lines++;
        }
      }
    }
    assert.equal(lines, names.length * ids.length * latencies.length);
  });

  it("write a latency that is not a finite non-negative number as 0", () => {
    for (const micros of [Number.NaN, -5, Number.POSITIVE_INFINITY]) {
      assert.equal((JSON.parse(encode(entry(), micros, 0)) as Record<string, unknown>).latency_ms, 0);
    }
  });

  it("are written whole and in order to a file, across flushes and for very long lines", async () => {
    const dir = await mkdtemp(join(tmpdir(), "access-log-"));
    try {
      const path = join(dir, "logs", "access.log");
      const log = openAccessLog(path);
      assert.ok(log);
      const models = ["a", "b", "x".repeat(5000), "ü"];
      for (let i = 0; i < 2000; i++) {
        const model = models[i % models.length] ?? "";
        log.write(
          {
            requestId: `r${i}`,
            entrypoint: "REST",
            api: "Predict",
            model,
            version: BigInt(i % 3),
            signature: "serving_default",
            status: "OK",
            httpStatus: 200,
          },
          i,
        );
      }
      await log.close();
      const lines = (await readFile(path, "utf8")).split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 2000);
      for (const [i, line] of lines.entries()) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual(
          [parsed.request_id, parsed.model, parsed.version, parsed.latency_ms],
          [`r${i}`, models[i % models.length], String(i % 3), i / 1000],
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
