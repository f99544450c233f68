// While / If / Case on small graphs: bodies with ONNX segments and TensorLists, compiled once at load.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ServingError } from "../../errors.js";
import { attr, GraphBuilder } from "../../export/graph-builder.js";
import { importGraph } from "../../graph/import.js";
import { type Graph, inlineFunctions, prune, type TensorRef } from "../../graph/index.js";
import type { AttrValueSchema } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import {
  type FunctionDef,
  FunctionDefLibrarySchema,
  FunctionDefSchema,
} from "../../proto/gen/tensorflow/core/framework/function_pb.js";
import { MetaGraphDefSchema } from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { type CompileSpec, compilePlan } from "../compile.js";
import type { Plan } from "../plan.js";
import { toBool } from "./control-flow.js";
import { f32, i32, newState, nums, shapeOf, str } from "./host.test-helpers.js";

type AttrInit = MessageInitShape<typeof AttrValueSchema>;
const F = DataType.DT_FLOAT;
const I = DataType.DT_INT32;
const B = DataType.DT_BOOL;
const V = DataType.DT_VARIANT;

const func = (name: string): AttrInit => ({ value: { case: "func", value: { name } } });
const funcs = (names: string[]): AttrInit => ({
  value: { case: "list", value: { func: names.map((name) => ({ name })) } },
});
const scalarConst = (name: string, value: Tensor) => ({
  name,
  op: "Const",
  attr: { dtype: attr.type(value.dtype), value: attr.tensor(value) },
});

/** A FunctionDef of fixed-dtype args. */
function fn(
  name: string,
  inputs: [string, DataType][],
  outputs: [string, DataType][],
  nodeDef: MessageInitShape<typeof FunctionDefSchema>["nodeDef"],
  ret: Record<string, string>,
): FunctionDef {
  const arg = ([argName, type]: [string, DataType]) => ({ name: argName, type });
  return create(FunctionDefSchema, {
    signature: { name, inputArg: inputs.map(arg), outputArg: outputs.map(arg) },
    nodeDef,
    ret,
  });
}

/** Imports, inlines, prunes and compiles a graph with a function library; feeds are Placeholders. */
async function compile(
  g: GraphBuilder,
  library: FunctionDef[],
  feeds: Record<string, DataType>,
  fetches: Record<string, string>,
  options: Partial<CompileSpec> = {},
): Promise<Plan> {
  const graphDef = g.build();
  graphDef.library = create(FunctionDefLibrarySchema, { function: library });
  const meta = create(MetaGraphDefSchema, { graphDef });
  const flat: Graph = inlineFunctions(importGraph(meta));
  const feedRefs = new Map(Object.keys(feeds).map((name) => [name, { node: name, index: 0 } as TensorRef]));
  const fetchRefs = new Map(
    Object.entries(fetches).map(([alias, ref]) => {
      const [node = "", index = "0"] = ref.split(":");
      return [alias, { node, index: Number(index) } as TensorRef];
    }),
  );
  const graph = prune(flat, { feeds: [...feedRefs.values()], fetches: [...fetchRefs.values()], targets: [] });
  return compilePlan(
    graph,
    {
      feeds: feedRefs,
      feedDTypes: new Map(Object.entries(feeds).map(([name, dtype]) => [`${name}:0`, dtype])),
      fetches: fetchRefs,
      ...options,
    },
    newState(),
  );
}

async function withPlan(plan: Plan, use: (plan: Plan) => Promise<void>): Promise<void> {
  try {
    await use(plan);
  } finally {
    await plan.release();
  }
}

// The loop variables of every While below, as cond/body arguments and as body results.
const LOOP_VARS: [string, DataType][] = [
  ["i", I],
  ["acc", F],
  ["list", V],
];
const LOOP_NEXT: [string, DataType][] = [
  ["i_next", I],
  ["acc_next", F],
  ["list_next", V],
];

// A loop writing a running sum into a TensorList:
//   i = 0; acc = x; list = reserve(5)
//   while i < 5: acc = acc + float(i); list[i] = acc; i = i + 1
const whileCond = fn(
  "cond",
  LOOP_VARS,
  [["ok", B]],
  [
    scalarConst("five", i32([5], [])),
    { name: "less", op: "Less", input: ["i", "five:output:0"], attr: { T: attr.type(I) } },
  ],
  { ok: "less:z:0" },
);
const whileBody = fn(
  "body",
  LOOP_VARS,
  LOOP_NEXT,
  [
    scalarConst("one", i32([1], [])),
    { name: "cast", op: "Cast", input: ["i"], attr: { SrcT: attr.type(I), DstT: attr.type(F) } },
    { name: "add", op: "AddV2", input: ["acc", "cast:y:0"], attr: { T: attr.type(F) } },
    {
      name: "set",
      op: "TensorListSetItem",
      input: ["list", "i", "add:z:0"],
      attr: { element_dtype: attr.type(F) },
    },
    { name: "inc", op: "AddV2", input: ["i", "one:output:0"], attr: { T: attr.type(I) } },
    { name: "out_list", op: "Identity", input: ["set:output_handle:0"], attr: { T: attr.type(V) } },
  ],
  { i_next: "inc:z:0", acc_next: "add:z:0", list_next: "out_list:output:0" },
);

function loopGraph(op = "StatelessWhile", cond = "cond", body = "body"): GraphBuilder {
  const g = new GraphBuilder();
  g.placeholder("x", F, []);
  g.constant("i0", i32([0], []));
  g.constant("shape", i32([], [0]));
  g.constant("n", i32([5], []));
  g.op("TensorListReserve", "reserve", ["shape", "n"], {
    element_dtype: attr.type(F),
    shape_type: attr.type(I),
  });
  g.op("Identity", "x_id", ["x"], { T: attr.type(F) });
  g.op(op, "loop", ["i0", "x_id", "reserve"], {
    T: attr.types([I, F, V]),
    cond: func(cond),
    body: func(body),
  });
  g.constant("any_shape", i32([-1], []));
  g.op("TensorListStack", "stacked", ["loop:2", "any_shape"], { element_dtype: attr.type(F) });
  return g;
}

describe("While", () => {
  for (const op of ["While", "StatelessWhile"]) {
    it(`${op} carries tensors and a TensorList through ONNX segments in its body`, async () => {
      const plan = await compile(
        loopGraph(op),
        [whileCond, whileBody],
        { x: F },
        {
          i: "loop:0",
          acc: "loop:1",
          stacked: "stacked:0",
        },
      );
      await withPlan(plan, async () => {
        const out = await plan.run(new Map([["x", f32([1], [])]]));
        assert.deepEqual(nums(out.get("i")), [5]);
        assert.deepEqual(nums(out.get("acc")), [11]);
        assert.deepEqual(shapeOf(out.get("stacked")), [5]);
        assert.deepEqual(nums(out.get("stacked")), [1, 2, 4, 7, 11]);
        // The same plan serves the next request from scratch.
        const again = await plan.run(new Map([["x", f32([-10], [])]]));
        assert.deepEqual(nums(again.get("stacked")), [-10, -9, -7, -4, 0]);
      });
    });
  }

  it("runs zero iterations when the condition is false at once", async () => {
    const g = new GraphBuilder();
    g.placeholder("i", I, []);
    g.placeholder("x", F, []);
    g.constant("shape", i32([], [0]));
    g.constant("n", i32([5], []));
    g.op("TensorListReserve", "reserve", ["shape", "n"], {
      element_dtype: attr.type(F),
      shape_type: attr.type(I),
    });
    g.op("While", "loop", ["i", "x", "reserve"], {
      T: attr.types([I, F, V]),
      cond: func("cond"),
      body: func("body"),
    });
    const plan = await compile(g, [whileCond, whileBody], { i: I, x: F }, { acc: "loop:1", i: "loop:0" });
    await withPlan(plan, async () => {
      const out = await plan.run(
        new Map([
          ["i", i32([7], [])],
          ["x", f32([3], [])],
        ]),
      );
      assert.deepEqual(nums(out.get("acc")), [3]);
      assert.deepEqual(nums(out.get("i")), [7]);
    });
  });

  it("fails a runaway loop with RESOURCE_EXHAUSTED after maxLoopIterations", async () => {
    const forever = fn(
      "forever",
      LOOP_VARS,
      [["ok", B]],
      [scalarConst("yes", new Tensor(B, [], Uint8Array.of(1)))],
      { ok: "yes:output:0" },
    );
    const spin = fn(
      "spin",
      LOOP_VARS,
      LOOP_NEXT,
      [
        scalarConst("one", i32([1], [])),
        { name: "inc", op: "AddV2", input: ["i", "one:output:0"], attr: { T: attr.type(I) } },
      ],
      { i_next: "inc:z:0", acc_next: "acc", list_next: "list" },
    );
    const plan = await compile(
      loopGraph("While", "forever", "spin"),
      [forever, spin],
      { x: F },
      { acc: "loop:1" },
      {
        maxLoopIterations: 20,
      },
    );
    await withPlan(plan, async () => {
      await assert.rejects(
        plan.run(new Map([["x", f32([1], [])]])),
        (e: unknown) =>
          e instanceof ServingError &&
          e.code === Code.RESOURCE_EXHAUSTED &&
          /While node loop: the loop ran 20 iterations/.test(e.message),
      );
    });
  });

  it("compiles a nested loop, and rejects a function that loops into itself", async () => {
    // outer body: acc = inner_loop(acc) [adds 0+1+2+3+4 = 10], i += 1; outer runs 5 times.
    const outerBody = fn(
      "outer_body",
      LOOP_VARS,
      LOOP_NEXT,
      [
        scalarConst("zero", i32([0], [])),
        scalarConst("one", i32([1], [])),
        {
          name: "inner",
          op: "While",
          input: ["zero:output:0", "acc", "list"],
          attr: { T: attr.types([I, F, V]), cond: func("cond"), body: func("body") },
        },
        { name: "inc", op: "AddV2", input: ["i", "one:output:0"], attr: { T: attr.type(I) } },
      ],
      { i_next: "inc:z:0", acc_next: "inner:output:1", list_next: "list" },
    );
    const plan = await compile(
      loopGraph("While", "cond", "outer_body"),
      [whileCond, whileBody, outerBody],
      { x: F },
      { acc: "loop:1" },
    );
    await withPlan(plan, async () => {
      const out = await plan.run(new Map([["x", f32([0.5], [])]]));
      assert.deepEqual(nums(out.get("acc")), [50.5]);
    });

    const selfBody = fn(
      "self_body",
      LOOP_VARS,
      LOOP_NEXT,
      [
        scalarConst("zero", i32([0], [])),
        {
          name: "again",
          op: "While",
          input: ["zero:output:0", "acc", "list"],
          attr: { T: attr.types([I, F, V]), cond: func("cond"), body: func("self_body") },
        },
      ],
      { i_next: "again:output:0", acc_next: "again:output:1", list_next: "again:output:2" },
    );
    await assert.rejects(
      compile(loopGraph("While", "cond", "self_body"), [whileCond, selfBody], { x: F }, { acc: "loop:1" }),
      (e: unknown) =>
        e instanceof ServingError && e.code === Code.UNIMPLEMENTED && /self_body runs itself/.test(e.message),
    );
  });

  it("rejects a body whose arity does not match the loop at load", async () => {
    const short = fn("short", [["i", I]], [["i", I]], [], { i: "i" });
    await assert.rejects(
      compile(loopGraph("While", "cond", "short"), [whileCond, short], { x: F }, { acc: "loop:1" }),
      /function short takes 1 inputs and returns 1 outputs; the node needs 3 and 3/,
    );
  });
});

// then: (x * 2, label "then"); else: (-x, label "else")
const thenFn = fn(
  "then_fn",
  [["x", F]],
  [
    ["y", F],
    ["label", DataType.DT_STRING],
  ],
  [
    scalarConst("two", f32([2], [])),
    { name: "mul", op: "Mul", input: ["x", "two:output:0"], attr: { T: attr.type(F) } },
    scalarConst("label", Tensor.fromStrings([], ["then"])),
  ],
  { y: "mul:z:0", label: "label:output:0" },
);
const elseFn = fn(
  "else_fn",
  [["x", F]],
  [
    ["y", F],
    ["label", DataType.DT_STRING],
  ],
  [
    { name: "neg", op: "Neg", input: ["x"], attr: { T: attr.type(F) } },
    scalarConst("label", Tensor.fromStrings([], ["else"])),
  ],
  { y: "neg:y:0", label: "label:output:0" },
);

describe("If", () => {
  for (const op of ["If", "StatelessIf"]) {
    it(`${op} runs the branch its condition picks`, async () => {
      const g = new GraphBuilder();
      g.placeholder("c", I, []);
      g.placeholder("x", F, [-1]);
      g.op(op, "if", ["c", "x"], {
        Tcond: attr.type(I),
        Tin: attr.types([F]),
        Tout: attr.types([F, DataType.DT_STRING]),
        then_branch: func("then_fn"),
        else_branch: func("else_fn"),
      });
      const plan = await compile(g, [thenFn, elseFn], { c: I, x: F }, { y: "if:0", label: "if:1" });
      await withPlan(plan, async () => {
        const x = f32([1, -2, 3]);
        const yes = await plan.run(
          new Map([
            ["c", i32([7], [])],
            ["x", x],
          ]),
        );
        assert.deepEqual(nums(yes.get("y")), [2, -4, 6]);
        assert.deepEqual(
          yes.get("label")?.strings.map((s) => Buffer.from(s).toString()),
          ["then"],
        );
        const no = await plan.run(
          new Map([
            ["c", i32([0], [])],
            ["x", x],
          ]),
        );
        assert.deepEqual(nums(no.get("y")), [-1, 2, -3]);
        assert.deepEqual(
          no.get("label")?.strings.map((s) => Buffer.from(s).toString()),
          ["else"],
        );
      });
    });
  }

  it("compiles a branch function used by several nodes once", async () => {
    const g = new GraphBuilder();
    g.placeholder("c", B, []);
    g.placeholder("x", F, []);
    const attrs = {
      Tcond: attr.type(B),
      Tin: attr.types([F]),
      Tout: attr.types([F, DataType.DT_STRING]),
      then_branch: func("then_fn"),
      else_branch: func("else_fn"),
    };
    g.op("StatelessIf", "a", ["c", "x"], attrs);
    g.op("StatelessIf", "b", ["c", "a:0"], attrs);
    const plan = await compile(g, [thenFn, elseFn], { c: B, x: F }, { y: "b:0" });
    await withPlan(plan, async () => {
      const functionPlans = (plan as unknown as { functionPlans: readonly Plan[] }).functionPlans;
      assert.equal(functionPlans.length, 2, "then_fn and else_fn, once each");
      const out = await plan.run(
        new Map([
          ["c", new Tensor(B, [], Uint8Array.of(1))],
          ["x", f32([3], [])],
        ]),
      );
      assert.deepEqual(nums(out.get("y")), [12]);
    });
  });
});

describe("Case", () => {
  for (const op of ["Case", "StatelessCase"]) {
    it(`${op} runs branch branch_index, the last one when out of range`, async () => {
      const g = new GraphBuilder();
      g.placeholder("k", I, []);
      g.placeholder("x", F, []);
      g.op(op, "case", ["k", "x"], {
        Tin: attr.types([F]),
        Tout: attr.types([F, DataType.DT_STRING]),
        branches: funcs(["else_fn", "then_fn"]),
      });
      const plan = await compile(g, [thenFn, elseFn], { k: I, x: F }, { y: "case:0" });
      await withPlan(plan, async () => {
        const run = async (k: number) =>
          nums(
            (
              await plan.run(
                new Map([
                  ["k", i32([k], [])],
                  ["x", f32([5], [])],
                ]),
              )
            ).get("y"),
          );
        assert.deepEqual(await run(0), [-5]);
        assert.deepEqual(await run(1), [10]);
        assert.deepEqual(await run(9), [10]);
        assert.deepEqual(await run(-1), [10]);
      });
    });
  }
});

describe("toBool", () => {
  it("is TF's: scalars by value, other tensors by having elements", () => {
    assert.equal(toBool(new Tensor(B, [], Uint8Array.of(0)), "c"), false);
    assert.equal(toBool(f32([0.5], []), "c"), true);
    assert.equal(toBool(new Tensor(DataType.DT_INT64, [], BigInt64Array.of(0n)), "c"), false);
    assert.equal(toBool(str([""], []), "c"), false);
    assert.equal(toBool(str(["a"], []), "c"), true);
    assert.equal(toBool(f32([0]), "c"), true, "a 1-element vector is true whatever its value");
    assert.equal(toBool(f32([]), "c"), false);
  });
});
