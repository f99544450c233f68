import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { Tensor } from "../tensor/tensor.js";
import { importGraph } from "./import.js";
import { broadcastShapes, inferShapes } from "./shapes.js";

const F = DataType.DT_FLOAT;
const float = attr.type(F);
const i32 = (values: number[], shape = [values.length]) =>
  new Tensor(DataType.DT_INT32, shape, new Int32Array(values));

function graph() {
  const g = new GraphBuilder();
  g.placeholder("x", F, [-1, 3]);
  g.constant("w", new Tensor(F, [3, 4], new Float32Array(12)));
  g.constant("b", new Tensor(F, [4], new Float32Array(4)));
  g.op("MatMul", "mm", ["x", "w"], { T: float });
  g.op("MatMul", "mmT", ["w", "w"], { T: float, transpose_a: attr.bool(true) });
  g.op("BiasAdd", "ba", ["mm", "b"], { T: float });
  g.op("Relu", "relu", ["ba"], { T: float });
  g.op("AddV2", "add", ["relu", "b"], { T: float });
  g.constant("shape", i32([-1, 2, 2]));
  g.op("Reshape", "rs", ["relu", "shape"], { T: float });
  g.op("Shape", "sh", ["rs"], { T: float });
  g.constant("one", i32([1], []));
  g.op("ExpandDims", "ed", ["relu", "one"], { T: float });
  g.op("Squeeze", "sq", ["ed"], { T: float, squeeze_dims: attr.ints([1]) });
  g.op("ConcatV2", "cat", ["relu", "relu", "one"], { T: float, N: attr.int(2) });
  g.op("Pack", "pk", ["relu", "relu"], { T: float, N: attr.int(2), axis: attr.int(1) });
  g.constant("perm", i32([1, 0]));
  g.op("Transpose", "tr", ["relu", "perm"], { T: float });
  g.op("Sum", "sum", ["relu", "one"], { T: float, keep_dims: attr.bool(true) });
  g.op("ArgMax", "am", ["relu", "one"], { T: float });
  g.placeholder("ids", DataType.DT_INT32, [5]);
  g.constant("zero", i32([0], []));
  g.op("GatherV2", "ga", ["w", "ids", "zero"], { Tparams: float, Tindices: attr.type(DataType.DT_INT32) });
  g.op("Mystery", "my", ["x"], {
    _output_shapes: { value: { case: "list", value: { shape: [{ dim: [{ size: 7n }] }] } } },
  });
  g.placeholder("u", F, null);
  g.op("Cast", "cast", ["u"], { SrcT: float, DstT: attr.type(DataType.DT_INT32) });
  return importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
}

describe("inferShapes", () => {
  const shapes = inferShapes(graph());

  it("reads placeholders and consts, and propagates matmul/bias/elementwise shapes", () => {
    assert.deepEqual(shapes.get("x:0"), [-1, 3]);
    assert.deepEqual(shapes.get("w:0"), [3, 4]);
    assert.deepEqual(shapes.get("mm:0"), [-1, 4]);
    assert.deepEqual(shapes.get("mmT:0"), [4, 4]);
    assert.deepEqual(shapes.get("ba:0"), [-1, 4]);
    assert.deepEqual(shapes.get("relu:0"), [-1, 4]);
    assert.deepEqual(shapes.get("add:0"), [-1, 4]);
  });

  it("uses constant shape, axis and perm inputs", () => {
    assert.deepEqual(shapes.get("rs:0"), [-1, 2, 2]);
    assert.deepEqual(shapes.get("sh:0"), [3]);
    assert.deepEqual(shapes.get("ed:0"), [-1, 1, 4]);
    assert.deepEqual(shapes.get("sq:0"), [-1, 4]);
    assert.deepEqual(shapes.get("cat:0"), [-1, 8]);
    assert.deepEqual(shapes.get("pk:0"), [-1, 2, 4]);
    assert.deepEqual(shapes.get("tr:0"), [4, -1]);
    assert.deepEqual(shapes.get("sum:0"), [-1, 1]);
    assert.deepEqual(shapes.get("am:0"), [-1]);
    assert.deepEqual(shapes.get("ga:0"), [5, 4]);
  });

  it("falls back to _output_shapes, else unknown", () => {
    assert.deepEqual(shapes.get("my:0"), [7]);
    assert.equal(shapes.get("cast:0"), null);
  });

  it("lets fed shapes win", () => {
    const fed = inferShapes(graph(), new Map([["x:0", [8, 3]]]));
    assert.deepEqual(fed.get("x:0"), [8, 3]);
    assert.deepEqual(fed.get("rs:0"), [8, 2, 2]);
  });

  it("broadcasts with unknown dims", () => {
    assert.deepEqual(broadcastShapes([-1, 1, 3], [4, 1]), [-1, 4, 3]);
    assert.deepEqual(broadcastShapes([2, 3], []), [2, 3]);
    assert.equal(broadcastShapes(null, [1]), null);
  });
});
