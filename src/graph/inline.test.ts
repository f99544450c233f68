import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { attr } from "../export/graph-builder.js";
import type { AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { type FunctionDef, FunctionDefSchema } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import { type NodeDef, NodeDefSchema } from "../proto/gen/tensorflow/core/framework/node_def_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { MetaGraphDefSchema } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { attrType } from "./attrs.js";
import { importGraph } from "./import.js";
import { CALL_OPS, inlineFunctions } from "./inline.js";
import { type Graph, type GraphNode, refKey } from "./ir.js";

type AttrInit = MessageInitShape<typeof AttrValueSchema>;
const F = DataType.DT_FLOAT;
const R = DataType.DT_RESOURCE;
const float = attr.type(F);

const nd = (name: string, op: string, input: string[] = [], attrs: Record<string, AttrInit> = {}): NodeDef =>
  create(NodeDefSchema, { name, op, input, attr: attrs });
const placeholder = (name: string): AttrInit => ({ value: { case: "placeholder", value: name } });
const func = (name: string, attrs: Record<string, AttrInit> = {}): AttrInit => ({
  value: { case: "func", value: { name, attr: attrs } },
});

function fn(
  name: string,
  inputs: [string, DataType][],
  outputs: [string, DataType][],
  body: NodeDef[],
  ret: Record<string, string>,
  controlRet: Record<string, string> = {},
): FunctionDef {
  const arg = ([argName, type]: [string, DataType]) => ({ name: argName, type });
  return create(FunctionDefSchema, {
    signature: {
      name,
      inputArg: inputs.map(arg),
      outputArg: outputs.map(arg),
      attr: [{ name: "T", type: "type" }],
    },
    nodeDef: body,
    ret,
    controlRet,
  });
}

// inner(x, v) -> (a = x*x' via IdentityN, b = x); writes v; its Square takes T from the caller.
const inner = fn(
  "inner",
  [
    ["x", F],
    ["v", R],
  ],
  [
    ["a", F],
    ["b", F],
  ],
  [
    nd("sq", "Square", ["x"], { T: placeholder("T") }),
    nd("n", "IdentityN", ["x", "sq:y:0"], { T: attr.types([F, F]) }),
    nd("m", "Mul", ["n:output:0", "n:output:1"], { T: float }),
    nd("w", "AssignAddVariableOp", ["v", "x"], { dtype: float }),
  ],
  { a: "m:z:0", b: "x" },
  { w: "w" },
);

// outer(x, v) -> y: calls inner twice, once through StatefulPartitionedCall, once by name.
const outer = fn(
  "outer",
  [
    ["x", F],
    ["v", R],
  ],
  [["y", F]],
  [
    nd("c", "StatefulPartitionedCall", ["x", "v"], {
      f: func("inner", { T: float }),
      Tin: attr.types([F, R]),
      Tout: attr.types([F, F]),
    }),
    nd("d", "inner", ["c:output:1", "v"], { T: float }),
    nd("y", "AddV2", ["c:output:0", "d:a:0"], { T: float }),
  ],
  { y: "y:z:0" },
);

function graphOf(top: NodeDef[], functions: FunctionDef[] = [inner, outer]): Graph {
  return importGraph(
    create(MetaGraphDefSchema, { graphDef: { node: top, library: { function: functions } } }),
  );
}

const topLevel = [
  nd("x", "Placeholder", [], { dtype: float }),
  nd("v", "VarHandleOp", [], { dtype: float, shape: attr.shape([]) }),
  nd("init", "NoOp"),
  nd("call", "StatefulPartitionedCall", ["x", "v", "^init"], {
    f: func("outer"),
    Tin: attr.types([F, R]),
    Tout: attr.types([F]),
  }),
  nd("out", "Identity", ["call"], { T: float }),
  nd("after", "NoOp", ["^call"]),
];

const get = (graph: Graph, name: string): GraphNode => {
  const node = graph.nodes.get(name);
  assert.ok(node, `no node ${name} among ${[...graph.nodes.keys()].join(", ")}`);
  return node;
};
const inputs = (graph: Graph, name: string): string[] => get(graph, name).inputs.map(refKey);

describe("inlineFunctions", () => {
  const flat = inlineFunctions(graphOf(topLevel));

  it("leaves no call ops; calls become IdentityN/NoOp nodes of the same name", () => {
    const calls = [...flat.nodes.values()].filter(
      (n) => CALL_OPS.has(n.op) || n.op === "inner" || n.op === "outer",
    );
    assert.deepEqual(calls, []);
    assert.equal(get(flat, "call").op, "IdentityN");
    assert.equal(get(flat, "call/c").op, "IdentityN");
    assert.equal(get(flat, "call/d").op, "IdentityN");
    assert.deepEqual(get(flat, "call").outputDTypes, [F]);
  });

  it("names body nodes <call>/<inner>, recursively, and resolves node:arg:k to flat indices", () => {
    assert.deepEqual(inputs(flat, "call/c/m"), ["call/c/n:0", "call/c/n:1"]);
    assert.deepEqual(inputs(flat, "call/c/n"), ["x:0", "call/c/sq:0"]);
    assert.deepEqual(inputs(flat, "call/y"), ["call/c/m:0", "call/d/m:0"]);
  });

  it("binds arguments to the caller's inputs, through nested calls", () => {
    // d's x is c's output b, which is outer's x, which is the top-level x.
    assert.deepEqual(inputs(flat, "call/d/sq"), ["x:0"]);
    assert.deepEqual(inputs(flat, "call/c/w"), ["v:0", "x:0"]);
    assert.deepEqual(inputs(flat, "call/d/w"), ["v:0", "x:0"]);
  });

  it("fills placeholder attrs from f's attrs or from the call node's own attrs", () => {
    assert.equal(attrType(get(flat, "call/c/sq").attrs, "T"), F);
    assert.equal(attrType(get(flat, "call/d/sq").attrs, "T"), F);
  });

  it("points consumers at the producers and keeps control edges through the call node", () => {
    assert.deepEqual(inputs(flat, "out"), ["call/y:0"]);
    assert.deepEqual(inputs(flat, "call"), ["call/y:0"]);
    assert.deepEqual(get(flat, "after").controlInputs, ["call"]);
    assert.deepEqual(get(flat, "call/c").controlInputs, ["call/c/w"]);
  });

  it("orders the stateful body nodes after the call's control inputs", () => {
    assert.deepEqual(get(flat, "call/c/w").controlInputs, ["init"]);
    assert.deepEqual(get(flat, "call/c/m").controlInputs, []);
  });

  it("keeps If/While nodes and their bodies", () => {
    const g = inlineFunctions(
      graphOf([
        nd("p", "Placeholder", [], { dtype: attr.type(DataType.DT_BOOL) }),
        nd("x", "Placeholder", [], { dtype: float }),
        nd("if", "StatelessIf", ["p", "x"], {
          Tcond: attr.type(DataType.DT_BOOL),
          Tin: attr.types([F]),
          Tout: attr.types([F]),
          then_branch: func("inner"),
          else_branch: func("outer"),
        }),
      ]),
    );
    assert.equal(get(g, "if").op, "StatelessIf");
    assert.ok(g.functions.has("inner"));
  });

  it("fails clearly on unknown functions and unset placeholders", () => {
    const unknown = graphOf([
      nd("c", "PartitionedCall", [], { f: func("nope"), Tin: attr.types([]), Tout: attr.types([]) }),
    ]);
    assert.throws(
      () => inlineFunctions(unknown),
      (e: unknown) => e instanceof ServingError && e.code === Code.NOT_FOUND && /nope/.test(e.message),
    );
    const unset = graphOf([
      nd("x", "Placeholder", [], { dtype: float }),
      nd("v", "VarHandleOp", [], { dtype: float, shape: attr.shape([]) }),
      nd("c", "StatefulPartitionedCall", ["x", "v"], {
        f: func("inner"),
        Tin: attr.types([F, R]),
        Tout: attr.types([F, F]),
      }),
    ]);
    assert.throws(() => inlineFunctions(unset), /placeholder T/);
  });

  it("rejects recursive functions", () => {
    const loop = fn("loop", [["x", F]], [["y", F]], [nd("again", "loop", ["x"])], { y: "again:y:0" });
    const g = graphOf([nd("x", "Placeholder", [], { dtype: float }), nd("c", "loop", ["x"])], [loop]);
    assert.throws(
      () => inlineFunctions(g),
      (e: unknown) => e instanceof ServingError && e.code === Code.UNIMPLEMENTED,
    );
  });
});
