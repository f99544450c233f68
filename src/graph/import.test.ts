import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { needsFixtures, tfServingModel } from "../../test/fixtures.js";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { rankingModel } from "../export/ranking-model.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { openSavedModel } from "../savedmodel/saved-model.js";
import { Tensor } from "../tensor/tensor.js";
import { attrBool, attrInt } from "./attrs.js";
import { importGraph } from "./import.js";
import { refKey } from "./ir.js";

describe("importGraph", () => {
  it("imports a GraphBuilder graph (no stripped_op_list) with the built-in OpDefs", () => {
    const model = rankingModel();
    const meta = model.savedModel.metaGraphs[0];
    assert.ok(meta);
    const graph = importGraph(meta);
    const matmul = graph.nodes.get("dense_1/MatMul");
    assert.deepEqual(matmul?.inputs.map(refKey), ["input_features:0", "dense_1/kernel/read:0"]);
    assert.deepEqual(matmul?.outputDTypes, [DataType.DT_FLOAT]);
    assert.deepEqual(graph.nodes.get("dense_1/kernel")?.outputDTypes, [DataType.DT_FLOAT]);
    assert.deepEqual(graph.nodes.get("save/RestoreV2")?.outputDTypes.length, model.layers.length * 2);
    assert.deepEqual(graph.nodes.get("save/restore_all")?.controlInputs.length, model.layers.length * 2);
    assert.deepEqual(graph.nodes.get("save/RestoreV2/tensor_names")?.value?.shape, [model.layers.length * 2]);
  });

  it("fills stripped default attrs, splits ^control inputs, reduces _REF dtypes, decodes Consts", () => {
    const g = new GraphBuilder();
    g.constant("c", new Tensor(DataType.DT_INT32, [2], new Int32Array([3, 4])));
    g.op("Pack", "p", ["c", "c", "^c"], { N: attr.int(2), T: attr.type(DataType.DT_INT32) });
    g.op("Identity", "r", ["c"], { T: attr.type(DataType.DT_FLOAT_REF) });
    g.op("Mystery", "m", ["c:1"], {
      T: attr.type(DataType.DT_INT64),
      _output_shapes: { value: { case: "list", value: { shape: [{}, {}] } } },
    });
    const graph = importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
    const pack = graph.nodes.get("p");
    assert.equal(attrInt(pack?.attrs ?? {}, "axis"), 0);
    assert.deepEqual(pack?.inputs.map(refKey), ["c:0", "c:0"]);
    assert.deepEqual(pack?.controlInputs, ["c"]);
    assert.deepEqual(graph.nodes.get("r")?.outputDTypes, [DataType.DT_FLOAT]);
    assert.deepEqual(graph.nodes.get("c")?.value?.values, new Int32Array([3, 4]));
    assert.deepEqual(graph.nodes.get("m")?.outputDTypes, [DataType.DT_INT64, DataType.DT_INT64]);
    assert.deepEqual(graph.nodes.get("m")?.inputs.map(refKey), ["c:1"]);
  });

  it("names the Const whose value cannot be decoded", () => {
    const g = new GraphBuilder();
    g.op("Const", "bad", [], { dtype: attr.type(DataType.DT_FLOAT) });
    assert.throws(() => importGraph(create(MetaGraphDefSchema, { graphDef: g.build() })), /Const bad/);
  });
});

describe("importGraph on TF 2.14 (stripped_default_attrs)", needsFixtures, () => {
  it("gives every node the defaults of its OpDef and keeps the function library", async () => {
    const bundle = await openSavedModel(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    assert.equal(bundle.metaGraph.metaInfoDef?.strippedDefaultAttrs, true);
    const graph = importGraph(bundle.metaGraph);
    for (const node of graph.nodes.values()) {
      const opDef = graph.opDefs.get(node.op);
      assert.ok(opDef, `no OpDef for ${node.op}`);
      for (const a of opDef.attr) {
        if (a.defaultValue) assert.ok(node.attrs[a.name], `${node.name} lacks ${a.name}`);
      }
    }
    assert.deepEqual(graph.nodes.get("StatefulPartitionedCall_5")?.inputs.map(refKey), [
      "serving_default_x:0",
      "a:0",
      "b:0",
    ]);
    assert.ok(graph.functions.has("__inference_predict_235"));
    assert.equal(attrBool(graph.nodes.get("Variable/Assign")?.attrs ?? {}, "validate_shape"), false);
  });
});
