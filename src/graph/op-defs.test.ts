import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import { needsFixtures, SAVEDMODEL_FIXTURES, TFSERVING_FIXTURES } from "../../test/fixtures.js";
import { SUPPORTED_ONNX_OPS } from "../compiler/onnx/segment.js";
import { AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import type { OpDef, OpDef_ArgDef } from "../proto/gen/tensorflow/core/framework/op_def_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { listVersionDirs } from "../savedmodel/model-dir.js";
import { readSavedModel } from "../savedmodel/saved-model.js";
import { attrBool, attrShape, intAttr, typeAttr, typeListAttr } from "./attrs.js";
import {
  builtinOpDefs,
  fillDefaultAttrs,
  flatOutputIndex,
  opDefsFor,
  outputArity,
  outputDTypes,
  parseOpSpec,
} from "./op-defs.js";

const def = (op: string): OpDef => {
  const found = builtinOpDefs().get(op);
  assert.ok(found, `no built-in OpDef for ${op}`);
  return found;
};

const REQUIRED = (
  "Const Placeholder PlaceholderWithDefault Identity IdentityN NoOp StopGradient VariableV2 VarHandleOp " +
  "ReadVariableOp Assign AssignAdd AssignSub AssignVariableOp AssignAddVariableOp AssignSubVariableOp " +
  "ResourceGather MatMul BatchMatMulV2 BiasAdd Add AddV2 Sub Mul RealDiv Relu Sigmoid Tanh Softmax Reshape " +
  "Cast Shape ConcatV2 Pack StridedSlice Squeeze ExpandDims GatherV2 Mean Sum Max ArgMax ParseExample " +
  "ParseExampleV2 HashTableV2 LookupTableFindV2 LookupTableImportV2 InitializeTableFromTextFileV2 " +
  "StringToHashBucketFast RestoreV2 SaveV2 StatefulPartitionedCall PartitionedCall"
).split(" ");

describe("built-in OpDefs", () => {
  it("cover the ops the engine handles", () => {
    const missing = REQUIRED.filter((op) => !builtinOpDefs().has(op));
    assert.deepEqual(missing, []);
  });

  it("cover every op the ONNX lowering handles (so the importer computes their dtypes from TF's OpDef)", () => {
    const missing = SUPPORTED_ONNX_OPS.filter((op) => !builtinOpDefs().has(op));
    assert.deepEqual(missing, []);
  });

  it("follow the newest TF for ops whose args or attrs changed", () => {
    const topK = def("TopKV2");
    assert.deepEqual(
      topK.inputArg.map((a) => a.typeAttr),
      ["T", "Tk"],
    );
    const filled = fillDefaultAttrs({ T: typeAttr(DataType.DT_FLOAT) }, topK);
    assert.deepEqual(outputDTypes({ name: "top", attrs: filled }, topK), [
      DataType.DT_FLOAT,
      DataType.DT_INT32,
    ]);
    const explicit = fillDefaultAttrs(
      { T: typeAttr(DataType.DT_FLOAT), index_type: typeAttr(DataType.DT_INT64) },
      topK,
    );
    assert.deepEqual(outputDTypes({ name: "top", attrs: explicit }, topK), [
      DataType.DT_FLOAT,
      DataType.DT_INT64,
    ]);
    assert.ok(def("Conv2DBackpropInput").attr.some((a) => a.name === "explicit_paddings"));
    assert.equal(def("CheckNumerics").isStateful, true);
    assert.deepEqual(
      def("ResizeBilinear").outputArg.map((a) => a.type),
      [DataType.DT_FLOAT],
    );
  });

  it("parse args, attrs, defaults and statefulness", () => {
    const matmul = def("MatMul");
    assert.deepEqual(
      matmul.inputArg.map((a) => [a.name, a.typeAttr]),
      [
        ["a", "T"],
        ["b", "T"],
      ],
    );
    assert.equal(matmul.outputArg[0]?.name, "product");
    assert.equal(matmul.isStateful, false);
    const filled = fillDefaultAttrs({ T: typeAttr(DataType.DT_FLOAT) }, matmul);
    assert.equal(attrBool(filled, "transpose_a"), false);
    assert.equal(attrBool(filled, "transpose_b"), false);
    assert.equal(def("VarHandleOp").isStateful, true);
    assert.equal(def("VariableV2").outputArg[0]?.isRef, true);
    assert.equal(attrShape(fillDefaultAttrs({}, def("Placeholder")), "shape"), null);
    assert.deepEqual(
      def("ParseExample").outputArg.map((a) => a.numberAttr || a.typeListAttr),
      ["Nsparse", "sparse_types", "Nsparse", "Tdense"],
    );
  });

  it("keep attrs a node sets over defaults", () => {
    const yes = create(AttrValueSchema, { value: { case: "b", value: true } });
    const filled = fillDefaultAttrs({ transpose_a: yes }, def("MatMul"));
    assert.equal(attrBool(filled, "transpose_a"), true);
  });

  it("reject malformed specs", () => {
    assert.throws(() => parseOpSpec("Broken(x:Q) -> (y:Q)"), /unknown type Q/);
  });
});

describe("output arity and dtypes", () => {
  const parse = {
    name: "ParseExampleV2",
    attrs: fillDefaultAttrs(
      {
        num_sparse: intAttr(2),
        sparse_types: typeListAttr([DataType.DT_INT64, DataType.DT_STRING]),
        Tdense: typeListAttr([DataType.DT_FLOAT]),
        ragged_value_types: typeListAttr([]),
        ragged_split_types: typeListAttr([]),
      },
      def("ParseExampleV2"),
    ),
  };

  it("count number_attr and type_list_attr args", () => {
    assert.equal(outputArity(parse, def("ParseExampleV2")), 2 + 2 + 2 + 1);
    assert.deepEqual(outputDTypes(parse, def("ParseExampleV2")), [
      DataType.DT_INT64,
      DataType.DT_INT64,
      DataType.DT_INT64,
      DataType.DT_STRING,
      DataType.DT_INT64,
      DataType.DT_INT64,
      DataType.DT_FLOAT,
    ]);
  });

  it("flatten node:arg:k refs", () => {
    assert.equal(flatOutputIndex(parse, def("ParseExampleV2"), "sparse_values", 1), 3);
    assert.equal(flatOutputIndex(parse, def("ParseExampleV2"), "dense_values", 0), 6);
    assert.throws(() => flatOutputIndex(parse, def("ParseExampleV2"), "dense_values", 1), /out of range/);
    assert.throws(() => flatOutputIndex(parse, def("ParseExampleV2"), "nope", 0), /no output arg "nope"/);
  });

  it("report a missing type attr with the node name", () => {
    assert.throws(() => outputDTypes({ name: "m", attrs: {} }, def("MatMul")), /node m: attr T/);
  });
});

/** Every stripped_op_list of the fixtures, paired with the TF version that wrote it. */
async function fixtureOpLists(): Promise<{ version: string; ops: OpDef[] }[]> {
  const dirs: string[] = [];
  for (const root of [TFSERVING_FIXTURES, SAVEDMODEL_FIXTURES]) {
    for (const name of (await readdir(root)).sort()) {
      if (/\.(md|json|txt)$/.test(name)) continue;
      const versions = await listVersionDirs(join(root, name)).catch(() => []);
      dirs.push(...(versions.length > 0 ? versions.map((v) => v.dir) : [join(root, name)]));
    }
  }
  const lists: { version: string; ops: OpDef[] }[] = [];
  for (const dir of dirs) {
    const savedModel = await readSavedModel(dir).catch(() => undefined);
    for (const meta of savedModel?.metaGraphs ?? []) {
      lists.push({
        version: meta.metaInfoDef?.tensorflowVersion ?? "",
        ops: meta.metaInfoDef?.strippedOpList?.op ?? [],
      });
    }
  }
  return lists;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

describe("built-in OpDefs against the fixtures' stripped_op_lists", needsFixtures, () => {
  it("have the newest TF's args, and its defaults for the attrs both declare", async () => {
    // Ops change between TF versions (Fill gained index_type in 1.5), so compare with the newest writer.
    const newest = new Map<string, { version: number[]; op: OpDef }>();
    for (const { version, ops } of await fixtureOpLists()) {
      const v = version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
      for (const op of ops) {
        const seen = newest.get(op.name);
        if (!seen || compareVersions(v, seen.version) > 0) newest.set(op.name, { version: v, op });
      }
    }
    const problems: string[] = [];
    // Args are equal, or ours are a later TF's backward-compatible generalisation: a fixed dtype turned
    // into a type attr that defaults to it (TopKV2's k and indices became Tk and index_type after TF 2.1).
    const sameArg = (mine: OpDef, a: OpDef_ArgDef, b: OpDef_ArgDef | undefined): boolean => {
      if (!b) return false;
      const key = (x: OpDef_ArgDef) => [x.name, x.type, x.typeAttr, x.numberAttr, x.typeListAttr, x.isRef];
      if (JSON.stringify(key(a)) === JSON.stringify(key(b))) return true;
      const def = mine.attr.find((x) => x.name === a.typeAttr)?.defaultValue?.value;
      return (
        a.name === b.name &&
        b.type !== DataType.DT_INVALID &&
        def?.case === "type" &&
        def.value === b.type &&
        a.numberAttr === b.numberAttr &&
        a.isRef === b.isRef
      );
    };
    const sameArgs = (mine: OpDef, theirs: OpDef): boolean =>
      mine.inputArg.length === theirs.inputArg.length &&
      mine.outputArg.length === theirs.outputArg.length &&
      mine.inputArg.every((a, i) => sameArg(mine, a, theirs.inputArg[i])) &&
      mine.outputArg.every((a, i) => sameArg(mine, a, theirs.outputArg[i]));
    for (const [name, { version, op }] of newest) {
      const mine = builtinOpDefs().get(name);
      if (!mine) continue;
      if (!sameArgs(mine, op)) problems.push(`${name} args differ from TF ${version.join(".")}`);
      for (const attr of op.attr) {
        const own = mine.attr.find((a) => a.name === attr.name);
        if (
          own?.defaultValue &&
          attr.defaultValue &&
          !equals(AttrValueSchema, own.defaultValue, attr.defaultValue)
        ) {
          problems.push(`${name}.${attr.name} default differs from TF ${version.join(".")}`);
        }
      }
    }
    assert.ok(newest.size > 100, `only ${newest.size} ops compared`);
    assert.deepEqual(problems, []);
  });

  it("lose to the MetaGraphDef's own list", async () => {
    const [first] = await fixtureOpLists();
    assert.ok(first);
    const op = first.ops[0];
    assert.ok(op);
    const merged = opDefsFor({ metaInfoDef: { strippedOpList: { op: [op] } } } as never);
    assert.equal(merged.get(op.name), op);
  });
});
