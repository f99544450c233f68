// runtime_latency comes from the runner itself where it can time its runs (listenToRuns), else from a
// wrapper around `run`; both count each successful run of a real onnxruntime session once.
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { buildOnnxModel } from "../compiler/onnx/model-builder.js";
import { loadServable, type Servable } from "../runtime/servable.js";
import type { SignatureRunner } from "../runtime/signature-runner.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { ServingMetrics } from "./metrics.js";
import { timeRuns } from "./servable-observability.js";

/** y = x + 1, float32 with a dynamic batch. */
const plusOne = (): Uint8Array =>
  buildOnnxModel({
    name: "plus_one",
    inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1] }],
    outputs: [{ name: "y", dtype: DataType.DT_FLOAT, shape: [-1] }],
    initializers: new Map([["one", new Tensor(DataType.DT_FLOAT, [], new Float32Array([1]))]]),
    nodes: [{ opType: "Add", name: "add", inputs: ["x", "one"], outputs: ["y"], attrs: {} }],
  });

/** The same servable, its runner hidden behind one that cannot time itself. */
function withoutSelfTiming(servable: Servable): Servable {
  const signatures = new Map<string, SignatureRunner>();
  for (const [key, runner] of servable.signatures) {
    signatures.set(key, { key, def: runner.def, run: (inputs, options) => runner.run(inputs, options) });
  }
  return { ...servable, signatures };
}

describe("runtime latency", () => {
  const scratchDir = useScratchDir("servable-observability");

  for (const [label, prepare] of [
    ["timed by the runner", (s: Servable) => s],
    ["timed by a wrapper", withoutSelfTiming],
  ] as const) {
    it(`counts each successful run once, ${label}`, async () => {
      const dir = scratchDir("plus-one");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "model.onnx"), plusOne());
      const servable = await loadServable(dir);
      try {
        const metrics = new ServingMetrics({ defaultMetrics: false });
        const timed = timeRuns(prepare(servable), "plus_one", metrics);
        const runner = timed.signatures.get("serving_default");
        assert.ok(runner);
        const x = new Tensor(DataType.DT_FLOAT, [2], new Float32Array([1, 2]));
        for (let i = 0; i < 3; i++) {
          const outputs: Map<string, Tensor> = await runner.run(new Map([["x", x]]));
          assert.deepEqual(Array.from(outputs.get("y")?.values as Float32Array), [2, 3]);
        }
        const series = metrics.runtimeLatency.series({
          model_name: "plus_one",
          API: "Predict",
          runtime: "onnxruntime",
        });
        assert.equal(series.count, 3);
        assert.ok(series.sum > 0);
      } finally {
        await servable.close();
      }
    });
  }
});
