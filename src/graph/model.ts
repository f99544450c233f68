// The graph of one loaded SavedModel version, imported and inlined once and shared by all its
// signatures: checkpoint keys, variables that stay variables, the init op.
import { Code, ServingError } from "../errors.js";
import type {
  MetaGraphDef,
  SignatureDef,
  TensorInfo,
} from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { importGraph } from "./import.js";
import { inlineFunctions } from "./inline.js";
import { type Graph, parseRef, type TensorRef } from "./ir.js";
import type { PruneSpec } from "./prune.js";
import { checkpointKeys, INIT_OP_SIGNATURE, initTargets, statefulVariables } from "./variables.js";

export interface ModelGraph {
  /** The top-level graph as imported (calls not inlined). */
  readonly imported: Graph;
  /** Every call inlined. */
  readonly graph: Graph;
  /** Variable node → checkpoint key, from the restore op. */
  readonly checkpointKeys: ReadonlyMap<string, string>;
  /**
   * Variables written by any signature or by the init op: they stay variables in every signature of
   * the version (state is shared per loaded version, as in a TF session); all others are frozen.
   */
  readonly statefulVariables: ReadonlySet<string>;
  /** Ops to run once after loading (see initTargets). */
  readonly initTargets: readonly string[];
}

const cache = new WeakMap<MetaGraphDef, ModelGraph>();

/**
 * Imports and inlines a MetaGraphDef once (cached per MetaGraphDef object) and analyses its variables.
 *
 * @example
 * const model = modelGraph(bundle.metaGraph);
 * model.statefulVariables.has("counter"); // true for saved_model_counter
 */
export function modelGraph(metaGraph: MetaGraphDef): ModelGraph {
  const cached = cache.get(metaGraph);
  if (cached) return cached;
  const imported = importGraph(metaGraph);
  const graph = inlineFunctions(imported);
  const targets = initTargets(metaGraph);
  const runs: PruneSpec[] = [{ feeds: [], fetches: [], targets }];
  for (const [key, signature] of Object.entries(metaGraph.signatureDef)) {
    if (key === INIT_OP_SIGNATURE) continue;
    try {
      const { feeds, fetches } = signatureTensors(signature, key);
      runs.push({ feeds: [...feeds.values()], fetches: [...fetches.values()], targets: [] });
    } catch {
      // A signature with tensors this engine cannot name writes nothing we could run.
    }
  }
  const model: ModelGraph = {
    imported,
    graph,
    checkpointKeys: checkpointKeys(graph, metaGraph.saverDef),
    statefulVariables: statefulVariables(graph, runs),
    initTargets: targets,
  };
  cache.set(metaGraph, model);
  return model;
}

/**
 * The feeds and fetches of a SignatureDef: input/output key → tensor (`x:0`; `_REF` dtypes and all,
 * the tensor is what counts). Sparse (coo_sparse) and composite tensors are UNIMPLEMENTED.
 */
export function signatureTensors(
  signature: SignatureDef,
  key: string,
): { feeds: Map<string, TensorRef>; fetches: Map<string, TensorRef> } {
  const refs = (infos: { [name: string]: TensorInfo }, kind: string): Map<string, TensorRef> =>
    new Map(
      Object.entries(infos).map(([name, info]) => {
        if (info.encoding.case !== "name") {
          throw new ServingError(
            Code.UNIMPLEMENTED,
            `signature ${key}: ${kind} ${name} is a ${info.encoding.case ?? "unnamed"} tensor; only dense tensors are supported`,
          );
        }
        return [name, parseRef(info.encoding.value)];
      }),
    );
  return { feeds: refs(signature.inputs, "input"), fetches: refs(signature.outputs, "output") };
}
