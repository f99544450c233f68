// RequestObserver reports finished requests in batches, once per event-loop turn: whoever reads the
// metrics or closes the access log must still see every request that ended before, as it ended.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code } from "../errors.js";
import { openAccessLog } from "./access-log.js";
import { METRIC_NAMES, ServingMetrics } from "./metrics.js";
import { parsePrometheusText, sampleValue } from "./prometheus-text.test-helpers.js";
import { RequestObserver, type RequestScope } from "./request-observer.js";
import { restObservability } from "./rest-observability.js";

function predict(observer: RequestObserver, requestId: string): RequestScope {
  const scope = observer.begin("REST", requestId);
  scope.model = "m";
  scope.api = "Predict";
  scope.version = 3n;
  scope.signature = "serving_default";
  scope.httpStatus = 200;
  return scope;
}

const requestCount = async (metrics: ServingMetrics, status: string): Promise<number> =>
  sampleValue(parsePrometheusText(await metrics.text()), METRIC_NAMES.requestCount, {
    model_name: "m",
    API: "Predict",
    entrypoint: "REST",
    status,
  });

describe("RequestObserver batches", () => {
  const freshDir = useScratchDir("request-observer");

  it("are counted by a scrape in the same turn as the requests ended", async () => {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const observer = new RequestObserver({ metrics });
    for (let i = 0; i < 3; i++) predict(observer, `id-${i}`).end();
    // No await between end() and text()'s flush: the batch has not been reported on its own yet.
    const counted = metrics.text();
    assert.equal(sampleValue(parsePrometheusText(await counted), METRIC_NAMES.requestCount, {}), 3);
    // Reported once: the scheduled flush that follows finds nothing left.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await requestCount(metrics, "OK"), 3);
  });

  it("are reported within the event-loop turn without any reader", async () => {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const observer = new RequestObserver({ metrics });
    predict(observer, "a").end();
    predict(observer, "b").end();
    await new Promise((resolve) => setImmediate(resolve));
    const latency = metrics.requestLatency.series({ model_name: "m", API: "Predict", entrypoint: "REST" });
    assert.equal(latency.count, 2);
    assert.ok(latency.sum >= 0);
  });

  it("report a request as it ended: later changes (a late failure) are ignored", async () => {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    const path = join(freshDir(), "access.log");
    const accessLog = openAccessLog(path);
    assert.ok(accessLog);
    const observer = new RequestObserver({ metrics, accessLog });
    const rest = restObservability(observer);
    const scope = predict(observer, "late-1");
    // A REST timeout answers 504; the run it gave up on fails afterwards, before the batch is reported.
    rest.fail(scope, Code.DEADLINE_EXCEEDED);
    rest.respond(scope, 504, {});
    assert.equal(scope.isEnded, true);
    rest.fail(scope, Code.INVALID_ARGUMENT);
    scope.end(); // a second end() reports nothing more
    observer.flush();
    await accessLog.close();
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] ?? "");
    assert.equal(line.request_id, "late-1");
    assert.equal(line.status, "DEADLINE_EXCEEDED");
    assert.equal(line.http_status, 504);
    assert.equal(await requestCount(metrics, "DEADLINE_EXCEEDED"), 1);
    assert.equal(await requestCount(metrics, "OK"), 0);
  });
});
