import { toBinary } from "@bufbuild/protobuf";
import { InferenceSession } from "onnxruntime-node";
import { Code, ServingError } from "../errors.js";
import { functionGraph } from "../graph/function-graph.js";
import { type Graph, type GraphNode, parseRef, refKey, type TensorRef } from "../graph/ir.js";
import { prune } from "../graph/prune.js";
import { inferShapes } from "../graph/shapes.js";
import { AttrValueSchema, type NameAttrList } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { Tensor } from "../tensor/tensor.js";
import { foldConstants } from "./fold.js";
import {
  type CompiledFunction,
  type ControlFlowOptions,
  controlFlowKernel,
  DEFAULT_MAX_LOOP_ITERATIONS,
  HOST_KERNELS,
  isControlFlowOp,
  isHostOp,
} from "./host/index.js";
import type { HostState, HostValue } from "./host/kernel.js";
import type { StaticShape } from "./onnx/lowering.js";
import { hasOnnxHandler, lowerSegment, type SegmentInput } from "./onnx/segment.js";
import { dtypeOf, type PartitionStep, partition } from "./partition.js";
import { Plan, type PlanStep } from "./plan.js";
import { type RuntimeThreads, sessionOptions } from "./session-options.js";

export interface CompileSpec {
  /** Signature input alias → tensor it feeds. */
  readonly feeds: ReadonlyMap<string, TensorRef>;
  /** dtype of each fed tensor (`node:k`): a fed tensor's producer is usually pruned away. */
  readonly feedDTypes: ReadonlyMap<string, DataType>;
  /** Signature output alias → tensor it reads. */
  readonly fetches: ReadonlyMap<string, TensorRef>;
  /** Static shapes known for graph tensors (`node:k`), e.g. from shape inference. */
  readonly shapes?: ReadonlyMap<string, StaticShape>;
  /** Bound on the iterations of one While per request (default DEFAULT_MAX_LOOP_ITERATIONS). */
  readonly maxLoopIterations?: number;
  /** onnxruntime thread pool sizes for the plan's sessions (default: onnxruntime's). */
  readonly threads?: RuntimeThreads | undefined;
}

/**
 * What compiling the functions of control-flow nodes shares within one compilePlan call: compiled
 * functions by name and attrs (each compiled once, whichever nodes and nesting levels use it), the
 * plans to release with the top-level plan, and the functions being compiled (recursion is an error).
 */
interface FunctionContext {
  readonly cache: Map<string, CompiledFunction>;
  readonly plans: Plan[];
  readonly stack: readonly string[];
  readonly options: ControlFlowOptions;
  /** Session options of every ONNX segment, the functions' too. */
  readonly session: InferenceSession.SessionOptions;
}

/**
 * Compiles a pruned, inlined, frozen graph into a Plan: partitions it into ONNX segments and host
 * steps, lowers each segment to an in-memory ONNX model and creates its onnxruntime session once.
 * The functions of control-flow nodes (While, If, Case) are compiled the same way, once, into plans the
 * returned plan owns.
 *
 * @example
 * const plan = await compilePlan(graph, { feeds, fetches }, hostState);
 * const outputs = await plan.run(new Map([["x", input]]));
 */
export async function compilePlan(input: Graph, spec: CompileSpec, state: HostState): Promise<Plan> {
  const context: FunctionContext = {
    cache: new Map(),
    plans: [],
    stack: [],
    options: { maxLoopIterations: spec.maxLoopIterations ?? DEFAULT_MAX_LOOP_ITERATIONS },
    session: sessionOptions(spec.threads),
  };
  try {
    return await compileGraph(input, spec, state, context, context.plans);
  } catch (error: unknown) {
    for (const plan of context.plans) await plan.release();
    throw error;
  }
}

async function compileGraph(
  input: Graph,
  spec: CompileSpec,
  state: HostState,
  context: FunctionContext,
  functionPlans: readonly Plan[],
): Promise<Plan> {
  const graph = await foldConstants(input, new Set(spec.feedDTypes.keys()));
  const parts = partition({
    graph,
    feeds: spec.feedDTypes,
    canLowerToOnnx: hasOnnxHandler,
    hasHostKernel: (op) => isHostOp(op) || isControlFlowOp(op),
  });
  const consumers = laterConsumers(parts, spec);
  const steps: PlanStep[] = [];
  const sessions: InferenceSession[] = [];
  try {
    for (const [index, part] of parts.entries()) {
      if (part.kind === "host") {
        const kernel = isControlFlowOp(part.node.op)
          ? await controlFlowKernel(
              part.node,
              (func) => compileFunction(graph, func, state, context),
              context.options,
            )
          : HOST_KERNELS.get(part.node.op);
        if (!kernel) throw new ServingError(Code.INTERNAL, `no host kernel for ${part.node.op}`);
        steps.push({ kind: "host", node: part.node, kernel, inputs: part.node.inputs.map(refKey) });
        continue;
      }
      const outputs = consumers[index] ?? new Set();
      // Pure ops whose results nobody reads (a NoOp grouping init ops, say) need no session.
      if (outputs.size === 0) continue;
      const step = await lowerOnnxStep(part.nodes, graph, spec, outputs, context.session);
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
    functionPlans,
  );
}

/**
 * Compiles library function `func.name` instantiated with `func.attr` into a plan (cached per compile
 * by name and attrs): its inputs are fed as aliases "0".."n-1", its outputs fetched in order.
 */
async function compileFunction(
  library: Graph,
  func: NameAttrList,
  state: HostState,
  context: FunctionContext,
): Promise<CompiledFunction> {
  const key = functionKey(func);
  const cached = context.cache.get(key);
  if (cached) return cached;
  if (context.stack.includes(func.name)) {
    throw new ServingError(
      Code.UNIMPLEMENTED,
      `function ${func.name} runs itself through control flow (${[...context.stack, func.name].join(" → ")})`,
    );
  }
  const fn = functionGraph(library, func.name, func.attr);
  const graph = prune(fn.graph, { feeds: [...fn.feeds], fetches: [...fn.fetches], targets: fn.targets });
  const alias = (i: number): string => String(i);
  const feeds = new Map(fn.feeds.map((ref, i) => [alias(i), ref]));
  const feedDTypes = new Map(
    fn.feeds.map((ref, i) => [refKey(ref), fn.feedDTypes[i] ?? DataType.DT_INVALID]),
  );
  const fetches = new Map(fn.fetches.map((ref, i) => [alias(i), ref]));
  const shapes = inferShapes(
    graph,
    new Map(fn.feeds.map((ref, i) => [refKey(ref), fn.feedShapes[i] ?? null])),
  );
  const plan = await compileGraph(
    graph,
    { feeds, feedDTypes, fetches, shapes },
    state,
    { ...context, stack: [...context.stack, func.name] },
    [],
  );
  context.plans.push(plan);
  const inputAliases = fn.feeds.map((_, i) => alias(i));
  const outputAliases = fn.fetches.map((_, i) => alias(i));
  const compiled: CompiledFunction = {
    name: func.name,
    inputCount: fn.feeds.length,
    outputCount: fn.fetches.length,
    run: async (inputs) => {
      const fed = new Map<string, HostValue>();
      inputAliases.forEach((a, i) => {
        const value = inputs[i];
        if (value !== undefined) fed.set(a, value);
      });
      const out = await plan.runValues(fed, outputAliases);
      return outputAliases.map((a) => out.get(a) as HostValue);
    },
  };
  context.cache.set(key, compiled);
  return compiled;
}

/** A cache key for a function instantiation: its name and its attrs (sorted, serialized). */
function functionKey(func: NameAttrList): string {
  const attrs = Object.keys(func.attr)
    .sort()
    .map((name) => `${name}=${Buffer.from(toBinary(AttrValueSchema, func.attr[name]!)).toString("base64")}`);
  return [func.name, ...attrs].join("|");
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
  options: InferenceSession.SessionOptions,
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
  const outputRefs = [...outputs].map((key) => parseRef(key));
  const lowered = lowerSegment(nodes, inputs, outputRefs, graph, spec.shapes);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(lowered.model, options);
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
