import { InferenceSession } from "onnxruntime-node";
import { Code, ServingError } from "../errors.js";
import { type Graph, type GraphNode, refKey, type TensorRef } from "../graph/ir.js";
import type { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { Tensor } from "../tensor/tensor.js";
import { foldConstants } from "./fold.js";
import { HOST_KERNELS, isHostOp } from "./host/index.js";
import type { HostState } from "./host/kernel.js";
import type { StaticShape } from "./onnx/lowering.js";
import { hasOnnxHandler, lowerSegment, type SegmentInput } from "./onnx/segment.js";
import { dtypeOf, type PartitionStep, partition } from "./partition.js";
import { Plan, type PlanStep } from "./plan.js";

export interface CompileSpec {
  /** Signature input alias → tensor it feeds. */
  readonly feeds: ReadonlyMap<string, TensorRef>;
  /** dtype of each fed tensor (`node:k`): a fed tensor's producer is usually pruned away. */
  readonly feedDTypes: ReadonlyMap<string, DataType>;
  /** Signature output alias → tensor it reads. */
  readonly fetches: ReadonlyMap<string, TensorRef>;
  /** Static shapes known for graph tensors (`node:k`), e.g. from shape inference. */
  readonly shapes?: ReadonlyMap<string, StaticShape>;
}

/**
 * Compiles a pruned, inlined, frozen graph into a Plan: partitions it into ONNX segments and host
 * steps, lowers each segment to an in-memory ONNX model and creates its onnxruntime session once.
 *
 * @example
 * const plan = await compilePlan(graph, { feeds, fetches }, hostState);
 * const outputs = await plan.run(new Map([["x", input]]));
 */
export async function compilePlan(input: Graph, spec: CompileSpec, state: HostState): Promise<Plan> {
  const graph = await foldConstants(input, new Set(spec.feedDTypes.keys()));
  const parts = partition({
    graph,
    feeds: spec.feedDTypes,
    canLowerToOnnx: hasOnnxHandler,
    hasHostKernel: isHostOp,
  });
  const consumers = laterConsumers(parts, spec);
  const steps: PlanStep[] = [];
  const sessions: InferenceSession[] = [];
  try {
    for (const [index, part] of parts.entries()) {
      if (part.kind === "host") {
        const kernel = HOST_KERNELS.get(part.node.op);
        if (!kernel) throw new ServingError(Code.INTERNAL, `no host kernel for ${part.node.op}`);
        steps.push({ kind: "host", node: part.node, kernel, inputs: part.node.inputs.map(refKey) });
        continue;
      }
      const outputs = consumers[index] ?? new Set();
      // Pure ops whose results nobody reads (a NoOp grouping init ops, say) need no session.
      if (outputs.size === 0) continue;
      const step = await lowerOnnxStep(part.nodes, graph, spec, outputs);
      sessions.push(step.session);
      steps.push(step);
    }
  } catch (error: unknown) {
    for (const session of sessions) await session.release();
    throw error;
  }
  const constants = new Map<string, Tensor>();
  const needed = new Set([
    ...steps.flatMap((s) => (s.kind === "host" ? s.inputs : [])),
    ...[...spec.fetches.values()].map(refKey),
  ]);
  for (const ref of needed) {
    const node = graph.nodes.get(ref.slice(0, ref.lastIndexOf(":")));
    if (node?.value) constants.set(ref, node.value);
  }
  return new Plan(
    steps,
    new Map([...spec.feeds].map(([alias, ref]) => [alias, refKey(ref)])),
    new Map([...spec.fetches].map(([alias, ref]) => [alias, refKey(ref)])),
    constants,
    state,
  );
}

/** For each step, the tensors it produces that a later step or the signature reads. */
function laterConsumers(parts: readonly PartitionStep[], spec: CompileSpec): Set<string>[] {
  const readLater: Set<string>[] = parts.map(() => new Set());
  const fetched = new Set([...spec.fetches.values()].map(refKey));
  const producerStep = new Map<string, number>();
  parts.forEach((part, index) => {
    const nodes = part.kind === "onnx" ? part.nodes : [part.node];
    for (const node of nodes) producerStep.set(node.name, index);
  });
  parts.forEach((part, index) => {
    const nodes = part.kind === "onnx" ? part.nodes : [part.node];
    for (const node of nodes) {
      for (const ref of node.inputs) {
        const producer = producerStep.get(ref.node);
        if (producer !== undefined && producer !== index) readLater[producer]?.add(refKey(ref));
      }
    }
  });
  for (const ref of fetched) {
    const producer = producerStep.get(ref.slice(0, ref.lastIndexOf(":")));
    if (producer !== undefined) readLater[producer]?.add(ref);
  }
  return readLater;
}

async function lowerOnnxStep(
  nodes: readonly GraphNode[],
  graph: Graph,
  spec: CompileSpec,
  outputs: ReadonlySet<string>,
): Promise<PlanStep & { kind: "onnx"; session: InferenceSession }> {
  const inside = new Set(nodes.map((n) => n.name));
  const inputRefs = new Map<string, TensorRef>();
  for (const node of nodes) {
    for (const ref of node.inputs) {
      if (inside.has(ref.node) || graph.nodes.get(ref.node)?.value) continue;
      inputRefs.set(refKey(ref), ref);
    }
  }
  const inputs: SegmentInput[] = [...inputRefs.values()].map((ref) => ({
    ref,
    dtype: spec.feedDTypes.get(refKey(ref)) ?? dtypeOf(graph, ref),
    // Declared without a shape: TF Serving does not enforce signature shapes (half_plus_two's [-1, 1]
    // input accepts [3]), and onnxruntime would reject any mismatch. Handlers still see `spec.shapes`.
    shape: null,
  }));
  const outputRefs = [...outputs].map((key) => {
    const colon = key.lastIndexOf(":");
    return { node: key.slice(0, colon), index: Number(key.slice(colon + 1)) };
  });
  const lowered = lowerSegment(nodes, inputs, outputRefs, graph, spec.shapes);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(lowered.model, { graphOptimizationLevel: "all" });
  } catch (error: unknown) {
    throw new ServingError(
      Code.INTERNAL,
      `onnxruntime rejected the compiled segment (${nodes.length} ops from ${nodes[0]?.name}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    kind: "onnx",
    session,
    inputs: inputs.map((input, i) => ({ ref: refKey(input.ref), onnxName: lowered.inputNames[i] ?? "" })),
    outputs: outputRefs.map((ref, i) => ({ ref: refKey(ref), onnxName: lowered.outputNames[i] ?? "" })),
  };
}
