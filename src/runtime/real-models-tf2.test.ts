// Real TF2 object-graph SavedModels (tf.Module / tfjs test objects, ../shared/fixtures/savedmodels) run
// end to end, every output checked against values computed here from the checkpoint.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import {
  arr,
  assertClose,
  assertExact,
  assertSignatureKeys,
  floats,
  readVariables,
  runSignature,
  variable,
  withServable,
} from "../../test/reference.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import type { Servable } from "./servable.js";

const int32s = (shape: number[], values: number[]) =>
  new Tensor(DataType.DT_INT32, shape, Int32Array.from(values));

describe("real TF2 SavedModels against reference computations", needsFixtures, () => {
  it("tf2_module_regression_multisig: w and b return the variables; train returns the MSE and applies one SGD step", async () => {
    const model = "tf2_module_regression_multisig";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const w0 = variable(vars, "w/.ATTRIBUTES/VARIABLE_VALUE").data[0]!;
    const b0 = variable(vars, "b/.ATTRIBUTES/VARIABLE_VALUE").data[0]!;
    const lr = variable(vars, "optimizer/learning_rate/.ATTRIBUTES/VARIABLE_VALUE").data[0]!;
    assert.equal(lr, 0.5, `${model}: checkpoint learning rate`);
    const readWB = async (servable: Servable) => {
      const w = (await runSignature(servable, "w", {})).get("output");
      const b = (await runSignature(servable, "b", {})).get("output");
      return { w, b };
    };
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["b", "train", "w"], model);
      let { w, b } = await readWB(servable);
      assertClose(w, arr([1], [w0]), `${model} w output (checkpoint)`);
      assertClose(b, arr([1], [b0]), `${model} b output (checkpoint)`);

      // Two SGD steps with different batches; the reference tracks the variables in float64.
      let wr = w0;
      let br = b0;
      const batches = [
        { x: [1, 2, 3, 4], y: [3, 5, 7, 9] },
        { x: [-1, 0.5], y: [0, 2] },
      ];
      for (const [step, { x, y }] of batches.entries()) {
        const n = x.length;
        const residual = x.map((v, i) => wr * v + br - y[i]!);
        const loss = residual.reduce((s, r) => s + r * r, 0) / n;
        const gradW = residual.reduce((s, r, i) => s + (2 * r * x[i]!) / n, 0);
        const gradB = residual.reduce((s, r) => s + (2 * r) / n, 0);
        const out = await runSignature(servable, "train", { x: floats([n], x), y: floats([n], y) });
        assertClose(out.get("loss"), arr([], [loss]), `${model} train loss, step ${step + 1} (batch ${n})`);
        wr -= lr * gradW;
        br -= lr * gradB;
        ({ w, b } = await readWB(servable));
        assertClose(w, arr([1], [wr]), `${model} w output after train step ${step + 1}`);
        assertClose(b, arr([1], [br]), `${model} b output after train step ${step + 1}`);
      }
      assert.notEqual(wr, w0, `${model}: the reference moved w`);
    });
    // A fresh load starts from the checkpoint again.
    await withServable(dir, async (servable) => {
      const { w, b } = await readWB(servable);
      assertClose(w, arr([1], [w0]), `${model} w output after reload`);
      assertClose(b, arr([1], [b0]), `${model} b output after reload`);
    });
  });

  it("tfjs_multiple_signatures: serving_default = x*v, timestwo = x*two, scalar and rank-1 x", async () => {
    const model = "tfjs_multiple_signatures";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const v = variable(vars, "v/.ATTRIBUTES/VARIABLE_VALUE").data[0]!;
    const two = variable(vars, "two/.ATTRIBUTES/VARIABLE_VALUE").data[0]!;
    assert.deepEqual([v, two], [3, 2], `${model}: checkpoint v and two`);
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default", "timestwo"], model);
      for (const [sig, factor] of [
        ["serving_default", v],
        ["timestwo", two],
      ] as const) {
        for (const { shape, x } of [
          { shape: [], x: [1.5] },
          { shape: [4], x: [0, -1, 2.25, 1e6] },
          { shape: [1], x: [-7] },
        ]) {
          const out = await runSignature(servable, sig, { x: floats(shape, x) });
          assertClose(
            out.get("output_0"),
            arr(
              shape,
              x.map((e) => e * factor),
            ),
            `${model} ${sig} output_0 for x [${shape}]`,
          );
        }
      }
    });
  });

  it("tfjs_uint8_multiply: uint8 x → int32 v1*v2*x (255 stays 255, not -1)", async () => {
    const model = "tfjs_uint8_multiply";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const v1 = Number(vars.get("v1/.ATTRIBUTES/VARIABLE_VALUE")?.values[0]);
    const v2 = Number(vars.get("v2/.ATTRIBUTES/VARIABLE_VALUE")?.values[0]);
    assert.deepEqual([v1, v2], [3, 2], `${model}: checkpoint v1 and v2`);
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], model);
      for (const { shape, x } of [
        { shape: [1], x: [0] },
        { shape: [1], x: [255] },
        { shape: [1], x: [7] },
        { shape: [3], x: [1, 128, 255] },
      ]) {
        const out = await runSignature(servable, "serving_default", {
          x: new Tensor(DataType.DT_UINT8, shape, Uint8Array.from(x)),
        });
        assertExact(
          out.get("output_0"),
          DataType.DT_INT32,
          shape,
          x.map((e) => v1 * v2 * e),
          `${model} serving_default output_0 for x=[${x}]`,
        );
      }
    });
  });

  it("tfjs_multi_input_multi_output: int32 (x, y) → (x*two, y)", async () => {
    const model = "tfjs_multi_input_multi_output";
    const dir = savedModelFixture(model);
    const vars = await readVariables(dir);
    const two = Number(vars.get("two/.ATTRIBUTES/VARIABLE_VALUE")?.values[0]);
    assert.equal(two, 2, `${model}: checkpoint two`);
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], model);
      for (const { shape, x, y } of [
        { shape: [], x: [21], y: [-4] },
        { shape: [3], x: [0, -7, 1000000], y: [5, 6, -2147483648] },
      ]) {
        const out = await runSignature(servable, "serving_default", {
          x: int32s(shape, x),
          y: int32s(shape, y),
        });
        const what = `${model} serving_default for x=[${x}] y=[${y}]`;
        assertExact(
          out.get("output_0"),
          DataType.DT_INT32,
          shape,
          x.map((e) => e * two),
          `${what}: output_0`,
        );
        assertExact(out.get("output_1"), DataType.DT_INT32, shape, y, `${what}: output_1`);
      }
    });
  });
});
