import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { Code, ServingError } from "../errors.js";
import type { GraphNode } from "../graph/ir.js";
import { fromOrtTensor, toOrtTensor } from "../tensor/ort.js";
import type { Tensor } from "../tensor/tensor.js";
import { readValue } from "./host/index.js";
import type { AsyncHostKernel, HostKernel, HostState, HostValue } from "./host/kernel.js";

/** An ONNX segment ready to run: its session and how its inputs/outputs map to graph tensors (`node:k`). */
export interface OnnxStep {
  readonly kind: "onnx";
  readonly session: InferenceSession;
  readonly inputs: readonly { readonly ref: string; readonly onnxName: string }[];
  readonly outputs: readonly { readonly ref: string; readonly onnxName: string }[];
}

/** One TF op run by a TypeScript kernel (an async one for control flow, which runs compiled functions). */
export interface HostStep {
  readonly kind: "host";
  readonly node: GraphNode;
  readonly kernel: HostKernel | AsyncHostKernel;
  /** `node:k` of each data input. */
  readonly inputs: readonly string[];
}

export type PlanStep = OnnxStep | HostStep;

/**
 * A compiled signature: an ordered list of ONNX and host steps over named tensors. Sessions are created
 * once at load; a request only feeds tensors through the steps.
 */
export class Plan {
  constructor(
    readonly steps: readonly PlanStep[],
    /** Signature input alias → `node:k` it feeds. */
    readonly feeds: ReadonlyMap<string, string>,
    /** Signature output alias → `node:k` it reads. */
    readonly fetches: ReadonlyMap<string, string>,
    /** Constant tensors host steps and fetches read directly. */
    private readonly constants: ReadonlyMap<string, Tensor>,
    private readonly state: HostState,
    /** Plans of the functions control-flow steps run (compiled with this plan, released with it). */
    private readonly functionPlans: readonly Plan[] = [],
  ) {
    this.feedAlias = new Map([...feeds].map(([alias, ref]) => [ref, alias]));
    const only = steps.length === 1 ? steps[0] : undefined;
    this.singleSegment = only?.kind === "onnx" && constants.size === 0 ? only : undefined;
    this.onnxOutputOf = new Map(this.singleSegment?.outputs.map((o) => [o.ref, o.onnxName]));
  }

  /** `node:k` → the signature input alias that feeds it. */
  private readonly feedAlias: ReadonlyMap<string, string>;
  /** The plan's one ONNX segment when that is all it runs (no host steps, no constants). */
  private readonly singleSegment: OnnxStep | undefined;
  /** For a single-segment plan: `node:k` → the ONNX output that holds it. */
  private readonly onnxOutputOf: ReadonlyMap<string, string>;

  /** Hears each successful run's duration in µs (the runtime's `listenToRuns`). */
  runListener: ((micros: number) => void) | undefined = undefined;

  get onnxSegments(): number {
    return this.steps.filter((s) => s.kind === "onnx").length;
  }

  /** Runs the plan. `inputs` are keyed by signature input alias and already validated by the caller. */
  run(inputs: ReadonlyMap<string, Tensor>, outputAliases?: readonly string[]): Promise<Map<string, Tensor>> {
    return this.singleSegment
      ? this.runSingleSegment(this.singleSegment, inputs, outputAliases)
      : this.runSteps(inputs, outputAliases);
  }

  /**
   * The common case of a graph that compiled to one ONNX segment: feed the session directly, with no
   * intermediate value map (this path is most of a small model's per-request overhead).
   */
  private runSingleSegment(
    step: OnnxStep,
    inputs: ReadonlyMap<string, Tensor>,
    outputAliases: readonly string[] | undefined,
  ): Promise<Map<string, Tensor>> {
    const feeds: Record<string, OrtTensor> = {};
    for (const { ref, onnxName } of step.inputs) {
      const alias = this.feedAlias.get(ref);
      const value = alias === undefined ? undefined : inputs.get(alias);
      if (!value) return Promise.reject(new ServingError(Code.INTERNAL, `tensor ${ref} is not available`));
      feeds[onnxName] = toOrtTensor(value);
    }
    const listener = this.runListener;
    const startMs = listener === undefined ? 0 : performance.now();
    // A plain promise chain rather than async functions: this is the whole per-request path of a
    // one-segment model, and every async frame costs a microtask turn.
    return step.session.run(feeds).then((results) => {
      if (listener !== undefined) listener((performance.now() - startMs) * 1000);
      const outputs = new Map<string, Tensor>();
      for (const alias of outputAliases ?? this.fetches.keys()) {
        const onnxName = this.onnxOutputOf.get(this.fetches.get(alias) ?? "");
        const result = onnxName === undefined ? undefined : results[onnxName];
        if (result) {
          outputs.set(alias, fromOrtTensor(result as OrtTensor));
          continue;
        }
        // A fetch the segment does not produce (an input passed straight through): take it from the inputs.
        const passThrough = inputs.get(this.feedAlias.get(this.fetches.get(alias) ?? "") ?? "");
        if (!passThrough) throw new ServingError(Code.INTERNAL, `output ${alias} was not computed`);
        outputs.set(alias, passThrough);
      }
      return outputs;
    }, rethrowAsInvalidArgument);
  }

  private async runSteps(
    inputs: ReadonlyMap<string, Tensor>,
    outputAliases?: readonly string[],
  ): Promise<Map<string, Tensor>> {
    const listener = this.runListener;
    const startMs = listener === undefined ? 0 : performance.now();
    const values = await this.execute(inputs);
    if (listener !== undefined) listener((performance.now() - startMs) * 1000);
    const outputs = new Map<string, Tensor>();
    for (const alias of outputAliases ?? this.fetches.keys())
      outputs.set(alias, readValue(this.fetched(values, alias)));
    return outputs;
  }

  /**
   * Runs with host values in and out (tensors, TensorLists, resource handles), keyed by alias: how a
   * control-flow step runs a compiled function body.
   */
  async runValues(
    inputs: ReadonlyMap<string, HostValue>,
    outputAliases?: readonly string[],
  ): Promise<Map<string, HostValue>> {
    const values = await this.execute(inputs);
    const outputs = new Map<string, HostValue>();
    for (const alias of outputAliases ?? this.fetches.keys()) outputs.set(alias, this.fetched(values, alias));
    return outputs;
  }

  /** Runs every step; returns the values by `node:k`. */
  private async execute(inputs: ReadonlyMap<string, HostValue>): Promise<Map<string, HostValue>> {
    // Constants are looked up beside the per-request values (see value) rather than copied into them.
    const values = new Map<string, HostValue>();
    for (const [alias, ref] of this.feeds) {
      const value = inputs.get(alias);
      if (value) values.set(ref, value);
    }
    for (const step of this.steps) {
      if (step.kind === "onnx") await this.runOnnx(step, values);
      else {
        const pending = this.runHost(step, values);
        if (pending) await pending;
      }
    }
    return values;
  }

  /** A per-request value, else a constant. */
  private value(values: ReadonlyMap<string, HostValue>, ref: string): HostValue | undefined {
    return values.get(ref) ?? this.constants.get(ref);
  }

  private fetched(values: ReadonlyMap<string, HostValue>, alias: string): HostValue {
    const ref = this.fetches.get(alias);
    const value = ref === undefined ? undefined : this.value(values, ref);
    if (value === undefined)
      throw new ServingError(Code.INTERNAL, `output ${alias} (${ref}) was not computed`);
    return value;
  }

  private async runOnnx(step: OnnxStep, values: Map<string, HostValue>): Promise<void> {
    const feeds: Record<string, OrtTensor> = {};
    for (const { ref, onnxName } of step.inputs) {
      const value = this.value(values, ref);
      if (value === undefined) throw new ServingError(Code.INTERNAL, `tensor ${ref} is not available`);
      // A host variable (TF1 ref semantics) is read at this moment.
      feeds[onnxName] = toOrtTensor(readValue(value));
    }
    const results = await runSession(step.session, feeds);
    for (const { ref, onnxName } of step.outputs) {
      const out = results[onnxName];
      if (!out) throw new ServingError(Code.INTERNAL, `ONNX segment did not produce ${onnxName}`);
      values.set(ref, fromOrtTensor(out as OrtTensor));
    }
  }

  /** Runs a host step; a promise only when its kernel is async (control flow). */
  private runHost(step: HostStep, values: Map<string, HostValue>): Promise<void> | undefined {
    const args = step.inputs.map((ref) => {
      const value = this.value(values, ref);
      if (value === undefined)
        throw new ServingError(Code.INTERNAL, `${step.node.name}: input ${ref} missing`);
      return value;
    });
    const store = (results: readonly HostValue[]): void => {
      results.forEach((value, i) => {
        values.set(`${step.node.name}:${i}`, value);
      });
    };
    const results = step.kernel(step.node, args, this.state);
    if (results instanceof Promise) return results.then(store);
    store(results);
    return undefined;
  }

  /** Frees the onnxruntime sessions, those of the functions' plans too. */
  async release(): Promise<void> {
    for (const step of this.steps) if (step.kind === "onnx") await step.session.release();
    for (const plan of this.functionPlans) await plan.release();
  }
}

function runSession(
  session: InferenceSession,
  feeds: Record<string, OrtTensor>,
): Promise<InferenceSession.OnnxValueMapType> {
  return session.run(feeds).catch(rethrowAsInvalidArgument);
}

/** onnxruntime reports bad shapes and similar input errors while running. */
function rethrowAsInvalidArgument(error: unknown): never {
  throw new ServingError(Code.INVALID_ARGUMENT, (error as Error).message, { cause: error });
}
