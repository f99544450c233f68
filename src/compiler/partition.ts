import { Code, ServingError } from "../errors.js";
import { type Graph, type GraphNode, refKey, type TensorRef } from "../graph/ir.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";

/** Where a node runs: folded into a constant, fed by the caller, inside an ONNX segment, or on the host. */
export type Placement = "const" | "fed" | "onnx" | "host";

/** One step of a plan before lowering: an ONNX segment (several nodes) or a single host op. */
export type PartitionStep =
  | { readonly kind: "onnx"; readonly nodes: readonly GraphNode[] }
  | { readonly kind: "host"; readonly node: GraphNode };

export interface PartitionInput {
  readonly graph: Graph;
  /** Tensors supplied by the caller (`node:k`) and their dtypes; their producers need not be in the graph. */
  readonly feeds: ReadonlyMap<string, DataType>;
  readonly canLowerToOnnx: (op: string) => boolean;
  readonly hasHostKernel: (op: string) => boolean;
}

/** dtypes that never enter an ONNX segment: strings (onnxruntime cuts them at NUL bytes) and resources. */
const HOST_ONLY_DTYPES: ReadonlySet<DataType> = new Set([
  DataType.DT_STRING,
  DataType.DT_RESOURCE,
  DataType.DT_VARIANT,
]);

/**
 * Splits a pruned graph into an ordered list of ONNX segments and host steps, with as few ONNX
 * segments as the host ops allow. Each node gets a host depth: the most host ops on any path from
 * the inputs to it. ONNX nodes of equal depth form one segment, run before the host ops of that depth;
 * so every input of a step is ready before the step runs. Control edges count as edges for ordering.
 * Every op that is neither lowerable nor a host kernel is reported at once, with a node using it.
 *
 * @example
 * const steps = partition({ graph, feeds: new Map([["x:0", DataType.DT_FLOAT]]), canLowerToOnnx: hasOnnxHandler, hasHostKernel: isHostOp });
 */
export function partition(input: PartitionInput): PartitionStep[] {
  const order = topologicalOrder(input.graph);
  const placement = new Map<string, Placement>();
  const unsupported = new Map<string, string>();
  for (const node of order) {
    const where = place(node, input);
    if (where === undefined) {
      if (!unsupported.has(node.op)) unsupported.set(node.op, node.name);
      continue;
    }
    placement.set(node.name, where);
  }
  if (unsupported.size > 0) {
    const list = [...unsupported].map(([op, name]) => `${op} (e.g. node ${name})`).join(", ");
    throw new ServingError(Code.UNIMPLEMENTED, `unsupported TensorFlow ops: ${list}`);
  }

  const depth = new Map<string, number>();
  for (const node of order) {
    let d = 0;
    for (const pred of predecessors(node)) {
      const p = placement.get(pred);
      if (p === undefined || p === "const" || p === "fed") continue;
      d = Math.max(d, (depth.get(pred) ?? 0) + (p === "host" ? 1 : 0));
    }
    depth.set(node.name, d);
  }

  const maxDepth = Math.max(0, ...depth.values());
  const steps: PartitionStep[] = [];
  for (let level = 0; level <= maxDepth; level++) {
    const onnx = order.filter((n) => placement.get(n.name) === "onnx" && depth.get(n.name) === level);
    if (onnx.length > 0) steps.push({ kind: "onnx", nodes: onnx });
    for (const node of order) {
      if (placement.get(node.name) === "host" && depth.get(node.name) === level)
        steps.push({ kind: "host", node });
    }
  }
  return steps;
}

function place(node: GraphNode, input: PartitionInput): Placement | undefined {
  if (node.value !== undefined) return "const";
  if (node.outputDTypes.every((_, i) => input.feeds.has(refKey({ node: node.name, index: i })))) {
    if (node.outputDTypes.length > 0) return "fed";
  }
  const touchesHostOnly =
    node.outputDTypes.some((d) => HOST_ONLY_DTYPES.has(d)) ||
    node.inputs.some((ref) =>
      HOST_ONLY_DTYPES.has(input.feeds.get(refKey(ref)) ?? dtypeOf(input.graph, ref)),
    );
  if (!touchesHostOnly && input.canLowerToOnnx(node.op)) return "onnx";
  if (input.hasHostKernel(node.op)) return "host";
  return undefined;
}

/** The dtype of a tensor in the graph. */
export function dtypeOf(graph: Graph, ref: TensorRef): DataType {
  return graph.nodes.get(ref.node)?.outputDTypes[ref.index] ?? DataType.DT_INVALID;
}

function predecessors(node: GraphNode): string[] {
  return [...node.inputs.map((r) => r.node), ...node.controlInputs];
}

/** Nodes in an order where every node comes after its data and control predecessors. */
export function topologicalOrder(graph: Graph): GraphNode[] {
  const order: GraphNode[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (root: GraphNode): void => {
    // Iterative DFS: Keras graphs are deep enough to overflow recursion.
    const stack: [GraphNode, number][] = [[root, 0]];
    state.set(root.name, "visiting");
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      const preds = predecessors(node);
      if (next < preds.length) {
        top[1] = next + 1;
        const pred = graph.nodes.get(preds[next]!);
        if (!pred) continue;
        const seen = state.get(pred.name);
        if (seen === "visiting") {
          throw new ServingError(Code.INVALID_ARGUMENT, `graph has a cycle through node ${pred.name}`);
        }
        if (seen === undefined) {
          state.set(pred.name, "visiting");
          stack.push([pred, 0]);
        }
        continue;
      }
      stack.pop();
      state.set(node.name, "done");
      order.push(node);
    }
  };
  for (const node of graph.nodes.values()) if (!state.has(node.name)) visit(node);
  return order;
}
