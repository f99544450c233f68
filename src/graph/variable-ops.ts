// Which ops are variables and which write them, and how a resource/ref input leads back to its variable.
import type { GraphNode, TensorRef } from "./ir.js";

/** Ops that own a variable: TF1 ref variables and resource variable handles. */
export const VARIABLE_OPS: ReadonlySet<string> = new Set(["VariableV2", "Variable", "VarHandleOp"]);

const WRITERS = new Set([
  "Assign",
  "AssignAdd",
  "AssignSub",
  "AssignVariableOp",
  "AssignAddVariableOp",
  "AssignSubVariableOp",
  "StridedSliceAssign",
  "ResourceStridedSliceAssign",
]);
const WRITER_PATTERN =
  /^((Resource)?(Sparse)?Apply[A-Z]\w*|ResourceScatter\w+|Scatter(Update|Add|Sub|Mul|Div|Min|Max|NdUpdate|NdAdd|NdSub|NdMin|NdMax))$/;

/**
 * Whether `op` writes the variable given as its input 0: Assign*, Assign*VariableOp, (Resource)Apply*,
 * (Resource)Scatter* updates, StridedSliceAssign.
 *
 * @example
 * isVariableWriter("ResourceApplyGradientDescent"); // true
 * isVariableWriter("ScatterNd"); // false (builds a new tensor)
 */
export function isVariableWriter(op: string): boolean {
  return WRITERS.has(op) || WRITER_PATTERN.test(op);
}

const PASS_THROUGH = new Set(["Identity", "IdentityN", "RefIdentity"]);

/**
 * The variable node a ref/resource tensor comes from, following Identity/IdentityN/RefIdentity;
 * undefined when it leads elsewhere (a function argument, a feed, an unknown op).
 */
export function traceVariable(nodes: ReadonlyMap<string, GraphNode>, ref: TensorRef): string | undefined {
  let current: TensorRef | undefined = ref;
  for (let hops = 0; current && hops < 1000; hops++) {
    const node = nodes.get(current.node);
    if (!node) return undefined;
    if (VARIABLE_OPS.has(node.op)) return node.name;
    if (!PASS_THROUGH.has(node.op)) return undefined;
    current = node.inputs[node.op === "IdentityN" ? current.index : 0];
  }
  return undefined;
}
