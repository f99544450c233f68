import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { Tensor } from "../tensor/tensor.js";
import { importGraph } from "./import.js";
import { type Graph, parseRef, refKey } from "./ir.js";
import { prune } from "./prune.js";

const float = attr.type(DataType.DT_FLOAT);

function build(): Graph {
  const g = new GraphBuilder();
  g.placeholder("src", DataType.DT_FLOAT, [-1]);
  g.op("Identity", "x", ["src"], { T: float });
  g.constant("a", new Tensor(DataType.DT_FLOAT, [], new Float32Array([0.5])));
  g.op("Identity", "a/read", ["a"], { T: float });
  g.op("Mul", "m", ["a/read", "x"], { T: float });
  g.op("NoOp", "pure", ["^a"]);
  g.op("Identity", "y", ["m", "^pure"], { T: float });
  g.op("VarHandleOp", "v", [], { dtype: float, shape: attr.shape([]) });
  g.op("ReadVariableOp", "rv", ["v"], { dtype: float });
  g.op("NoOp", "eff", ["^rv"]);
  g.op("Identity", "z", ["m", "^eff"], { T: float });
  g.op("Sub", "unused", ["m", "m"], { T: float });
  g.op("IdentityN", "pe", ["src", "src"], { T: attr.types([DataType.DT_FLOAT, DataType.DT_FLOAT]) });
  g.op("AddV2", "sum", ["pe", "pe:1"], { T: float });
  return importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
}

const names = (graph: Graph): string[] => [...graph.nodes.keys()].sort();

describe("prune", () => {
  const graph = build();

  it("keeps what the fetches need, cuts at feeds, drops control edges to effect-free nodes", () => {
    const pruned = prune(graph, { feeds: [parseRef("x:0")], fetches: [parseRef("y:0")], targets: [] });
    assert.deepEqual(names(pruned), ["a", "m", "y"]);
    assert.deepEqual(pruned.nodes.get("y")?.controlInputs, []);
  });

  it("drops trivial Identity nodes but keeps fetched ones", () => {
    const pruned = prune(graph, { feeds: [parseRef("x:0")], fetches: [parseRef("y:0")], targets: [] });
    assert.deepEqual(pruned.nodes.get("m")?.inputs.map(refKey), ["a:0", "x:0"]);
    assert.equal(pruned.nodes.get("y")?.op, "Identity");
  });

  it("keeps control edges whose source has effects", () => {
    const pruned = prune(graph, { feeds: [parseRef("x:0")], fetches: [parseRef("z:0")], targets: [] });
    assert.deepEqual(names(pruned), ["a", "eff", "m", "rv", "v", "z"]);
    assert.deepEqual(pruned.nodes.get("z")?.controlInputs, ["eff"]);
  });

  it("runs targets for their effects", () => {
    assert.deepEqual(names(prune(graph, { feeds: [], fetches: [], targets: ["eff"] })), ["eff", "rv", "v"]);
  });

  it("keeps a fed tensor's producer when another of its outputs is needed", () => {
    const pruned = prune(graph, { feeds: [parseRef("pe:0")], fetches: [parseRef("sum:0")], targets: [] });
    assert.deepEqual(names(pruned), ["pe", "src", "sum"]);
    assert.deepEqual(pruned.nodes.get("sum")?.inputs.map(refKey), ["pe:0", "pe:1"]);
  });

  it("follows the producer of an unfed input", () => {
    const pruned = prune(graph, { feeds: [], fetches: [parseRef("y:0")], targets: [] });
    assert.deepEqual(names(pruned), ["a", "m", "src", "y"]);
    assert.deepEqual(pruned.nodes.get("m")?.inputs.map(refKey), ["a:0", "src:0"]);
  });

  it("reports fetches and inputs that name missing nodes", () => {
    const notFound = (e: unknown) => e instanceof ServingError && e.code === Code.NOT_FOUND;
    assert.throws(() => prune(graph, { feeds: [], fetches: [parseRef("nope:0")], targets: [] }), notFound);
    const g = new GraphBuilder();
    g.op("Identity", "dangling", ["ghost"], { T: float });
    const broken = importGraph(create(MetaGraphDefSchema, { graphDef: g.build() }));
    assert.throws(
      () => prune(broken, { feeds: [], fetches: [parseRef("dangling:0")], targets: [] }),
      /ghost/,
    );
    assert.throws(
      () => prune(graph, { feeds: [], fetches: [parseRef("m:3")], targets: [] }),
      (e: unknown) => e instanceof ServingError && e.code === Code.INVALID_ARGUMENT,
    );
  });
});
