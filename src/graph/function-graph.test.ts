import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { attr } from "../export/graph-builder.js";
import { AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { type FunctionDef, FunctionDefSchema } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { attrType } from "./attrs.js";
import { functionGraph } from "./function-graph.js";
import { importGraph } from "./import.js";
import type { Graph } from "./ir.js";

type AttrInit = MessageInitShape<typeof AttrValueSchema>;
const F = DataType.DT_FLOAT;
const placeholder = (name: string): AttrInit => ({ value: { case: "placeholder", value: name } });
const func = (name: string, attrs: Record<string, AttrInit> = {}): AttrInit => ({
  value: { case: "func", value: { name, attr: attrs } },
});
const fn = (init: MessageInitShape<typeof FunctionDefSchema>): FunctionDef => create(FunctionDefSchema, init);

// square_plus(x: T, n: N*float) -> (y: T, same: T, sum: float): y = inner(Square(x)), same = x,
// sum = AddN(n); runs `effect` for its control output.
const squarePlus = fn({
  signature: {
    name: "square_plus",
    inputArg: [
      { name: "x", typeAttr: "T" },
      { name: "n", numberAttr: "N", type: F },
    ],
    outputArg: [
      { name: "y", typeAttr: "T" },
      { name: "same", typeAttr: "T" },
      { name: "sum", type: F },
    ],
    attr: [
      { name: "T", type: "type" },
      { name: "N", type: "int" },
    ],
  },
  nodeDef: [
    { name: "sq", op: "Square", input: ["x"], attr: { T: placeholder("T") } },
    {
      name: "call",
      op: "PartitionedCall",
      input: ["sq:y:0"],
      attr: { f: func("inner", { T: placeholder("T") }), Tin: attr.types([F]), Tout: attr.types([F]) },
    },
    { name: "sum", op: "AddN", input: ["n"], attr: { T: attr.type(F), N: placeholder("N") } },
    { name: "effect", op: "NoOp", input: ["^sq"] },
  ],
  ret: { y: "call:output:0", same: "x", sum: "sum:sum:0" },
  controlRet: { effect: "effect" },
});

const innerFn = fn({
  signature: {
    name: "inner",
    inputArg: [{ name: "a", typeAttr: "T" }],
    outputArg: [{ name: "b", typeAttr: "T" }],
    attr: [{ name: "T", type: "type" }],
  },
  nodeDef: [{ name: "neg", op: "Neg", input: ["a"], attr: { T: placeholder("T") } }],
  ret: { b: "neg:y:0" },
});

const library = (): Graph =>
  importGraph(create(MetaGraphDefSchema, { graphDef: { library: { function: [squarePlus, innerFn] } } }));

describe("functionGraph", () => {
  it("feeds Placeholders per flat input and fetches the returned tensors", () => {
    const body = functionGraph(library(), "square_plus", {
      T: create(AttrValueSchema, attr.type(DataType.DT_DOUBLE)),
      N: create(AttrValueSchema, attr.int(2)),
    });
    assert.deepEqual(body.feeds, [
      { node: "x", index: 0 },
      { node: "n/0", index: 0 },
      { node: "n/1", index: 0 },
    ]);
    assert.deepEqual(body.feedDTypes, [DataType.DT_DOUBLE, F, F]);
    assert.deepEqual(body.fetchDTypes, [DataType.DT_DOUBLE, DataType.DT_DOUBLE, F]);
    // Nested calls are inlined under the function's name; `same` returns the input itself.
    assert.deepEqual(body.fetches, [
      { node: "square_plus/call/neg", index: 0 },
      { node: "x", index: 0 },
      { node: "square_plus/sum", index: 0 },
    ]);
    assert.deepEqual(body.targets, ["square_plus/effect"]);
    const nodes = body.graph.nodes;
    assert.equal(nodes.get("x")?.op, "Placeholder");
    assert.equal(attrType(nodes.get("x")?.attrs ?? {}, "dtype"), DataType.DT_DOUBLE);
    // Placeholders substituted from the caller's attrs, through the nested call too.
    assert.equal(attrType(nodes.get("square_plus/sq")?.attrs ?? {}, "T"), DataType.DT_DOUBLE);
    assert.equal(attrType(nodes.get("square_plus/call/neg")?.attrs ?? {}, "T"), DataType.DT_DOUBLE);
    assert.deepEqual(nodes.get("square_plus/sum")?.inputs, [
      { node: "n/0", index: 0 },
      { node: "n/1", index: 0 },
    ]);
    assert.equal(nodes.get("square_plus/call")?.op, "IdentityN");
    assert.equal(body.graph.functions.size, 2);
  });

  it("reports unknown functions and missing attrs", () => {
    assert.throws(
      () => functionGraph(library(), "nope"),
      (e: unknown) => e instanceof ServingError && e.code === Code.NOT_FOUND && /nope/.test(e.message),
    );
    assert.throws(
      () => functionGraph(library(), "square_plus", {}),
      (e: unknown) => e instanceof ServingError && /attr (T|N)/.test(e.message),
    );
  });
});
