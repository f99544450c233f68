import type { GraphNode } from "../../graph/ir.js";
import type { Tensor } from "../../tensor/tensor.js";

/**
 * A resource a host op hands to another: a lookup table, or a mutable variable that stays on the
 * host because some op writes it.
 */
export interface HostResource {
  readonly kind: "table" | "variable";
}

/** What flows between host steps: tensors, and resource handles (never into ONNX segments). */
export type HostValue = Tensor | HostResource;

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
