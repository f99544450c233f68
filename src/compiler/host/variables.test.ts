import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ServingError } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { attr, f32, i64, makeNode, newState, nums, run, runTensors, shapeOf } from "./host.test-helpers.js";
import { createVariable, HostVariable, readValue } from "./variables.js";

describe("TF1 ref variables", () => {
  it("count with Assign / AssignAdd / AssignSub, each returning the new value", () => {
    const state = newState();
    const varNode = makeNode(
      "VariableV2",
      {
        dtype: attr.type(DataType.DT_INT64),
        shape: attr.shape([]),
        container: attr.string(""),
        shared_name: attr.string(""),
      },
      { name: "counter" },
    );
    const [v] = run(varNode, [], state);
    assert.ok(v instanceof HostVariable);
    assert.equal(state.resources.get("counter"), v);

    const assign = makeNode("Assign", { T: attr.type(DataType.DT_INT64), validate_shape: attr.bool(true) });
    const addOp = makeNode("AssignAdd", { T: attr.type(DataType.DT_INT64) });
    const subOp = makeNode("AssignSub", { T: attr.type(DataType.DT_INT64) });
    assert.deepEqual(nums(run(assign, [v, i64([0], [])], state)[0]), [0]);
    assert.deepEqual(nums(run(addOp, [v, i64([1], [])], state)[0]), [1]);
    assert.deepEqual(nums(run(addOp, [v, i64([1], [])], state)[0]), [2]);
    assert.deepEqual(nums(run(subOp, [v, i64([5], [])], state)[0]), [-3]);
    // Identity of the ref (TF1's `<name>/read`) reads the current value.
    const [read] = runTensors(makeNode("Identity", { T: attr.type(DataType.DT_INT64) }), [v], state);
    assert.deepEqual(nums(read), [-3]);
    assert.deepEqual(shapeOf(read), []);
    // A second run of the VariableV2 node yields the same variable, value kept.
    assert.equal(run(varNode, [], state)[0], v);
    assert.deepEqual(nums(readValue(v)), [-3]);
  });

  it("refuses to read an uninitialised variable (FAILED_PRECONDITION)", () => {
    const state = newState();
    const [v] = run(
      makeNode("VariableV2", { dtype: attr.type(DataType.DT_FLOAT), shape: attr.shape([1]) }, { name: "w" }),
      [],
      state,
    );
    assert.throws(
      () => run(makeNode("Identity"), [v!], state),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.FAILED_PRECONDITION &&
        e.message === "Attempting to use uninitialized value w",
    );
    assert.deepEqual(nums(runTensors(makeNode("IsVariableInitialized"), [v!], state)[0]), [0]);
  });

  it("validates shapes on Assign once initialised", () => {
    const state = newState();
    const v = createVariable(state, "w", f32([1, 2]));
    const assign = makeNode("Assign", { validate_shape: attr.bool(true) });
    assert.throws(() => run(assign, [v, f32([1, 2, 3])], state), {
      message: "Assign requires shapes of both tensors to match. lhs shape= [2] rhs shape= [3]",
    });
    run(makeNode("Assign", { validate_shape: attr.bool(false) }), [v, f32([1, 2, 3])], state);
    assert.deepEqual(shapeOf(readValue(v)), [3]);
  });

  it("applies gradient descent in float32", () => {
    const state = newState();
    const v = createVariable(state, "w", f32([1, 2]));
    const [out] = runTensors(makeNode("ApplyGradientDescent"), [v, f32([0.1], []), f32([1, -1])], state);
    assert.deepEqual(nums(out), [Math.fround(1 - Math.fround(0.1)), Math.fround(2 + Math.fround(0.1))]);
  });
});

describe("TF2 resource variables", () => {
  const handle = (name: string) =>
    makeNode(
      "VarHandleOp",
      {
        dtype: attr.type(DataType.DT_FLOAT),
        shape: attr.shape([1]),
        shared_name: attr.string(name),
        container: attr.string(""),
      },
      { name: `${name}_handle` },
    );

  it("are created by createVariable, read, assigned and updated", () => {
    const state = newState();
    createVariable(state, "b", f32([0.5]));
    const [h] = run(handle("b"), [], state);
    assert.ok(h instanceof HostVariable);
    const read = makeNode("ReadVariableOp", { dtype: attr.type(DataType.DT_FLOAT) });
    assert.deepEqual(nums(runTensors(read, [h], state)[0]), [0.5]);
    assert.deepEqual(
      run(makeNode("AssignAddVariableOp", { dtype: attr.type(DataType.DT_FLOAT) }), [h, f32([1])], state),
      [],
    );
    assert.deepEqual(
      run(makeNode("AssignSubVariableOp", { dtype: attr.type(DataType.DT_FLOAT) }), [h, f32([0.25])], state),
      [],
    );
    assert.deepEqual(nums(runTensors(read, [h], state)[0]), [1.25]);
    run(makeNode("AssignVariableOp", { dtype: attr.type(DataType.DT_FLOAT) }), [h, f32([4])], state);
    // var -= alpha * delta (tf2_module_regression_multisig's "train" signature does this).
    run(
      makeNode("ResourceApplyGradientDescent", { T: attr.type(DataType.DT_FLOAT) }),
      [h, f32([0.5], []), f32([2])],
      state,
    );
    assert.deepEqual(nums(runTensors(read, [h], state)[0]), [3]);
    assert.deepEqual(nums(runTensors(makeNode("VarIsInitializedOp"), [h], state)[0]), [1]);
  });

  it("report a variable that was never assigned, and shape or dtype mismatches", () => {
    const state = newState();
    const [h] = run(handle("v"), [], state);
    assert.deepEqual(nums(runTensors(makeNode("VarIsInitializedOp"), [h!], state)[0]), [0]);
    assert.throws(
      () => run(makeNode("ReadVariableOp", { dtype: attr.type(DataType.DT_FLOAT) }), [h!], state),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.FAILED_PRECONDITION &&
        e.message.startsWith("Could not find variable v."),
    );
    run(makeNode("AssignVariableOp", { dtype: attr.type(DataType.DT_FLOAT) }), [h!, f32([1])], state);
    assert.throws(() => run(makeNode("AssignAddVariableOp"), [h!, f32([1, 2])], state), {
      message: "Cannot update variable with shape [1] using a Tensor with shape [2], shapes must be equal.",
    });
    assert.throws(
      () => run(makeNode("AssignVariableOp", { dtype: attr.type(DataType.DT_INT64) }), [h!, i64([1])], state),
      {
        message: "Trying to assign variable with wrong dtype. Expected float got int64",
      },
    );
  });
});
