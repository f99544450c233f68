import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import {
  needsFixtures,
  SAVEDMODEL_FIXTURES,
  savedModelFixture,
  TFSERVING_FIXTURES,
  tfServingModel,
} from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { rankingModel } from "../export/ranking-model.js";
import { listVersionDirs } from "../savedmodel/model-dir.js";
import { openSavedModel, type SavedModelBundle } from "../savedmodel/saved-model.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";
import { attrType } from "./attrs.js";
import {
  CALL_OPS,
  type Graph,
  type GraphNode,
  modelGraph,
  prepareInitGraph,
  prepareSignatureGraph,
  refKey,
} from "./index.js";
import { traceVariable, VARIABLE_OPS } from "./variable-ops.js";
import { INIT_OP_SIGNATURE } from "./variables.js";

const NOT_SAVED_MODELS = new Set([
  "bad_half_plus_two",
  "parse_example_tflite",
  "saved_model_half_plus_two_tflite",
  "saved_model_half_plus_two_tflite_with_sigdef",
]);

/** Every SavedModel version directory under both fixture folders, with its tag set. */
async function fixtureDirs(): Promise<{ label: string; dir: string; tags: string[] }[]> {
  const found: { label: string; dir: string; tags: string[] }[] = [];
  for (const name of (await readdir(TFSERVING_FIXTURES)).sort()) {
    if (NOT_SAVED_MODELS.has(name) || /\.(json|txt)$/.test(name)) continue;
    for (const { dir, version } of await listVersionDirs(join(TFSERVING_FIXTURES, name))) {
      found.push({ label: `${name}/${version}`, dir, tags: ["serve"] });
    }
  }
  for (const name of (await readdir(SAVEDMODEL_FIXTURES)).sort()) {
    if (name.endsWith(".md")) continue;
    const tags = name === "tf1_linear_regression" ? ["serve", "train"] : ["serve"];
    found.push({ label: name, dir: join(SAVEDMODEL_FIXTURES, name), tags });
  }
  return found;
}

const nodes = (graph: Graph): GraphNode[] => [...graph.nodes.values()];
const opsOf = (graph: Graph): string => {
  const counts = new Map<string, number>();
  for (const n of nodes(graph)) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => (n > 1 ? `${op}x${n}` : op))
    .join(" ");
};

/** The invariants every prepared graph must hold. */
function checkInvariants(
  graph: Graph,
  feeds: ReadonlyMap<string, { node: string; index: number }>,
  mutable: ReadonlySet<string>,
  where: string,
): void {
  const fed = new Set([...feeds.values()].map(refKey));
  for (const node of nodes(graph)) {
    assert.ok(!CALL_OPS.has(node.op) && !graph.functions.has(node.op), `${where}: call ${node.name} left`);
    if (VARIABLE_OPS.has(node.op))
      assert.ok(mutable.has(node.name), `${where}: immutable variable ${node.name} left`);
    if (node.op === "ReadVariableOp" || node.op === "ResourceGather") {
      const variable = node.inputs[0] && traceVariable(graph.nodes, node.inputs[0]);
      assert.ok(
        variable && mutable.has(variable),
        `${where}: ${node.op} ${node.name} of an immutable variable`,
      );
    }
    for (const ref of node.inputs) {
      assert.ok(
        graph.nodes.has(ref.node) || fed.has(refKey(ref)),
        `${where}: ${node.name} reads ${refKey(ref)}`,
      );
    }
    for (const c of node.controlInputs) assert.ok(graph.nodes.has(c), `${where}: ${node.name} waits on ${c}`);
  }
}

describe("prepareSignatureGraph on every fixture signature", needsFixtures, () => {
  it("inlines, freezes and prunes; logs the op types left for the lowering", async () => {
    const log: string[] = [];
    for (const { label, dir, tags } of await fixtureDirs()) {
      const bundle = await openSavedModel(dir, { tags });
      const stateful = modelGraph(bundle.metaGraph).statefulVariables;
      for (const key of [...bundle.signatures.keys()].sort()) {
        if (key === INIT_OP_SIGNATURE) continue;
        const prepared = await prepareSignatureGraph(bundle, key);
        checkInvariants(prepared.graph, prepared.feeds, stateful, `${label} ${key}`);
        assert.ok(
          [...prepared.mutableVariables.keys()].every((v) => stateful.has(v)),
          `${label} ${key}`,
        );
        for (const ref of prepared.fetches.values()) {
          const fed = [...prepared.feeds.values()].some((f) => refKey(f) === refKey(ref));
          assert.ok(
            fed || prepared.graph.nodes.has(ref.node),
            `${label} ${key}: fetch ${refKey(ref)} missing`,
          );
        }
        const mutable =
          prepared.mutableVariables.size > 0 ? ` [vars: ${[...prepared.mutableVariables.keys()]}]` : "";
        log.push(`${label} ${key}: ${opsOf(prepared.graph)}${mutable}`);
      }
      const init = await prepareInitGraph(bundle);
      checkInvariants(init.graph, init.feeds, stateful, `${label} init`);
      if (init.graph.nodes.size > 1) log.push(`${label} (init ${init.targets}): ${opsOf(init.graph)}`);
    }
    console.log(`op types left per fixture signature:\n  ${log.join("\n  ")}`);
  });
});

describe("prepared graphs of particular fixtures", needsFixtures, () => {
  const open = (dir: string, tags?: string[]): Promise<SavedModelBundle> =>
    openSavedModel(dir, tags ? { tags } : {});
  const scalar = (node: GraphNode | undefined): number => Number(node?.value?.values[0]);

  it("TF1 half_plus_two serving_default is y = Identity(Add(Mul(a, x), b)) with consts 0.5 and 2", async () => {
    const bundle = await open(tfServingModel("saved_model_half_plus_two_cpu"));
    const { graph, feeds, fetches } = await prepareSignatureGraph(bundle, "serving_default");
    assert.deepEqual([...graph.nodes.keys()].sort(), ["Add", "Mul", "a", "b", "y"]);
    assert.equal(scalar(graph.nodes.get("a")), 0.5);
    assert.equal(scalar(graph.nodes.get("b")), 2);
    assert.deepEqual(graph.nodes.get("Mul")?.inputs.map(refKey), ["a:0", "x:0"]);
    assert.deepEqual(graph.nodes.get("Add")?.inputs.map(refKey), ["Mul:0", "b:0"]);
    assert.equal(graph.nodes.get("y")?.op, "Identity");
    assert.deepEqual(
      [...feeds].map(([k, r]) => [k, refKey(r)]),
      [["x", "x:0"]],
    );
    assert.deepEqual(
      [...fetches].map(([k, r]) => [k, refKey(r)]),
      [["y", "y:0"]],
    );
  });

  it("TF1 signatures that feed intermediate tensors are cut there", async () => {
    const bundle = await open(tfServingModel("saved_model_half_plus_two_cpu"));
    const { graph } = await prepareSignatureGraph(bundle, "regress_x2_to_y3");
    assert.ok(!nodes(graph).some((n) => n.op.startsWith("ParseExample")));
    assert.ok(nodes(graph).some((n) => n.inputs.some((r) => refKey(r) === "x2:0")));
  });

  it("TF2 2.14 serving_default inlines wrapper → predict into the same arithmetic", async () => {
    const bundle = await open(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    const { graph, feeds, fetches } = await prepareSignatureGraph(bundle, "serving_default");
    const prefix = "StatefulPartitionedCall_5/StatefulPartitionedCall";
    const mul = graph.nodes.get(`${prefix}/Mul`);
    const add = graph.nodes.get(`${prefix}/Add`);
    assert.equal(mul?.op, "Mul");
    assert.equal(add?.op, "AddV2");
    assert.equal(scalar(graph.nodes.get(mul?.inputs[0]?.node ?? "")), 0.5);
    assert.equal(refKey(mul?.inputs[1] ?? { node: "", index: 0 }), "serving_default_x:0");
    assert.equal(scalar(graph.nodes.get(add?.inputs[1]?.node ?? "")), 2);
    assert.equal(refKey(feeds.get("x") ?? { node: "", index: 0 }), "serving_default_x:0");
    assert.deepEqual(graph.nodes.get("StatefulPartitionedCall_5")?.inputs.map(refKey), [`${prefix}/Add:0`]);
    assert.equal(refKey(fetches.get("y") ?? { node: "", index: 0 }), "StatefulPartitionedCall_5:0");
    assert.equal(graph.nodes.size, 5);
  });

  it("saved_model_counter keeps counter a variable in every signature", async () => {
    const bundle = await open(tfServingModel("saved_model_counter"));
    for (const key of ["incr_counter", "incr_counter_by", "reset_counter", "get_counter"]) {
      const { graph, mutableVariables } = await prepareSignatureGraph(bundle, key);
      assert.deepEqual([...mutableVariables], [["counter", "counter"]], key);
      assert.equal(graph.nodes.get("counter")?.op, "VariableV2", key);
    }
    const { graph } = await prepareSignatureGraph(bundle, "incr_counter");
    assert.ok(nodes(graph).some((n) => n.op === "AssignAdd"));
  });

  it("tf2_module_regression_multisig: train writes w and b, so w and b stay variables everywhere", async () => {
    const bundle = await open(savedModelFixture("tf2_module_regression_multisig"));
    const train = await prepareSignatureGraph(bundle, "train");
    assert.deepEqual([...train.mutableVariables.keys()].sort(), ["SGD/iter", "b", "w"]);
    assert.equal(nodes(train.graph).filter((n) => n.op === "ResourceApplyGradientDescent").length, 2);
    const w = await prepareSignatureGraph(bundle, "w");
    assert.deepEqual([...w.mutableVariables], [["w", "w/.ATTRIBUTES/VARIABLE_VALUE"]]);
    assert.ok(nodes(w.graph).some((n) => n.op === "ReadVariableOp"));
  });

  it("keras_two_input_mlp inlines the nested model; both branches read the same frozen kernel", async () => {
    const bundle = await open(savedModelFixture("keras_two_input_mlp"));
    const { graph, mutableVariables } = await prepareSignatureGraph(bundle, "serving_default");
    assert.equal(mutableVariables.size, 0);
    const matmuls = nodes(graph).filter((n) => n.op === "MatMul");
    assert.equal(matmuls.length, 3);
    const kernels = matmuls.map((m) => graph.nodes.get(m.inputs[1]?.node ?? "")?.value);
    assert.ok(kernels[0] && kernels[0] === kernels[1], "the shared Dense kernel is one tensor");
    assert.deepEqual(kernels[0]?.shape, [5, 3]);
    assert.equal(attrType(matmuls[0]?.attrs ?? {}, "T"), 1);
  });

  it("estimator_taxi classify keeps ParseExampleV2 and the hash tables, and its init fills them", async () => {
    const bundle = await open(savedModelFixture("estimator_taxi_tf_example"));
    const { graph } = await prepareSignatureGraph(bundle, "classification");
    const ops = new Set(nodes(graph).map((n) => n.op));
    for (const op of ["ParseExampleV2", "HashTableV2", "LookupTableFindV2", "GatherV2"])
      assert.ok(ops.has(op), op);
    const init = await prepareInitGraph(bundle);
    const tables = nodes(init.graph).filter((n) => n.op === "InitializeTableFromTextFileV2");
    assert.equal(tables.length, 2);
    for (const t of tables)
      assert.ok(graph.nodes.has(t.inputs[0]?.node ?? ""), "init and serving share tables");
  });
});

describe("prepareSignatureGraph on our own exported model", () => {
  const freshDir = useScratchDir("graph-index");
  let bundle: SavedModelBundle;
  const model = rankingModel();
  before(async () => {
    const dir = freshDir("ranking");
    await writeSavedModel(dir, model);
    bundle = await openSavedModel(dir);
  });

  it("freezes every layer from the written checkpoint", async () => {
    const { graph, mutableVariables } = await prepareSignatureGraph(bundle, "serving_default");
    assert.equal(mutableVariables.size, 0);
    assert.deepEqual(graph.nodes.get("dense_1/MatMul")?.inputs.map(refKey), [
      "input_features:0",
      "dense_1/kernel:0",
    ]);
    const kernel = graph.nodes.get("dense_1/kernel");
    assert.equal(kernel?.op, "Const");
    assert.deepEqual(kernel?.value?.values, model.layers[0]?.kernel.values);
    assert.deepEqual(
      new Set(nodes(graph).map((n) => n.op)),
      new Set(["Const", "MatMul", "BiasAdd", "Relu", "Identity"]),
    );
  });

  it("names a missing signature", async () => {
    await assert.rejects(prepareSignatureGraph(bundle, "nope"), /no signature "nope".*serving_default/);
  });
});
