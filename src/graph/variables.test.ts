import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { needsFixtures, savedModelFixture, tfServingModel } from "../../test/fixtures.js";
import { Code, ServingError } from "../errors.js";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { openSavedModel } from "../savedmodel/saved-model.js";
import { Tensor } from "../tensor/tensor.js";
import { freezeVariables, type VariableSource } from "./freeze.js";
import { importGraph } from "./import.js";
import { inlineFunctions } from "./inline.js";
import { type Graph, refKey } from "./ir.js";
import { modelGraph } from "./model.js";
import { checkpointKeys, initTargets, writtenVariables } from "./variables.js";

const source = (values: Record<string, Tensor>): VariableSource => ({
  has: (key) => key in values,
  read: async (key) => values[key] ?? assert.fail(`read of missing key ${key}`),
});
const f32 = (shape: number[], values: number[]) =>
  new Tensor(DataType.DT_FLOAT, shape, new Float32Array(values));
const float = attr.type(DataType.DT_FLOAT);
const code = (c: Code) => (e: unknown) => e instanceof ServingError && e.code === c;

/** A resource-variable graph: table[ids] through ResourceGather, plus a read and an init check. */
function resourceGraph(batchDims = 0): Graph {
  const g = new GraphBuilder();
  g.op("VarHandleOp", "table", [], {
    dtype: float,
    shape: attr.shape([3, 2]),
    shared_name: attr.string("table"),
  });
  g.placeholder("ids", DataType.DT_INT64, [-1]);
  g.op("ResourceGather", "emb", ["table", "ids"], {
    dtype: float,
    Tindices: attr.type(DataType.DT_INT64),
    batch_dims: attr.int(batchDims),
  });
  g.op("ReadVariableOp", "read", ["table"], { dtype: float });
  g.op("VarIsInitializedOp", "ok", ["table"], {});
  return importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
}

describe("freezeVariables", () => {
  const table = f32([3, 2], [1, 2, 3, 4, 5, 6]);
  const keys = new Map([["table", "table/.ATTRIBUTES/VARIABLE_VALUE"]]);

  it("turns reads into Consts and ResourceGather into GatherV2 over a Const", async () => {
    const { graph, mutableVariables } = await freezeVariables(
      resourceGraph(),
      keys,
      source({ "table/.ATTRIBUTES/VARIABLE_VALUE": table }),
    );
    assert.equal(graph.nodes.get("read")?.op, "Const");
    assert.equal(graph.nodes.get("read")?.value, table);
    const gather = graph.nodes.get("emb");
    assert.equal(gather?.op, "GatherV2");
    assert.deepEqual(gather?.inputs.map(refKey), ["emb/params:0", "ids:0", "emb/axis:0"]);
    assert.equal(graph.nodes.get("emb/params")?.value, table);
    assert.deepEqual(graph.nodes.get("emb/axis")?.value?.values, new Int32Array([0]));
    assert.deepEqual(graph.nodes.get("ok")?.value?.values, new Uint8Array([1]));
    assert.deepEqual([...mutableVariables], [["table", "table/.ATTRIBUTES/VARIABLE_VALUE"]]);
  });

  it("leaves variables in `mutable` alone and reports them", async () => {
    const { graph, mutableVariables } = await freezeVariables(resourceGraph(), keys, undefined, {
      mutable: new Set(["table"]),
    });
    assert.equal(graph.nodes.get("read")?.op, "ReadVariableOp");
    assert.equal(graph.nodes.get("emb")?.op, "ResourceGather");
    assert.deepEqual([...mutableVariables], [["table", "table/.ATTRIBUTES/VARIABLE_VALUE"]]);
  });

  it("fails with DATA_LOSS naming variable and key when the value is missing", async () => {
    await assert.rejects(freezeVariables(resourceGraph(), keys, source({})), (e: unknown) => {
      return (
        code(Code.DATA_LOSS)(e) && /table.*table\/\.ATTRIBUTES\/VARIABLE_VALUE/.test((e as Error).message)
      );
    });
    await assert.rejects(freezeVariables(resourceGraph(), keys, undefined), code(Code.DATA_LOSS));
  });

  it("fails with FAILED_PRECONDITION on a dtype or shape mismatch", async () => {
    const wrongShape = source({ "table/.ATTRIBUTES/VARIABLE_VALUE": f32([2, 3], [1, 2, 3, 4, 5, 6]) });
    await assert.rejects(freezeVariables(resourceGraph(), keys, wrongShape), (e: unknown) => {
      return code(Code.FAILED_PRECONDITION)(e) && /\(2, 3\).*\(3, 2\)/.test((e as Error).message);
    });
    const ints = new Tensor(DataType.DT_INT32, [3, 2], new Int32Array(6));
    const wrongType = source({ "table/.ATTRIBUTES/VARIABLE_VALUE": ints });
    await assert.rejects(freezeVariables(resourceGraph(), keys, wrongType), code(Code.FAILED_PRECONDITION));
  });

  it("does not support ResourceGather with batch_dims", async () => {
    const values = source({ "table/.ATTRIBUTES/VARIABLE_VALUE": table });
    await assert.rejects(freezeVariables(resourceGraph(1), keys, values), code(Code.UNIMPLEMENTED));
  });

  it("by default keeps the variables the graph writes", () => {
    const g = new GraphBuilder();
    g.variable("counter", DataType.DT_INT64, []);
    g.constant("one", new Tensor(DataType.DT_INT64, [], new BigInt64Array([1n])));
    g.op("AssignAdd", "incr", ["counter", "one"], { T: attr.type(DataType.DT_INT64) });
    g.variable("frozen", DataType.DT_FLOAT, []);
    const graph = importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
    assert.deepEqual([...writtenVariables(graph)], ["counter"]);
  });
});

describe("variables of the fixtures", needsFixtures, () => {
  it("finds the init op: TF1 main_op, TF1 legacy_init_op, TF2 __saved_model_init_op", async () => {
    const meta = async (dir: string) => (await openSavedModel(dir)).metaGraph;
    assert.deepEqual(initTargets(await meta(tfServingModel("saved_model_half_plus_two_cpu"))), [
      "group_deps",
    ]);
    assert.deepEqual(initTargets(await meta(tfServingModel("saved_model_half_plus_three"))), ["group_deps"]);
    assert.deepEqual(initTargets(await meta(tfServingModel("saved_model_half_plus_two_tf2_cpu"))), ["NoOp"]);
    assert.deepEqual(initTargets(await meta(tfServingModel("saved_model_counter"))), []);
  });

  it("maps TF1 variables to keys through save/restore_all (VariableV2 and VarHandleOp)", async () => {
    for (const name of [
      "saved_model_half_plus_two_cpu",
      "saved_model_half_plus_two_cpu_with_saved_model_config",
    ]) {
      const { metaGraph } = await openSavedModel(tfServingModel(name));
      const keys = checkpointKeys(importGraph(metaGraph), metaGraph.saverDef);
      assert.deepEqual(
        [...keys].sort(),
        ["a", "a2", "b", "c", "c2"].map((v) => [v, v]),
        name,
      );
    }
  });

  it("maps TF2 variables through the restore function, before or after inlining", async () => {
    const { metaGraph } = await openSavedModel(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    const imported = importGraph(metaGraph);
    const expected = ["a", "b", "c"].map((v) => [v, `${v}/.ATTRIBUTES/VARIABLE_VALUE`]);
    assert.deepEqual([...checkpointKeys(imported, metaGraph.saverDef)].sort(), expected);
    assert.deepEqual([...checkpointKeys(inlineFunctions(imported), metaGraph.saverDef)].sort(), expected);
  });

  it("treats variables written by a signature or the init op as stateful, others as frozen", async () => {
    const stateful = async (dir: string, tags?: string[]) =>
      [...modelGraph((await openSavedModel(dir, tags ? { tags } : {})).metaGraph).statefulVariables].sort();
    assert.deepEqual(await stateful(tfServingModel("saved_model_counter")), ["counter"]);
    assert.deepEqual(await stateful(savedModelFixture("tf2_module_regression_multisig")), [
      "SGD/iter",
      "b",
      "w",
    ]);
    // The asset-path variable the TF2 init op assigns:
    assert.deepEqual(await stateful(tfServingModel("saved_model_half_plus_two_tf2_cpu")), ["Variable"]);
    // The GradientDescent `train` op writes w and b, but no signature runs it.
    assert.deepEqual(await stateful(savedModelFixture("tf1_linear_regression"), ["serve", "train"]), []);
  });
});
