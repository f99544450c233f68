// The serving core's hot-swap load check, with the versions published to S3 (moto_server) by
// `push`'s code path and picked up by the S3 source: zero failed requests while 1 → 2 → 3 roll.
import { describe, it } from "node:test";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { assertCleanSwap, runHotSwap } from "../../src/core/hotswap.test-helpers.js";
import { publishVersion } from "../../src/core/publish.js";
import { listObjects } from "../../src/core/s3-client.js";
import { useScratchDir } from "../scratch.js";
import { needsMoto, useMoto } from "./moto.js";

describe("hot swap under load from S3", () => {
  const moto = useMoto();
  const scratchDir = useScratchDir("s3-hotswap");

  it("versions pushed to S3 swap in under 250 requests/s with zero failed requests", needsMoto, async () => {
    const { client, endpoint } = moto();
    const bucket = await moto().bucket("hotswap");
    const basePath = `s3://${bucket}/models/scale`;
    const report = await runHotSwap({
      dir: scratchDir(),
      rate: 250,
      seconds: 18,
      // 4 MiB of weights per version: a real download per swap, quick on 2 cores.
      ballast: 4096,
      repository: {
        basePath,
        coreOptions: { remote: { s3: { endpoint }, cacheDir: scratchDir("cache") } },
        publish: async (version, dir) => {
          await publishVersion({ dir, to: basePath, version: BigInt(version), s3: { endpoint } });
        },
        remove: async (version) => {
          for (const object of await listObjects(client, bucket, `models/scale/${version}/`)) {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }));
          }
        },
      },
    });
    const summary = `${report.requests} requests in ${report.seconds.toFixed(1)} s; served by ${JSON.stringify(report.servedBy)}; latency p50/p99 steady ${report.steady.p50Ms.toFixed(2)}/${report.steady.p99Ms.toFixed(2)} ms, swapping ${report.swapping.p50Ms.toFixed(2)}/${report.swapping.p99Ms.toFixed(2)} ms`;
    console.log(summary);

    assertCleanSwap(report, summary, "one load per version, each from the verified download cache");
  });
});
