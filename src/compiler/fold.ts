import { InferenceSession, type Tensor as OrtTensor } from "onnxruntime-node";
import type { Graph, GraphNode } from "../graph/ir.js";

import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { fromOrtTensor } from "../tensor/ort.js";
import { Tensor } from "../tensor/tensor.js";
import { HOST_KERNELS, isHostOnlyOp } from "./host/index.js";
import type { HostState } from "./host/kernel.js";
import { hasOnnxHandler, lowerSegment } from "./onnx/segment.js";
import { topologicalOrder } from "./partition.js";

/** Ops that must run every time even when their inputs are constant. */
const NEVER_FOLD = new Set([
  "Placeholder",
  "RandomUniform",
  "RandomStandardNormal",
  "TruncatedNormal",
  "NoOp",
]);

const NO_STATE: HostState = { resources: new Map(), assetPaths: new Map() };

/**
 * Constant folding: every pure single-output node whose inputs are all constants becomes a Const,
 * computed once at load — shape arithmetic of Keras graphs, an unfed PlaceholderWithDefault with a
 * constant default, transposed or reshaped weights. Ops with a generic host kernel are evaluated
 * directly; the rest are batched into one ONNX model per round and run once by onnxruntime.
 * This also turns inputs the ONNX lowering needs as constants (Transpose perms, slice bounds...) into Consts.
 *
 * @example
 * const folded = await foldConstants(graph, new Set(["x:0"]));
 */
export async function foldConstants(graph: Graph, fed: ReadonlySet<string>): Promise<Graph> {
  const nodes = new Map(graph.nodes);
  const constant = (node: string, index: number): Tensor | undefined =>
    index === 0 && !fed.has(`${node}:0`) ? nodes.get(node)?.value : undefined;

  for (let round = 0; round < 64; round++) {
    const batch: GraphNode[] = [];
    const inBatch = new Set<string>();
    let folded = false;
    for (const node of topologicalOrder({ ...graph, nodes })) {
      if (!isCandidate(node, fed)) continue;
      const allConstant = node.inputs.every((r) => constant(r.node, r.index) !== undefined);
      const host = HOST_KERNELS.get(node.op);
      if (allConstant && host && !isHostOnlyOp(node.op)) {
        const value = host(
          node,
          node.inputs.map((r) => constant(r.node, r.index)!),
          NO_STATE,
        )[0];
        if (value instanceof Tensor) {
          nodes.set(node.name, asConst(node, value));
          folded = true;
        }
        continue;
      }
      const ready = node.inputs.every(
        (r) => constant(r.node, r.index) !== undefined || (r.index === 0 && inBatch.has(r.node)),
      );
      if (ready && hasOnnxHandler(node.op) && !touchesStrings(node, nodes)) {
        batch.push(node);
        inBatch.add(node.name);
      }
    }
    if (batch.length > 0) {
      for (const [name, value] of await evaluate(batch, nodes)) {
        const node = nodes.get(name);
        if (node) nodes.set(name, asConst(node, value));
        folded = true;
      }
    }
    if (!folded) break;
  }
  return { ...graph, nodes };
}

function isCandidate(node: GraphNode, fed: ReadonlySet<string>): boolean {
  return (
    node.value === undefined &&
    node.outputDTypes.length === 1 &&
    node.inputs.length > 0 &&
    node.controlInputs.length === 0 &&
    !NEVER_FOLD.has(node.op) &&
    !fed.has(`${node.name}:0`)
  );
}

function touchesStrings(node: GraphNode, nodes: ReadonlyMap<string, GraphNode>): boolean {
  const stringy = (d: DataType | undefined) => d === DataType.DT_STRING || d === DataType.DT_RESOURCE;
  return (
    stringy(node.outputDTypes[0]) ||
    node.inputs.some((r) => stringy(nodes.get(r.node)?.outputDTypes[r.index]))
  );
}

/** Runs a batch of constant-input nodes as one ONNX model; nodes that cannot be lowered are left alone. */
async function evaluate(
  batch: readonly GraphNode[],
  nodes: ReadonlyMap<string, GraphNode>,
): Promise<Map<string, Tensor>> {
  try {
    return await runOnce(batch, nodes);
  } catch {
    // One bad node spoils the batch: fold the others one by one.
    const results = new Map<string, Tensor>();
    for (const node of batch) {
      if (!node.inputs.every((r) => nodes.get(r.node)?.value !== undefined)) continue;
      try {
        for (const [name, value] of await runOnce([node], nodes)) results.set(name, value);
      } catch {
        // Left for the partitioner, which reports it if it really cannot run.
      }
    }
    return results;
  }
}

async function runOnce(
  batch: readonly GraphNode[],
  nodes: ReadonlyMap<string, GraphNode>,
): Promise<Map<string, Tensor>> {
  const outputs = batch.map((node) => ({ node: node.name, index: 0 }));
  const lowered = lowerSegment(batch, [], outputs, { nodes });
  const session = await InferenceSession.create(lowered.model);
  try {
    const results = await session.run({});
    return new Map(
      outputs.map((ref, i) => [ref.node, fromOrtTensor(results[lowered.outputNames[i] ?? ""] as OrtTensor)]),
    );
  } finally {
    await session.release();
  }
}

function asConst(node: GraphNode, value: Tensor): GraphNode {
  return {
    name: node.name,
    op: "Const",
    inputs: [],
    controlInputs: [],
    attrs: {},
    outputDTypes: [value.dtype],
    value,
  };
}
