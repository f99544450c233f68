import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { floats, runSignature as run, withServable } from "../../test/reference.js";
import { Code, ServingError } from "../errors.js";
import { ExampleSchema } from "../proto/gen/tensorflow/core/example/example_pb.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";

const HALF_PLUS_TWO_VARIANTS = [
  "saved_model_half_plus_two_cpu",
  "saved_model_half_plus_two_gpu",
  "saved_model_half_plus_two_gpu_trt",
  "saved_model_half_plus_two_mkl",
  "saved_model_half_plus_two_mlmd",
  "saved_model_half_plus_two_tf2_cpu",
  "saved_model_half_plus_two_cpu_with_saved_model_config",
  "saved_model_half_plus_two_cpu_with_empty_saved_model_config",
];

/** Serialized tf.Examples with one float feature per example, as a DT_STRING [N] tensor. */
function examples(feature: string, values: number[]): Tensor {
  const serialized = values.map((v) =>
    toBinary(
      ExampleSchema,
      create(ExampleSchema, {
        features: { feature: { [feature]: { kind: { case: "floatList", value: { value: [v] } } } } },
      }),
    ),
  );
  return new Tensor(DataType.DT_STRING, [values.length], serialized);
}

function assertValues(actual: Tensor | undefined, expected: number[], shape: number[], what: string): void {
  assert.ok(actual, `${what}: output present`);
  assert.deepEqual(actual.shape, shape, `${what}: shape`);
  assert.deepEqual(Array.from(actual.values as Float32Array), expected, what);
}

describe("TF Serving's test models", needsFixtures, () => {
  it("predict y = 0.5x + 2 on every half_plus_two variant (TF1, TF2, gpu/mkl/trt exports), several batch sizes", async () => {
    for (const name of HALF_PLUS_TWO_VARIANTS) {
      await withServable(tfServingModel(name), async (servable) => {
        for (const batch of [1, 3, 64]) {
          const x = Array.from({ length: batch }, (_, i) => i - 1.5);
          const out = await run(servable, "serving_default", { x: floats([batch, 1], x) });
          assertValues(
            out.get("y"),
            x.map((v) => 0.5 * v + 2),
            [batch, 1],
            `${name} batch ${batch}`,
          );
        }
      });
    }
    for (const version of ["00000123", "00000124"]) {
      await withServable(
        tfServingModel("saved_model_half_plus_two_2_versions", version),
        async (servable) => {
          const out = await run(servable, "serving_default", { x: floats([3], [1, 2, 5]) });
          assertValues(out.get("y"), [2.5, 3, 4.5], [3], `2_versions ${version}`);
        },
      );
    }
  });

  it("predict y = 0.5x + 3 on half_plus_three, and matrix_half_plus_two", async () => {
    await withServable(tfServingModel("saved_model_half_plus_three"), async (servable) => {
      const out = await run(servable, "serving_default", { x: floats([2, 1], [1, -4]) });
      assertValues(out.get("y"), [3.5, 1], [2, 1], "half_plus_three");
    });
    await withServable(tfServingModel("matrix_half_plus_two", "1"), async (servable) => {
      const out = await run(servable, "serving_default", { x: floats([2, 2], [1, 2, 3, 4]) });
      assertValues(out.get("y"), [2.5, 3, 3.5, 4], [2, 2], "matrix_half_plus_two");
    });
  });

  it("classify and regress on serialized tf.Examples, and the x2 → y3 signatures", async () => {
    for (const name of ["saved_model_half_plus_two_cpu", "saved_model_half_plus_two_tf2_cpu"]) {
      await withServable(tfServingModel(name), async (servable) => {
        const classify = await run(servable, "classify_x_to_y", { inputs: examples("x", [1, 2, 5]) });
        assertValues(classify.get("scores"), [2.5, 3, 4.5], [3, 1], `${name} classify`);
        const regress = await run(servable, "regress_x_to_y", { inputs: examples("x", [4]) });
        assertValues(regress.get("outputs"), [4], [1, 1], `${name} regress`);
        const regress2 = await run(servable, "regress_x_to_y2", { inputs: examples("x", [4, 0]) });
        assertValues(regress2.get("outputs"), [5, 3], [2, 1], `${name} regress y2`);
        const y3 = await run(servable, "regress_x2_to_y3", { inputs: floats([2, 1], [2, 4]) });
        assertValues(y3.get("outputs"), [4, 5], [2, 1], `${name} x2 → y3`);
      });
    }
    await withServable(tfServingModel("saved_model_half_plus_three"), async (servable) => {
      const regress = await run(servable, "tensorflow/serving/regress", { inputs: examples("x", [2]) });
      assertValues([...regress.values()][0], [4], [1, 1], "half_plus_three regress");
    });
  });

  it("keeps the counter model's state per loaded version: incr, incr_by, get, reset", async () => {
    await withServable(tfServingModel("saved_model_counter"), async (servable) => {
      const value = async (signature: string, inputs: Record<string, Tensor> = {}) =>
        Number((await run(servable, signature, inputs)).get("output")?.values[0]);
      assert.equal(await value("get_counter"), 0);
      assert.equal(await value("incr_counter"), 1);
      assert.equal(await value("incr_counter"), 2);
      assert.equal(await value("incr_counter_by", { delta: floats([], [10]) }), 12);
      assert.equal(await value("get_counter"), 12);
      assert.equal(await value("reset_counter"), 0);
      assert.equal(await value("get_counter"), 0);
    });
    // A second load starts from the checkpoint again.
    await withServable(tfServingModel("saved_model_counter"), async (servable) => {
      assert.equal(Number((await run(servable, "get_counter", {})).get("output")?.values[0]), 0);
    });
  });

  it("rejects inputs that do not match the signature with TF Serving's messages", async () => {
    await withServable(tfServingModel("saved_model_half_plus_two_cpu"), async (servable) => {
      const expectInvalid = (pattern: RegExp) => (e: unknown) =>
        e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && pattern.test(e.message);
      await assert.rejects(
        run(servable, "serving_default", {}),
        expectInvalid(/Missing but required: \{x\}/),
      );
      await assert.rejects(
        run(servable, "serving_default", { x: floats([1], [1]), z: floats([1], [1]) }),
        expectInvalid(/Sent extra: \{z\}/),
      );
      await assert.rejects(
        run(servable, "serving_default", { x: new Tensor(DataType.DT_INT32, [1], new Int32Array([1])) }),
        expectInvalid(/Expects arg\[0\] to be float32 but int32 is provided/),
      );
      await assert.rejects(
        run(servable, "classify_x_to_y", { inputs: Tensor.fromStrings([1], ["not a proto \u0001\u00ff"]) }),
        (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT,
      );
      const out = await run(servable, "serving_default", { x: floats([1], [2]) });
      assertValues(out.get("y"), [3], [1], "still serving after bad requests");
    });
  });
});
