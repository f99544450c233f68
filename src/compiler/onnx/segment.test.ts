import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { InferenceSession } from "onnxruntime-node";
import { Code, ServingError } from "../../errors.js";
import { attrBool, attrShape, attrType } from "../../graph/attrs.js";
import { type GraphNode, refKey, type TensorRef } from "../../graph/ir.js";
import { ModelProtoSchema } from "../../proto/gen/onnx/onnx_pb.js";
import { toOrtTensor } from "../../tensor/ort.js";
import { buildOnnxModel, ONNX_OPSET } from "./model-builder.js";
import {
  assertClose,
  assertTensorEqual,
  at,
  attr,
  compileSegment,
  constNode,
  DataType,
  f32,
  fromIndex,
  i32,
  importTestGraph,
  node,
  numbers,
  randomF32,
  runOnce,
} from "./onnx.test-helpers.js";
import {
  CONSTANT_INPUTS,
  hasOnnxHandler,
  type LoweredSegment,
  lowerSegment,
  type SegmentInput,
  SUPPORTED_ONNX_OPS,
} from "./segment.js";

const ref = (name: string, index = 0) => ({ node: name, index });
const fed = (name: string, dtype = DataType.DT_FLOAT, shape: number[] | null = null): SegmentInput => ({
  ref: ref(name),
  dtype,
  shape,
});

/**
 * Writes the test nodes as a GraphDef (fed tensors as Placeholders), imports it like a real model and
 * lowers the imported nodes named in `segment` (default: every non-Const node).
 */
function lowerImported(
  drafts: readonly GraphNode[],
  inputs: readonly SegmentInput[],
  outputs: readonly TensorRef[],
  segment?: readonly string[],
): LoweredSegment {
  const { graph, nodes } = importTestGraph(
    drafts,
    inputs.map((input) => ({ name: refKey(input.ref), dtype: input.dtype, shape: input.shape })),
  );
  const inside = nodes.filter((n) => (segment ? segment.includes(n.name) : n.value === undefined));
  return lowerSegment(inside, inputs, outputs, graph);
}

function expectError(run: () => unknown, code: Code, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ServingError, `ServingError expected, got ${String(error)}`);
    assert.equal(error.codeName, Code[code]);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("lowerSegment", () => {
  it("names inputs and outputs by their TF refs; Const inputs become initializers", () => {
    const w = constNode("w", f32([2], [1, 2]));
    const mul = node("Mul", "mul", ["x", "w"]);
    const lowered = lowerImported(
      [w, mul],
      [fed("x"), { ref: ref("w"), dtype: DataType.DT_FLOAT, shape: [2] }],
      [ref("mul")],
    );
    assert.deepEqual(lowered.inputNames, ["x:0"]);
    assert.deepEqual(lowered.inputRefs, [ref("x")]);
    assert.deepEqual(lowered.outputNames, ["mul:0"]);
    const model = fromBinary(ModelProtoSchema, lowered.model);
    assert.equal(model.opsetImport[0]?.version, BigInt(ONNX_OPSET));
    assert.deepEqual(
      model.graph?.initializer.map((t) => t.name),
      ["w:0"],
    );
    assert.deepEqual(
      model.graph?.input.map((i) => i.name),
      ["x:0"],
    );
  });

  it("is deterministic: the same nodes give the same bytes", () => {
    const build = () => {
      const nodes = [node("Relu", "a", ["x"]), node("Softmax", "b", ["a"]), node("AddV2", "c", ["a", "b"])];
      return lowerImported(nodes, [fed("x")], [ref("c"), ref("a")]).model;
    };
    assert.deepEqual(build(), build());
  });

  it("constInput looks through Identity chains inside and outside the segment", async () => {
    const x = randomF32([2, 3], 1);
    const nodes = [
      constNode("perm", i32([2], [1, 0])),
      node("Identity", "perm_outer", ["perm"], {}, [DataType.DT_INT32]),
      node("Identity", "perm_inner", ["perm_outer"], {}, [DataType.DT_INT32]),
      node("Transpose", "y", ["x", "perm_inner"]),
    ];
    // perm_outer stays outside the segment (as if the partitioner folded it); perm_inner is lowered.
    const lowered = lowerImported(
      nodes,
      [fed("x", DataType.DT_FLOAT, [2, 3])],
      [ref("y")],
      ["perm_inner", "y"],
    );
    const session = await InferenceSession.create(lowered.model);
    const out = await session.run({ "x:0": toOrtTensor(x) });
    await session.release();
    assert.deepEqual(out["y:0"]?.dims, [3, 2]);
    assert.deepEqual(
      Array.from(out["y:0"]?.data as Float32Array),
      numbers(fromIndex(DataType.DT_FLOAT, [3, 2], ([i, j]) => at(x, [j!, i!]))),
    );
  });

  it("outputs that are inputs, constants or repeated get their own Identity copies", async () => {
    const c = f32([1], [7]);
    const x = f32([2], [1, -1]);
    const [a, b, k, r] = await runOnce([constNode("c", c), node("Relu", "r", ["x"])], { x }, [
      "x",
      "r",
      "c",
      "r",
    ]);
    assertTensorEqual(a!, x);
    assertTensorEqual(b!, f32([2], [1, 0]));
    assertTensorEqual(k!, c);
    assertTensorEqual(r!, f32([2], [1, 0]));
  });

  it("reads Const refs the caller did not list as inputs; drops unused initializers and nodes", () => {
    const nodes = [
      constNode("unused", f32([1000], new Array(1000).fill(1))),
      constNode("b", f32([1], [1])),
      node("Add", "y", ["x", "b"]),
      node("Exp", "dead", ["x"]),
    ];
    const lowered = lowerImported(nodes, [fed("x")], [ref("y")]);
    const graph = fromBinary(ModelProtoSchema, lowered.model).graph!;
    assert.deepEqual(
      graph.initializer.map((t) => t.name),
      ["b:0"],
    );
    assert.deepEqual(
      graph.node.map((n) => n.opType),
      ["Add"],
    );
  });

  it("reports unsupported ops, non-constant attr inputs and unlowered outputs as UNIMPLEMENTED", () => {
    const custom = node("MyCustomOp", "custom", ["x"]);
    expectError(
      () => lowerImported([custom], [fed("x")], [ref("custom")]),
      Code.UNIMPLEMENTED,
      /MyCustomOp custom/,
    );
    const transpose = node("Transpose", "t", ["x", "perm"]);
    expectError(
      () => lowerImported([transpose], [fed("x"), fed("perm", DataType.DT_INT32)], [ref("t")]),
      Code.UNIMPLEMENTED,
      /^Transpose t: perm must be a constant$/,
    );
    const bn = node(
      "FusedBatchNormV3",
      "bn",
      ["x", "s", "o", "m", "v"],
      { is_training: attr.bool(false) },
      new Array(6).fill(DataType.DT_FLOAT),
    );
    const inputs = ["x", "s", "o", "m", "v"].map((n) =>
      fed(n, DataType.DT_FLOAT, n === "x" ? [1, 2, 2, 3] : [3]),
    );
    expectError(
      () => lowerImported([bn], inputs, [ref("bn", 3)]),
      Code.UNIMPLEMENTED,
      /FusedBatchNormV3 bn: output 3/,
    );
    const gather = node("GatherV2", "g", ["x", "i", "axis"], { batch_dims: attr.int(1) });
    const axis = constNode("axis", i32([], [1]));
    expectError(
      () => lowerImported([axis, gather], [fed("x"), fed("i", DataType.DT_INT32)], [ref("g")]),
      Code.UNIMPLEMENTED,
      /GatherV2 g: batch_dims/,
    );
  });

  it("ops listed in CONSTANT_INPUTS refuse fed values there", () => {
    const arity: Record<string, number> = {
      ConcatV2: 3,
      Concat: 3,
      SplitV: 3,
      StridedSlice: 4,
      GatherV2: 3,
      MaxPoolV2: 3,
      Conv2DBackpropInput: 3,
    };
    // The attrs TF's OpDefs require beyond what the (int32) inputs determine.
    const required: Record<string, Record<string, ReturnType<typeof attr.int>>> = {
      Split: { num_split: attr.int(1) },
      SplitV: { num_split: attr.int(1) },
      MaxPoolV2: { padding: attr.string("SAME") },
      Conv2DBackpropInput: { strides: attr.ints([1, 1, 1, 1]), padding: attr.string("SAME") },
    };
    for (const [op, positions] of CONSTANT_INPUTS) {
      const count = arity[op] ?? 2;
      const names = Array.from({ length: count }, (_, i) => `in${i}`);
      const n = node(op, "n", names, required[op]);
      const inputs = names.map((name) => fed(name, DataType.DT_INT32, [4]));
      expectError(
        () => lowerImported([n], inputs, [ref("n")]),
        Code.UNIMPLEMENTED,
        new RegExp(`^${op} n: .* must be a constant$`),
      );
      assert.ok(positions.length > 0);
    }
  });

  it("an input that is neither fed nor constant is an INTERNAL error", () => {
    // The GraphDef names an input no node produces (T given, as nothing can be inferred from it).
    const relu = node("Relu", "r", ["nowhere"], { T: attr.type(DataType.DT_FLOAT) });
    expectError(() => lowerImported([relu], [], [ref("r")]), Code.INTERNAL, /nowhere:0/);
  });

  it("runs a Keras-style Dense → BiasAdd → Relu → Dense → Softmax stack with a dynamic batch", async () => {
    const w1 = randomF32([4, 8], 2);
    const b1 = randomF32([8], 3);
    const w2 = randomF32([8, 3], 4);
    const compiled = await compileSegment({
      nodes: [
        constNode("w1", w1),
        constNode("b1", b1),
        constNode("w2", w2),
        node("MatMul", "dense/MatMul", ["x", "w1"]),
        node("BiasAdd", "dense/BiasAdd", ["dense/MatMul", "b1"]),
        node("Relu", "dense/Relu", ["dense/BiasAdd"]),
        node("MatMul", "out/MatMul", ["dense/Relu", "w2"]),
        node("Softmax", "out/Softmax", ["out/MatMul"]),
      ],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 4] }],
      outputs: ["out/Softmax"],
    });
    try {
      for (const batch of [1, 3]) {
        const x = randomF32([batch, 4], 10 + batch);
        const [y] = await compiled.run(x);
        const hidden = fromIndex(DataType.DT_FLOAT, [batch, 8], ([i, j]) => {
          let s = at(b1, [j!]);
          for (let k = 0; k < 4; k++) s += at(x, [i!, k]) * at(w1, [k, j!]);
          return Math.max(s, 0);
        });
        const logits = fromIndex(DataType.DT_FLOAT, [batch, 3], ([i, j]) => {
          let s = 0;
          for (let k = 0; k < 8; k++) s += at(hidden, [i!, k]) * at(w2, [k, j!]);
          return s;
        });
        const expected = fromIndex(DataType.DT_FLOAT, [batch, 3], ([i, j]) => {
          const row = [0, 1, 2].map((k) => Math.exp(at(logits, [i!, k])));
          return row[j!]! / row.reduce((a, b) => a + b, 0);
        });
        assertClose(y!, expected);
      }
    } finally {
      await compiled.session.release();
    }
  });
});

describe("buildOnnxModel", () => {
  it("declares -1 dims as distinct symbolic dims and null shapes as no shape", () => {
    const bytes = buildOnnxModel({
      name: "neg",
      initializers: new Map(),
      inputs: [
        { name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 2, -1] },
        { name: "z", dtype: DataType.DT_INT64, shape: null },
      ],
      outputs: [{ name: "y", dtype: DataType.DT_FLOAT }],
      nodes: [{ opType: "Neg", name: "n", inputs: ["x"], outputs: ["y"], attrs: {} }],
    });
    const graph = fromBinary(ModelProtoSchema, bytes).graph!;
    const type = graph.input[0]?.type?.value;
    assert.equal(type?.case, "tensorType");
    const dims = type?.case === "tensorType" ? type.value.shape?.dim.map((d) => d.value) : [];
    assert.equal(dims?.[0]?.case, "dimParam");
    assert.deepEqual(dims?.[1], { case: "dimValue", value: 2n });
    assert.equal(dims?.[2]?.case, "dimParam");
    assert.notEqual(dims?.[0]?.value, dims?.[2]?.value);
    const z = graph.input[1]?.type?.value;
    assert.equal(z?.case === "tensorType" ? z.value.shape : "none", undefined);
  });
});

describe("handler registry", () => {
  it("hasOnnxHandler and a sorted SUPPORTED_ONNX_OPS", () => {
    assert.ok(hasOnnxHandler("Conv2D"));
    assert.ok(!hasOnnxHandler("ParseExampleV2"));
    assert.deepEqual([...SUPPORTED_ONNX_OPS], [...SUPPORTED_ONNX_OPS].sort());
  });
});

describe("op-level test harness (importTestGraph)", () => {
  it("writes NodeDefs with GraphBuilder, Placeholders for feeds, and imports them like a real model", () => {
    const { metaGraph, graph, nodes } = importTestGraph(
      [constNode("w", f32([3, 2], [1, 2, 3, 4, 5, 6])), node("MatMul", "y", ["x", "w"])],
      [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 3] }],
    );
    assert.deepEqual(metaGraph.metaInfoDef?.tags, ["serve"]);
    const defs = new Map(metaGraph.graphDef?.node.map((n) => [n.name, n]));
    assert.equal(defs.get("x")?.op, "Placeholder");
    assert.deepEqual(attrShape(graph.nodes.get("x")!.attrs, "shape"), [-1, 3]);
    // The NodeDef carries the inferred T only; the importer fills TF's defaults.
    assert.deepEqual(Object.keys(defs.get("y")?.attr ?? {}), ["T"]);
    assert.equal(attrType(nodes[1]!.attrs, "T"), DataType.DT_FLOAT);
    assert.equal(attrBool(nodes[1]!.attrs, "transpose_a"), false);
    assert.deepEqual(nodes[1]!.outputDTypes, [DataType.DT_FLOAT]);
    assert.equal(graph.nodes.get("x")?.op, "Placeholder");
    assert.deepEqual(nodes[0]!.value?.shape, [3, 2]);
  });

  it("rejects graphs TF would reject, and output dtypes that differ from TF's OpDefs", () => {
    const x = [{ name: "x", dtype: DataType.DT_FLOAT, shape: [2] }];
    const n = [{ name: "n", dtype: DataType.DT_INT64, shape: [] }];
    assert.throws(
      () => importTestGraph([node("Size", "s", ["x"], {}, [DataType.DT_INT64])], x),
      /Size s: output dtypes/,
    );
    assert.throws(
      () => importTestGraph([node("Concat", "c", ["n", "x", "x"])], [...x, ...n]),
      /must be DT_INT32/,
    );
    assert.throws(
      () => importTestGraph([node("AddV2", "a", ["x", "n"])], [...x, ...n]),
      /contradicts attr T/,
    );
    assert.throws(
      () => importTestGraph([node("CheckNumerics", "c", ["x"])], x),
      /attr message has no default/,
    );
    assert.throws(
      () => importTestGraph([node("Relu", "r", ["x"], { padding: attr.string("SAME") })], x),
      /attr padding is not in TF's OpDef/,
    );
    assert.throws(
      () =>
        importTestGraph(
          [node("ConcatV2", "c", ["x", "axis"])],
          [...x, { name: "axis", dtype: DataType.DT_INT32, shape: [] }],
        ),
      /attr N must be >= 2/,
    );
  });
});
