// The graph layer: SavedModel signature → flat, frozen, pruned graph for the compiler.
import { Code, ServingError } from "../errors.js";
import { BundleReader } from "../savedmodel/bundle/index.js";
import type { SavedModelBundle } from "../savedmodel/saved-model.js";
import { type FreezeResult, freezeVariables, type VariableSource } from "./freeze.js";
import { type Graph, parseRef, type TensorRef } from "./ir.js";
import { type ModelGraph, modelGraph, signatureTensors } from "./model.js";
import { type PruneSpec, prune } from "./prune.js";
import { VARIABLE_OPS } from "./variable-ops.js";
import { INIT_OP_SIGNATURE } from "./variables.js";

export { type FreezeOptions, type FreezeResult, freezeVariables, type VariableSource } from "./freeze.js";
export { importGraph } from "./import.js";
export { CALL_OPS, inlineFunctions } from "./inline.js";
export { type Graph, type GraphNode, parseRef, refKey, type TensorRef } from "./ir.js";
export { type ModelGraph, modelGraph, signatureTensors } from "./model.js";
export { builtinOpDefs, fillDefaultAttrs, opDefsFor, outputArity, outputDTypes } from "./op-defs.js";
export { type PruneSpec, prune } from "./prune.js";
export { inferShapes, type StaticShape } from "./shapes.js";
export { isVariableWriter, VARIABLE_OPS } from "./variable-ops.js";
export {
  checkpointKeys,
  INIT_OP_SIGNATURE,
  initTargets,
  statefulVariables,
  writtenVariables,
} from "./variables.js";

export interface PrepareOptions {
  /** Variable values; default: the bundle's variables/ opened for the call and closed after. */
  readonly reader?: VariableSource;
}

export interface SignatureGraph {
  /** Only what the outputs need: calls inlined, immutable variables frozen, cut at the inputs. */
  readonly graph: Graph;
  /** Signature input key → fed tensor. The fed tensor's producer is not in the graph unless needed otherwise. */
  readonly feeds: Map<string, TensorRef>;
  /** Signature output key → fetched tensor (a call's outputs keep the call's name, as an IdentityN). */
  readonly fetches: Map<string, TensorRef>;
  /** Variable nodes left in the graph → checkpoint key ("" when only the init op sets the variable). */
  readonly mutableVariables: Map<string, string>;
}

/**
 * Prepares one signature for compilation: import → inline → prune → freeze → prune. The import,
 * inlining and variable analysis are shared by all signatures of the bundle (see modelGraph).
 * A variable written by any signature stays a variable in all of them, so state is shared per loaded
 * version; every other variable becomes a constant.
 *
 * @example
 * const { graph, feeds, fetches } = await prepareSignatureGraph(bundle, "serving_default");
 * feeds.get("x"); // { node: "x", index: 0 }
 */
export async function prepareSignatureGraph(
  bundle: SavedModelBundle,
  signatureKey: string,
  options: PrepareOptions = {},
): Promise<SignatureGraph> {
  const signature = bundle.signatures.get(signatureKey);
  if (!signature || signatureKey === INIT_OP_SIGNATURE) {
    const available = [...bundle.signatures.keys()].filter((k) => k !== INIT_OP_SIGNATURE).join(", ");
    throw new ServingError(
      Code.NOT_FOUND,
      `${bundle.dir}: no signature "${signatureKey}" (available: ${available})`,
    );
  }
  const model = modelGraph(bundle.metaGraph);
  const { feeds, fetches } = signatureTensors(signature, signatureKey);
  const spec: PruneSpec = { feeds: [...feeds.values()], fetches: [...fetches.values()], targets: [] };
  return { ...(await pruneAndFreeze(bundle, model, spec, options)), feeds, fetches };
}

export interface InitGraph {
  /** What the init ops need (table initialisation, asset-path variables); empty when there are none. */
  readonly graph: Graph;
  readonly targets: readonly string[];
  /** AssetFileDef tensor name → the tensor to feed with the asset's absolute path. */
  readonly feeds: Map<string, TensorRef>;
  readonly mutableVariables: Map<string, string>;
}

/**
 * Prepares the init graph of a bundle: the ops TF's loader runs once after restoring variables
 * (`__saved_model_init_op`, `saved_model_main_op` or `legacy_init_op`), cut at the asset tensors.
 *
 * @example
 * const init = await prepareInitGraph(bundle);
 * init.targets; // ["NoOp"]
 */
export async function prepareInitGraph(
  bundle: SavedModelBundle,
  options: PrepareOptions = {},
): Promise<InitGraph> {
  const model = modelGraph(bundle.metaGraph);
  const feeds = new Map(
    bundle.assets.map((asset) => [asset.tensorName, parseRef(asset.tensorName)] as const),
  );
  const targets = model.initTargets.filter((t) => model.graph.nodes.has(t));
  const spec: PruneSpec = { feeds: [...feeds.values()], fetches: [], targets };
  return { ...(await pruneAndFreeze(bundle, model, spec, options)), targets, feeds };
}

/** prune → freeze → prune: the graph the spec needs, with the variables still in it. */
async function pruneAndFreeze(
  bundle: SavedModelBundle,
  model: ModelGraph,
  spec: PruneSpec,
  options: PrepareOptions,
): Promise<{ graph: Graph; mutableVariables: Map<string, string> }> {
  const frozen = await freezePruned(bundle, prune(model.graph, spec), options, model);
  const graph = prune(frozen.graph, spec);
  const mutableVariables = new Map([...frozen.mutableVariables].filter(([name]) => graph.nodes.has(name)));
  return { graph, mutableVariables };
}

async function freezePruned(
  bundle: SavedModelBundle,
  pruned: Graph,
  options: PrepareOptions,
  { checkpointKeys: keys, statefulVariables: mutable }: ModelGraph,
): Promise<FreezeResult> {
  const hasVariables = [...pruned.nodes.values()].some((n) => VARIABLE_OPS.has(n.op));
  if (options.reader || !hasVariables || !bundle.variablesPrefix) {
    return freezeVariables(pruned, keys, options.reader, { mutable });
  }
  const reader = await BundleReader.open(bundle.variablesPrefix);
  try {
    return await freezeVariables(pruned, keys, reader, { mutable });
  } finally {
    await reader.close();
  }
}
