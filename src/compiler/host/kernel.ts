import type { GraphNode } from "../../graph/ir.js";
import type { Tensor } from "../../tensor/tensor.js";

/**
 * A resource a host op hands to another: a lookup table, or a mutable variable that stays on the
 * host because some op writes it.
 */
export interface HostResource {
  readonly kind: "table" | "variable";
}

/** A DT_VARIANT value: a TensorList (see tensor-list.ts). Immutable: list ops return new lists. */
export interface HostVariant {
  readonly kind: "tensor_list";
}

/** What flows between host steps: tensors, resource handles and variants (never into ONNX segments). */
export type HostValue = Tensor | HostResource | HostVariant;

/** Per loaded model version: resources by node name (tables, mutable variables), asset paths. */
export interface HostState {
  /** Resources created by resource ops (HashTableV2, VarHandleOp...), keyed by the creating node's name or shared_name. */
  readonly resources: Map<string, HostResource>;
  /** Absolute path of each asset file by AssetFileDef tensor name (`asset_path_initializer:0`). */
  readonly assetPaths: ReadonlyMap<string, string>;
}

/**
 * A TypeScript kernel for a TF op that ONNX lacks (tf.Example parsing, lookup tables, strings) or that
 * touches host state. Returns one value per flat output of the node.
 */
export type HostKernel = (node: GraphNode, inputs: readonly HostValue[], state: HostState) => HostValue[];

/**
 * A host op that awaits: control flow (While, If, Case) runs compiled function bodies, which may hold
 * ONNX segments. Built at load with its functions compiled (see control-flow.ts); runs per request.
 */
export type AsyncHostKernel = (
  node: GraphNode,
  inputs: readonly HostValue[],
  state: HostState,
) => Promise<HostValue[]>;
