import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sessionOptions } from "../compiler/session-options.js";
import { mlpReference, mlpSavedModel } from "../export/mlp.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { loadServable } from "./servable.js";

/** Threads of this process (Linux). */
const threadCount = (): number =>
  Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? Number.NaN);

describe("onnxruntime thread pools (--tensorflow_intra_op_parallelism / _inter_op_)", () => {
  it("sets only what is given", () => {
    assert.deepEqual(sessionOptions(), { graphOptimizationLevel: "all" });
    assert.deepEqual(sessionOptions({ intraOp: 0, interOp: 0 }), { graphOptimizationLevel: "all" });
    assert.deepEqual(sessionOptions({ intraOp: 3, interOp: 2 }), {
      graphOptimizationLevel: "all",
      intraOpNumThreads: 3,
      interOpNumThreads: 2,
    });
  });

  it("sizes each loaded model's intra-op pool, and the model still answers right", async (t) => {
    if (!existsSync("/proc/self/status")) return t.skip("counting threads needs Linux's /proc");
    const dir = await mkdtemp(join(tmpdir(), "session-threads-"));
    try {
      const model = mlpSavedModel({ widths: [8, 16, 1], input: "x", output: "y", seed: 3 });
      await writeSavedModel(join(dir, "1"), model);
      // Warm up what else starts threads on first use (libuv's pool, onnxruntime's environment).
      await (await loadServable(join(dir, "1"), { threads: { intraOp: 1 } })).close();
      const grows = async (intraOp: number) => {
        const before = threadCount();
        const servable = await loadServable(join(dir, "1"), { threads: { intraOp } });
        return { added: threadCount() - before, servable };
      };
      const one = await grows(1);
      const four = await grows(4);
      try {
        // onnxruntime's pool of N threads is the caller plus N-1 of its own.
        assert.ok(four.added - one.added >= 2, `intra-op 4 added ${four.added}, intra-op 1 ${one.added}`);
        const row = Float32Array.from({ length: 8 }, (_, i) => i / 8);
        const outputs = await four.servable.signatures
          .get("serving_default")
          ?.run(new Map([["x", new Tensor(DataType.DT_FLOAT, [1, 8], row)]]));
        const y = outputs?.get("y")?.values[0];
        assert.ok(Math.abs(Number(y) - (mlpReference(model.layers, row)[0] ?? Number.NaN)) < 1e-5);
      } finally {
        await one.servable.close();
        await four.servable.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
