import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { savedModelFromGraph } from "../export/signature-model.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { loadServable } from "./servable.js";

/** A SavedModel whose serving_default uses two ops ts-serving has no kernel for, plus supported ones. */
async function writeModelWith(dir: string, ops: readonly string[]): Promise<void> {
  const g = new GraphBuilder();
  const float = attr.type(DataType.DT_FLOAT);
  let value = g.placeholder("x", DataType.DT_FLOAT, [-1, 3]);
  value = g.op("Relu", "features/relu", [value], { T: float });
  for (const [i, op] of ops.entries())
    value = g.op(op, `block_${i}/${op.toLowerCase()}`, [value], { T: float });
  g.op("Identity", "y", [value], { T: float });
  const xy = { dtype: DataType.DT_FLOAT, shape: [-1, 3] };
  const savedModel = savedModelFromGraph(g.build(), {
    serving_default: { inputs: { x: xy }, outputs: { y: xy } },
  });
  await writeSavedModel(dir, { savedModel });
}

describe("unsupported ops", () => {
  const scratchDir = useScratchDir("unsupported");

  it("fail the load, not a request, naming every unsupported op and a node that uses it", async () => {
    const dir = join(scratchDir("model"), "1");
    await writeModelWith(dir, ["Lgamma", "Tanh", "Digamma", "Lgamma"]);
    await assert.rejects(loadServable(dir), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, Code.UNIMPLEMENTED);
      assert.match(e.message, /signature "serving_default": unsupported TensorFlow ops: /);
      assert.match(e.message, /Lgamma \(e\.g\. node block_0\/lgamma\)/);
      assert.match(e.message, /Digamma \(e\.g\. node block_2\/digamma\)/);
      assert.doesNotMatch(e.message, /Tanh|Relu/, "supported ops are not listed");
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  });

  it("a model of supported ops loads and runs", async () => {
    const dir = join(scratchDir("ok"), "1");
    await writeModelWith(dir, ["Tanh", "Neg"]);
    const servable = await loadServable(dir);
    try {
      const out = await servable.signatures
        .get("serving_default")
        ?.run(new Map([["x", new Tensor(DataType.DT_FLOAT, [1, 3], new Float32Array([-1, 0, 1]))]]));
      const y = Array.from(out?.get("y")?.values as Float32Array);
      const expected = [0, 0, -Math.tanh(1)]; // Neg(Tanh(Relu(x)))
      assert.ok(
        y.every((v, i) => Math.abs(v - (expected[i] ?? Number.NaN)) < 1e-6),
        `${y} vs ${expected}`,
      );
    } finally {
      await servable.close();
    }
  });
});
