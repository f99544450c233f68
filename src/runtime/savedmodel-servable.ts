import { compilePlan } from "../compiler/compile.js";
import { createVariable, resourceName } from "../compiler/host/index.js";
import type { HostState } from "../compiler/host/kernel.js";
import type { Plan } from "../compiler/plan.js";
import type { RuntimeThreads } from "../compiler/session-options.js";
import { Code, ServingError } from "../errors.js";
import {
  type Graph,
  INIT_OP_SIGNATURE,
  type InitGraph,
  inferShapes,
  modelGraph,
  prepareInitGraph,
  prepareSignatureGraph,
  refKey,
  type SignatureGraph,
  type TensorRef,
} from "../graph/index.js";
import { BundleReader } from "../savedmodel/bundle/index.js";
import { openSavedModel } from "../savedmodel/saved-model.js";
import { baseDType, DataType } from "../tensor/dtype.js";
import { shapeFromProto } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { Servable } from "./servable.js";
import { type SignatureRunner, signatureRunner } from "./signature-runner.js";

/** Signatures that are plumbing, not served. */
const HIDDEN_SIGNATURES = new Set([INIT_OP_SIGNATURE, "__saved_model_train_op"]);

/**
 * Loads a SavedModel version: runs its init ops once (tables, asset paths), then compiles every
 * signature into a Plan. Variables that some signature writes live in this version's host state,
 * shared by its signatures; all others are frozen into the compiled graphs.
 */
export async function loadSavedModelServable(
  dir: string,
  tags: readonly string[],
  threads?: RuntimeThreads,
): Promise<Servable> {
  const bundle = await openSavedModel(dir, { tags });
  const reader = bundle.variablesPrefix ? await BundleReader.open(bundle.variablesPrefix) : undefined;
  const state: HostState = {
    resources: new Map(),
    assetPaths: new Map(bundle.assets.map((a) => [a.tensorName, a.path])),
  };
  const plans: Plan[] = [];
  try {
    const prepared = new Map<string, SignatureGraph>();
    const failures: string[] = [];
    for (const key of bundle.signatures.keys()) {
      if (HIDDEN_SIGNATURES.has(key)) continue;
      try {
        prepared.set(key, await prepareSignatureGraph(bundle, key, reader ? { reader } : {}));
      } catch (error: unknown) {
        failures.push(`signature "${key}": ${ServingError.from(error).message}`);
      }
    }
    const init = await prepareInitGraph(bundle, reader ? { reader } : {});
    // As TF's loader: restore the variables, then run the init ops, then serve.
    for (const graph of [init, ...prepared.values()]) {
      await restoreVariables(graph.mutableVariables, graph.graph, state, reader);
    }
    await runInitOps(init, state);

    const model = modelGraph(bundle.metaGraph);
    const signatures = new Map<string, SignatureRunner>();
    for (const [key, signature] of prepared) {
      const def = bundle.signatures.get(key)!;
      try {
        const inputShapes = new Map(
          [...signature.feeds].map(([alias, ref]) => [
            refKey(ref),
            shapeFromProto(def.inputs[alias]?.tensorShape),
          ]),
        );
        // The graph's dtype wins over the SignatureDef's: TF 1.0 exports declare tf_example inputs DT_FLOAT.
        const graphDType = (ref: TensorRef) => model.graph.nodes.get(ref.node)?.outputDTypes[ref.index];
        const aliasDTypes = new Map(
          [...signature.feeds].map(([alias, ref]) => [
            alias,
            graphDType(ref) ?? baseDType(def.inputs[alias]?.dtype ?? 0),
          ]),
        );
        const feedDTypes = new Map(
          [...signature.feeds].map(([alias, ref]) => [
            refKey(ref),
            aliasDTypes.get(alias) ?? DataType.DT_INVALID,
          ]),
        );
        const plan = await compilePlan(
          signature.graph,
          {
            feeds: signature.feeds,
            feedDTypes,
            fetches: signature.fetches,
            shapes: inferShapes(signature.graph, inputShapes),
            threads,
          },
          state,
        );
        plans.push(plan);
        signatures.set(
          key,
          signatureRunner(
            key,
            def,
            (inputs, outputs) => plan.run(inputs, outputs),
            aliasDTypes,
            (listener) => {
              plan.runListener = listener;
            },
          ),
        );
      } catch (error: unknown) {
        failures.push(`signature "${key}": ${ServingError.from(error).message}`);
      }
    }
    if (failures.length > 0)
      throw new ServingError(Code.UNIMPLEMENTED, `${dir}: cannot compile ${failures.join("; ")}`);
    return {
      platform: "tensorflow",
      dir,
      signatures,
      signatureDefs: bundle.signatures,
      close: async () => {
        for (const plan of plans) await plan.release();
      },
    };
  } catch (error: unknown) {
    for (const plan of plans) await plan.release();
    throw error;
  } finally {
    await reader?.close();
  }
}

/** Runs the init graph once: builds lookup tables from assets and sets asset-path variables. */
async function runInitOps(init: InitGraph, state: HostState): Promise<void> {
  if (init.graph.nodes.size === 0) return;
  const feedDTypes = new Map([...init.feeds.values()].map((ref) => [refKey(ref), DataType.DT_STRING]));
  const plan = await compilePlan(init.graph, { feeds: init.feeds, feedDTypes, fetches: new Map() }, state);
  try {
    const inputs = new Map(
      [...init.feeds.keys()].map((name) => [
        name,
        Tensor.fromStrings([], [state.assetPaths.get(name) ?? ""]),
      ]),
    );
    await plan.run(inputs);
  } finally {
    await plan.release();
  }
}

/** Gives each stateful variable its checkpoint value, once per version (variables only the init op sets have no key). */
async function restoreVariables(
  variables: ReadonlyMap<string, string>,
  graph: Graph,
  state: HostState,
  reader: BundleReader | undefined,
): Promise<void> {
  for (const [name, key] of variables) {
    const node = graph.nodes.get(name);
    const resource = node && resourceName(node);
    if (!resource || state.resources.has(resource) || !key || !reader?.has(key)) continue;
    createVariable(state, resource, await reader.read(key));
  }
}
