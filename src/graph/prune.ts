// Pruning: keep what the fetches and targets need, cut at the feeds, drop control edges that order
// nothing observable.
import { Code, ServingError } from "../errors.js";
import { type Graph, type GraphNode, refKey, type TensorRef } from "./ir.js";
import { isVariableWriter, VARIABLE_OPS } from "./variable-ops.js";

/** What a pruned graph must compute: fetched tensors and target ops, given the fed tensors. */
export interface PruneSpec {
  readonly feeds: readonly TensorRef[];
  readonly fetches: readonly TensorRef[];
  /** Ops to run for their effects (init ops, `train` steps). */
  readonly targets: readonly string[];
}

const PURE_WITHOUT_OPDEF = new Set(["Const", "NoOp", "Identity", "IdentityN", "Placeholder"]);

/** Whether an op has effects of its own: stateful per its OpDef, a variable writer, or an op nobody describes. */
export function isEffectfulOp(graph: Graph, op: string): boolean {
  if (isVariableWriter(op)) return true;
  const opDef = graph.opDefs.get(op);
  if (opDef) return opDef.isStateful;
  return !PURE_WITHOUT_OPDEF.has(op);
}

/**
 * Keeps only the nodes the fetches and targets need, following data and control inputs and cutting
 * at the feeds: a fed tensor's producer stays only if something else needs it. A control edge is kept
 * only when its source has effects (a stateful op, a variable write, or an op with such an ancestor),
 * so NoOp chains that merely order pure computations disappear with their edges.
 * Every data input of a kept node then resolves to a kept node or a feed; otherwise NOT_FOUND.
 *
 * @example
 * const pruned = prune(graph, { feeds: [parseRef("x:0")], fetches: [parseRef("y:0")], targets: [] });
 */
export function prune(graph: Graph, spec: PruneSpec): Graph {
  const fed = new Set(spec.feeds.map(refKey));
  const effectful = effectAnalysis(graph, fed);
  const needed = new Set<string>();
  const queue: string[] = [];
  const need = (name: string, why: string): void => {
    if (needed.has(name)) return;
    if (!graph.nodes.has(name))
      throw new ServingError(Code.NOT_FOUND, `${why} names node ${name}, which the graph lacks`);
    needed.add(name);
    queue.push(name);
  };
  for (const ref of spec.fetches) if (!fed.has(refKey(ref))) need(ref.node, `fetch ${refKey(ref)}`);
  for (const target of spec.targets) need(target, `target ${target}`);
  while (queue.length > 0) {
    const node = graph.nodes.get(queue.pop() ?? "") as GraphNode;
    for (const ref of node.inputs)
      if (!fed.has(refKey(ref))) need(ref.node, `input ${refKey(ref)} of ${node.name}`);
    for (const control of node.controlInputs) {
      if (graph.nodes.has(control) && effectful(control)) need(control, `control input of ${node.name}`);
    }
  }
  const kept = new Map<string, GraphNode>();
  for (const [name, node] of graph.nodes) {
    if (!needed.has(name)) continue;
    const controlInputs = node.controlInputs.filter((c) => needed.has(c) && effectful(c));
    kept.set(name, controlInputs.length === node.controlInputs.length ? node : { ...node, controlInputs });
  }
  const nodes = bypassIdentities(kept, spec, fed);
  for (const ref of spec.fetches) {
    const node = nodes.get(ref.node);
    if (node && node.outputDTypes.length > 0 && ref.index >= node.outputDTypes.length) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `fetch ${refKey(ref)}: ${node.op} ${node.name} has ${node.outputDTypes.length} outputs`,
      );
    }
  }
  return { nodes, functions: graph.functions, opDefs: graph.opDefs };
}

/**
 * Drops trivial Identity nodes: consumers of an Identity without control inputs read its input
 * directly, unless the Identity is fetched or targeted, its output is fed, or it reads a variable
 * (a TF1 `var/read` snapshot). Nodes no longer used are removed.
 */
function bypassIdentities(
  kept: Map<string, GraphNode>,
  spec: PruneSpec,
  fed: ReadonlySet<string>,
): Map<string, GraphNode> {
  const pinned = new Set([...spec.fetches.map((r) => r.node), ...spec.targets]);
  const source = (ref: TensorRef): TensorRef => {
    let current = ref;
    for (let node = kept.get(current.node); node; node = kept.get(current.node)) {
      const input = node.inputs[0];
      if (node.op !== "Identity" || !input || node.controlInputs.length > 0 || pinned.has(node.name)) break;
      if (fed.has(refKey(current)) || VARIABLE_OPS.has(kept.get(input.node)?.op ?? "")) break;
      current = input;
    }
    return current;
  };
  const rewired = new Map<string, GraphNode>();
  for (const [name, node] of kept) {
    const inputs = node.inputs.map((ref) => (fed.has(refKey(ref)) ? ref : source(ref)));
    rewired.set(name, inputs.every((ref, i) => ref === node.inputs[i]) ? node : { ...node, inputs });
  }
  const used = new Set<string>();
  const stack = [...pinned].filter((name) => rewired.has(name));
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (used.has(name)) continue;
    used.add(name);
    const node = rewired.get(name) as GraphNode;
    for (const pred of [...node.inputs.map((r) => r.node), ...node.controlInputs]) {
      if (rewired.has(pred) && !used.has(pred)) stack.push(pred);
    }
  }
  return new Map([...rewired].filter(([name]) => used.has(name)));
}

/**
 * Memoized "has effects": the node's op is effectful, or one of its unfed data producers or control
 * predecessors has effects. Iterative, so deep graphs do not overflow the stack; cycles (TF1 loops)
 * count as effect-free on the back edge.
 */
function effectAnalysis(graph: Graph, fed: ReadonlySet<string>): (name: string) => boolean {
  const memo = new Map<string, boolean>();
  const visiting = new Set<string>();
  const preds = (node: GraphNode): string[] => [
    ...node.inputs.filter((ref) => !fed.has(refKey(ref))).map((ref) => ref.node),
    ...node.controlInputs,
  ];
  return (start: string): boolean => {
    const stack = [start];
    while (stack.length > 0) {
      const name = stack[stack.length - 1] as string;
      if (memo.has(name)) {
        stack.pop();
        continue;
      }
      const node = graph.nodes.get(name);
      if (!node) {
        memo.set(name, false);
        stack.pop();
        continue;
      }
      visiting.add(name);
      const pending = preds(node).filter((p) => !memo.has(p) && !visiting.has(p));
      if (pending.length > 0) {
        stack.push(...pending);
        continue;
      }
      memo.set(name, isEffectfulOp(graph, node.op) || preds(node).some((p) => memo.get(p) === true));
      visiting.delete(name);
      stack.pop();
    }
    return memo.get(start) === true;
  };
}
