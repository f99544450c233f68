import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { buildOnnxModel } from "../compiler/onnx/model-builder.js";
import { Code, ServingError } from "../errors.js";
import { DataType } from "../tensor/dtype.js";
import { shapeFromProto } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { loadServable } from "./servable.js";

/** y = x * 2 + 1 and z = sum over the last axis, float32 with a dynamic batch. */
function affineModel(): Uint8Array {
  return buildOnnxModel({
    name: "affine",
    inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 3] }],
    outputs: [
      { name: "y", dtype: DataType.DT_FLOAT, shape: [-1, 3] },
      { name: "z", dtype: DataType.DT_FLOAT, shape: [-1, 1] },
    ],
    initializers: new Map([
      ["two", new Tensor(DataType.DT_FLOAT, [], new Float32Array([2]))],
      ["one", new Tensor(DataType.DT_FLOAT, [], new Float32Array([1]))],
      ["axes", new Tensor(DataType.DT_INT64, [1], new BigInt64Array([-1n]))],
    ]),
    nodes: [
      { opType: "Mul", name: "mul", inputs: ["x", "two"], outputs: ["doubled"], attrs: {} },
      { opType: "Add", name: "add", inputs: ["doubled", "one"], outputs: ["y"], attrs: {} },
      { opType: "ReduceSum", name: "sum", inputs: ["x", "axes"], outputs: ["z"], attrs: { keepdims: 1 } },
    ],
  });
}

describe("ONNX model versions", () => {
  const scratchDir = useScratchDir("onnx");

  it("serves <version>/model.onnx with its inputs and outputs as the serving_default signature", async () => {
    const dir = scratchDir("affine");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "model.onnx"), affineModel());
    const servable = await loadServable(dir);
    try {
      assert.equal(servable.platform, "onnx");
      const runner = servable.signatures.get("serving_default");
      assert.ok(runner);
      const timed: number[] = [];
      runner.listenToRuns?.((micros) => timed.push(micros));
      assert.equal(runner.def.methodName, "tensorflow/serving/predict");
      assert.equal(runner.def.inputs.x?.dtype, DataType.DT_FLOAT);
      assert.deepEqual(shapeFromProto(runner.def.inputs.x?.tensorShape), [-1, 3]);
      const x = new Tensor(DataType.DT_FLOAT, [2, 3], new Float32Array([1, 2, 3, -1, 0, 0.5]));
      const out = await runner.run(new Map([["x", x]]));
      assert.deepEqual(Array.from(out.get("y")?.values as Float32Array), [3, 5, 7, -1, 1, 2]);
      assert.deepEqual(Array.from(out.get("z")?.values as Float32Array), [6, -0.5]);
      const onlyZ = await runner.run(new Map([["x", x]]), { outputFilter: ["z"] });
      assert.deepEqual([...onlyZ.keys()], ["z"]);
      await assert.rejects(
        runner.run(new Map([["x", new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array(4))]])),
        (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT,
      );
      // The runner times its own runs (runtime_latency): the two that succeeded, not the one onnxruntime refused.
      assert.equal(timed.length, 2);
      for (const micros of timed) assert.ok(Number.isFinite(micros) && micros > 0, String(micros));
    } finally {
      await servable.close();
    }
  });

  it("fails the load of a corrupt model.onnx with the file name", async () => {
    const dir = scratchDir("corrupt");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "model.onnx"), affineModel().subarray(0, 40));
    await assert.rejects(
      loadServable(dir),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.DATA_LOSS &&
        /model\.onnx: onnxruntime cannot load it/.test(e.message),
    );
  });
});
