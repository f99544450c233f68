// Static shape inference where it is cheap; the ONNX lowering uses it for the handlers that need ranks.
import type { Tensor } from "../tensor/tensor.js";
import { attrBool, attrInt, attrInts, attrShape, attrShapes } from "./attrs.js";
import { type Graph, type GraphNode, refKey, type TensorRef } from "./ir.js";

/** A static shape: -1 for an unknown dimension, null for an unknown rank. */
export type StaticShape = number[] | null;

const UNARY = new Set(
  (
    "Identity StopGradient Cast Relu Relu6 Elu Selu Softplus LeakyRelu Sigmoid Tanh Exp Log Neg Abs Sqrt Rsqrt " +
    "Square Reciprocal Erf Floor Ceil Round Sign IsNan LogicalNot ZerosLike OnesLike Softmax LogSoftmax " +
    "BiasAdd AddN PreventGradient Snapshot CheckNumerics"
  ).split(" "),
);
const BINARY = new Set(
  (
    "Add AddV2 Sub Mul RealDiv Div DivNoNan Maximum Minimum Pow SquaredDifference FloorDiv FloorMod Mod " +
    "Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr"
  ).split(" "),
);
const REDUCTIONS = new Set(["Sum", "Mean", "Max", "Min", "Prod", "All", "Any"]);

/**
 * Infers static output shapes in topological order. `inputShapes` (refKey → shape) wins over anything
 * inferred, so fed tensors get the shapes of the request or signature. Unknown results fall back to a
 * node's `_output_shapes` attr (TF1 graphs and function bodies often carry it), else null.
 *
 * @example
 * inferShapes(graph, new Map([["x:0", [-1, 3]]])).get("MatMul:0"); // [-1, 4]
 */
export function inferShapes(
  graph: Graph,
  inputShapes: ReadonlyMap<string, StaticShape> = new Map(),
): Map<string, StaticShape> {
  const shapes = new Map<string, StaticShape>(inputShapes);
  const shapeOf = (ref: TensorRef): StaticShape => shapes.get(refKey(ref)) ?? null;
  for (const node of topologicalOrder(graph)) {
    const inferred = inferNode(node, graph, shapeOf);
    const recorded = attrShapes(node.attrs, "_output_shapes");
    const count = Math.max(node.outputDTypes.length, inferred?.length ?? 0);
    for (let i = 0; i < count; i++) {
      const key = `${node.name}:${i}`;
      if (shapes.has(key)) continue;
      const own = inferred?.[i] ?? null;
      shapes.set(key, own ?? recorded?.[i] ?? null);
    }
  }
  return shapes;
}

function topologicalOrder(graph: Graph): GraphNode[] {
  const order: GraphNode[] = [];
  const state = new Map<string, "visiting" | "done">();
  for (const root of graph.nodes.keys()) {
    const stack: string[] = [root];
    while (stack.length > 0) {
      const name = stack[stack.length - 1] as string;
      const node = graph.nodes.get(name);
      if (!node || state.get(name) === "done") {
        stack.pop();
        continue;
      }
      if (state.get(name) !== "visiting") {
        state.set(name, "visiting");
        for (const ref of node.inputs) if (!state.has(ref.node)) stack.push(ref.node);
        continue;
      }
      state.set(name, "done");
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

/** Integer values of a constant input, when it is one. */
function constInts(graph: Graph, ref: TensorRef | undefined): number[] | undefined {
  const value: Tensor | undefined = ref ? graph.nodes.get(ref.node)?.value : undefined;
  if (!value || Array.isArray(value.data)) return undefined;
  return Array.from(value.data as ArrayLike<number | bigint>, Number);
}

/** NumPy broadcasting of two static shapes. */
export function broadcastShapes(a: StaticShape, b: StaticShape): StaticShape {
  if (a === null || b === null) return null;
  const rank = Math.max(a.length, b.length);
  const result: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    result.push(x === 1 ? y : y === 1 ? x : x === -1 ? y : x);
  }
  return result;
}

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function inferNode(
  node: GraphNode,
  graph: Graph,
  shapeOf: (ref: TensorRef) => StaticShape,
): StaticShape[] | undefined {
  const input = (i: number): StaticShape => {
    const ref = node.inputs[i];
    return ref ? shapeOf(ref) : null;
  };
  const one = (shape: StaticShape | undefined): StaticShape[] => [shape ?? null];
  const op = node.op;
  if (op === "Const") return node.value ? [[...node.value.shape]] : undefined;
  if (op === "Placeholder" || op === "VariableV2" || op === "Variable")
    return one(attrShape(node.attrs, "shape"));
  if (op === "PlaceholderWithDefault") return one(attrShape(node.attrs, "shape") ?? input(0));
  if (op === "VarHandleOp") return [[]];
  if (op === "ReadVariableOp") {
    const handle = node.inputs[0] && graph.nodes.get(node.inputs[0].node);
    return handle?.op === "VarHandleOp" ? one(attrShape(handle.attrs, "shape")) : undefined;
  }
  if (UNARY.has(op)) return [input(0)];
  if (op === "IdentityN") return node.inputs.map((_, i) => input(i));
  if (BINARY.has(op)) return [broadcastShapes(input(0), input(1))];
  if (op === "Select" || op === "SelectV2") {
    const values = broadcastShapes(input(1), input(2));
    return [op === "SelectV2" ? broadcastShapes(input(0), values) : values];
  }
  if (op === "MatMul" || op === "BatchMatMulV2") return [matmulShape(node, input(0), input(1))];
  if (op === "Shape") {
    const x = input(0);
    return [[x === null ? -1 : x.length]];
  }
  if (op === "Reshape") return [reshapeShape(input(0), input(1), constInts(graph, node.inputs[1]))];
  if (op === "Fill") {
    const dims = constInts(graph, node.inputs[0]);
    return one(dims);
  }
  const x = input(0);
  if (x === null) return undefined;
  if (op === "ExpandDims") {
    const axis = constInts(graph, node.inputs[1])?.[0];
    if (axis === undefined) return [new Array<number>(x.length + 1).fill(-1)];
    const at = normAxis(axis, x.length + 1);
    return [[...x.slice(0, at), 1, ...x.slice(at)]];
  }
  if (op === "Squeeze") {
    const dims = (attrInts(node.attrs, "squeeze_dims") ?? []).map((d) => normAxis(d, x.length));
    if (dims.length === 0) return x.includes(-1) ? [null] : [x.filter((d) => d !== 1)];
    return [x.filter((_, i) => !dims.includes(i))];
  }
  if (op === "Transpose") {
    const perm = constInts(graph, node.inputs[1]);
    return perm ? [perm.map((p) => x[p] ?? -1)] : [new Array<number>(x.length).fill(-1)];
  }
  if (REDUCTIONS.has(op) || op === "ArgMax" || op === "ArgMin") {
    const axes = constInts(graph, node.inputs[1])?.map((a) => normAxis(a, x.length));
    const keep = REDUCTIONS.has(op) && attrBool(node.attrs, "keep_dims") === true;
    if (!axes) return keep ? [new Array<number>(x.length).fill(-1)] : [null];
    return [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))];
  }
  if (op === "ConcatV2") {
    const n = node.inputs.length - 1;
    const axis = constInts(graph, node.inputs[n])?.[0];
    if (axis === undefined) return [new Array<number>(x.length).fill(-1)];
    const at = normAxis(axis, x.length);
    const parts = node.inputs.slice(0, n).map((_, i) => input(i));
    const total = parts.reduce<number>(
      (sum, s) => (s === null || sum === -1 || s[at] === -1 ? -1 : sum + (s[at] ?? 0)),
      0,
    );
    return [x.map((d, i) => (i === at ? total : d))];
  }
  if (op === "Pack") {
    const at = normAxis(attrInt(node.attrs, "axis") ?? 0, x.length + 1);
    return [[...x.slice(0, at), node.inputs.length, ...x.slice(at)]];
  }
  if (op === "GatherV2") {
    const axis = constInts(graph, node.inputs[2])?.[0];
    const indices = input(1);
    if (axis === undefined || indices === null || (attrInt(node.attrs, "batch_dims") ?? 0) !== 0)
      return undefined;
    const at = normAxis(axis, x.length);
    return [[...x.slice(0, at), ...indices, ...x.slice(at + 1)]];
  }
  return undefined;
}

function matmulShape(node: GraphNode, a: StaticShape, b: StaticShape): StaticShape {
  const batched = node.op === "BatchMatMulV2";
  const ta = attrBool(node.attrs, batched ? "adj_x" : "transpose_a") === true;
  const tb = attrBool(node.attrs, batched ? "adj_y" : "transpose_b") === true;
  if (a === null || b === null || a.length < 2 || b.length < 2) return batched ? null : [-1, -1];
  const m = a[ta ? a.length - 1 : a.length - 2] ?? -1;
  const n = b[tb ? b.length - 2 : b.length - 1] ?? -1;
  if (!batched) return [m, n];
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
  return batch === null ? null : [...batch, m, n];
}

function reshapeShape(x: StaticShape, shapeShape: StaticShape, target: number[] | undefined): StaticShape {
  if (!target)
    return shapeShape?.length === 1 && shapeShape[0] !== undefined && shapeShape[0] >= 0
      ? new Array<number>(shapeShape[0]).fill(-1)
      : null;
  const unknown = target.indexOf(-1);
  if (unknown < 0 || x === null || x.includes(-1)) return target;
  const total = x.reduce((p, d) => p * d, 1);
  const known = target.reduce((p, d) => (d === -1 ? p : p * d), 1);
  return target.map((d) => (d === -1 && known > 0 ? total / known : d));
}
