// Variables of a SavedModel graph: their checkpoint keys (read off the restore op), which of them
// some op writes, and the init op TF runs after restoring.
import { ServingError } from "../errors.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { MetaGraphDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import type { SaverDef } from "../proto/gen/tensorflow/core/protobuf/saver_pb.js";
import { attrString } from "./attrs.js";
import { inlineFunctions } from "./inline.js";
import { type Graph, type GraphNode, parseRef, type TensorRef } from "./ir.js";
import { type PruneSpec, prune } from "./prune.js";
import { isVariableWriter, traceVariable, VARIABLE_OPS } from "./variable-ops.js";

/** Signature key of the TF2 init op; its output names an op (`NoOp`), not a tensor. */
export const INIT_OP_SIGNATURE = "__saved_model_init_op";

/** Op names a `^name` / `name:0` string refers to. */
const opName = (name: string): string => parseRef(name.replace(/^\^/, "")).node;

/**
 * The ops to run once after restoring variables, in the order TF's loader looks for them: the
 * `__saved_model_init_op` signature's output (TF2), else collection `saved_model_main_op`, else
 * `legacy_init_op` (TF1). Empty when the model has none.
 *
 * @example
 * initTargets(bundle.metaGraph); // ["group_deps"] (TF1) or ["NoOp"] (TF2)
 */
export function initTargets(metaGraph: MetaGraphDef): string[] {
  const signature = metaGraph.signatureDef[INIT_OP_SIGNATURE];
  if (signature) {
    const names = Object.values(signature.outputs).flatMap((info) =>
      info.encoding.case === "name" ? [opName(info.encoding.value)] : [],
    );
    if (names.length > 0) return [...new Set(names)];
  }
  for (const key of ["saved_model_main_op", "legacy_init_op"]) {
    const kind = metaGraph.collectionDef[key]?.kind;
    if (kind?.case === "nodeList" && kind.value.value.length > 0)
      return [...new Set(kind.value.value.map(opName))];
  }
  return [];
}

/** The key a variable has in a TF1 checkpoint written without a Saver mapping: its op or shared name. */
export function defaultCheckpointKey(node: GraphNode): string {
  return node.op === "VarHandleOp" ? attrString(node.attrs, "shared_name") || node.name : node.name;
}

/**
 * Maps variable nodes to checkpoint keys by reading the restore op (`saver_def.restore_op_name`):
 * TF1 `save/restore_all` → `Assign(var, save/RestoreV2:k)` (or AssignVariableOp through Identity);
 * TF2 a StatefulPartitionedCall of `__inference__traced_restore_*`, whose body does the same with the
 * variables as arguments. Works on the graph before or after inlining: the restore op's ancestors are
 * inlined on their own first. VarHandleOps sharing a `shared_name` with a restored one get its key;
 * variables the restore op does not assign are absent from the map.
 *
 * @example
 * checkpointKeys(importGraph(metaGraph), metaGraph.saverDef).get("a"); // "a/.ATTRIBUTES/VARIABLE_VALUE"
 */
export function checkpointKeys(graph: Graph, saverDef: SaverDef | undefined): Map<string, string> {
  const keys = new Map<string, string>();
  const restore = saverDef?.restoreOpName ? opName(saverDef.restoreOpName) : "";
  if (!restore || !graph.nodes.has(restore)) return keys;
  const flat = inlineFunctions(ancestors(graph, [restore]));
  for (const node of flat.nodes.values()) {
    if (node.op !== "Assign" && node.op !== "AssignVariableOp") continue;
    const [target, value] = node.inputs;
    const variable = target && traceVariable(flat.nodes, target);
    const key = value && restoredKey(flat.nodes, value);
    if (variable && key !== undefined) keys.set(variable, key);
  }
  // Other VarHandleOps naming the same resource (shared_name) read the same checkpoint value.
  const bySharedName = new Map<string, string>();
  for (const [name, key] of keys) {
    const shared = sharedNameOf(graph.nodes.get(name) ?? flat.nodes.get(name));
    if (shared) bySharedName.set(shared, key);
  }
  for (const node of graph.nodes.values()) {
    const key = bySharedName.get(sharedNameOf(node));
    if (key !== undefined && !keys.has(node.name)) keys.set(node.name, key);
  }
  return keys;
}

/** The checkpoint key a tensor restores: `RestoreV2:k` (through Identity) → `tensor_names[k]`. */
function restoredKey(nodes: ReadonlyMap<string, GraphNode>, ref: TensorRef): string | undefined {
  let current = ref;
  for (let node = nodes.get(current.node); node; node = nodes.get(current.node)) {
    if (node.op === "RestoreV2") {
      const names = node.inputs[1] && constOf(nodes, node.inputs[1]);
      if (names?.dtype !== DataType.DT_STRING) return undefined;
      const key = names.strings[current.index];
      return key === undefined ? undefined : Buffer.from(key).toString("utf8");
    }
    const next =
      node.op === "Identity"
        ? node.inputs[0]
        : node.op === "IdentityN"
          ? node.inputs[current.index]
          : undefined;
    if (!next) return undefined;
    current = next;
  }
  return undefined;
}

function constOf(nodes: ReadonlyMap<string, GraphNode>, ref: TensorRef): GraphNode["value"] {
  let node = nodes.get(ref.node);
  while (node?.op === "Identity" && node.inputs[0]) node = nodes.get(node.inputs[0].node);
  return node?.op === "Const" ? node.value : undefined;
}

/** The subgraph of `roots` and everything they depend on (data and control). */
export function ancestors(graph: Graph, roots: readonly string[]): Graph {
  const keep = new Set<string>();
  const stack = roots.filter((r) => graph.nodes.has(r));
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (keep.has(name)) continue;
    keep.add(name);
    const node = graph.nodes.get(name) as GraphNode;
    for (const pred of [...node.inputs.map((r) => r.node), ...node.controlInputs]) {
      if (!keep.has(pred) && graph.nodes.has(pred)) stack.push(pred);
    }
  }
  const nodes = new Map([...graph.nodes].filter(([name]) => keep.has(name)));
  return { nodes, functions: graph.functions, opDefs: graph.opDefs };
}

/**
 * Variables that some op of a flat graph writes (Assign*, Assign*VariableOp, ResourceApply*,
 * ResourceScatter*...), plus VarHandleOps sharing a `shared_name` with a written one.
 */
export function writtenVariables(graph: Graph): Set<string> {
  const written = new Set<string>();
  for (const node of graph.nodes.values()) {
    if (!isVariableWriter(node.op) || !node.inputs[0]) continue;
    const variable = traceVariable(graph.nodes, node.inputs[0]);
    if (variable) written.add(variable);
  }
  const writtenShared = new Set(
    [...written].map((name) => sharedNameOf(graph.nodes.get(name))).filter((s) => s !== ""),
  );
  for (const node of graph.nodes.values()) {
    if (VARIABLE_OPS.has(node.op) && writtenShared.has(sharedNameOf(node))) written.add(node.name);
  }
  return written;
}

/**
 * The variables that must stay variables in every signature of a model version: those written by
 * what any of `runs` executes (each a signature's feeds/fetches, or the init targets). Writes nothing
 * can run — TF1 initializers, training ops no signature reaches, the restore op — do not count, so
 * those variables can be frozen. A run the graph cannot satisfy (a tensor it lacks) is skipped:
 * preparing that signature reports the problem.
 */
export function statefulVariables(flat: Graph, runs: readonly PruneSpec[]): Set<string> {
  const result = new Set<string>();
  for (const run of runs) {
    let needed: Graph;
    try {
      needed = prune(flat, run);
    } catch (error) {
      if (error instanceof ServingError) continue;
      throw error;
    }
    for (const name of writtenVariables(needed)) result.add(name);
  }
  // A VarHandleOp outside the runs may name the same resource (shared_name) as one written inside.
  const sharedNames = new Set(
    [...result].map((name) => sharedNameOf(flat.nodes.get(name))).filter((s) => s !== ""),
  );
  for (const node of flat.nodes.values()) {
    if (sharedNames.has(sharedNameOf(node))) result.add(node.name);
  }
  return result;
}

/** `container/shared_name` of a VarHandleOp with a shared_name, else "". */
function sharedNameOf(node: GraphNode | undefined): string {
  if (node?.op !== "VarHandleOp") return "";
  const shared = attrString(node.attrs, "shared_name") ?? "";
  return shared ? `${attrString(node.attrs, "container") ?? ""}/${shared}` : "";
}
