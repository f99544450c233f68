import type { AttrValue } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import type { FunctionDef } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import type { OpDef } from "../proto/gen/tensorflow/core/framework/op_def_pb.js";
import type { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { Tensor } from "../tensor/tensor.js";

/** One output of a node: its flat output index (TF's `node:k`). */
export interface TensorRef {
  readonly node: string;
  readonly index: number;
}

/** `node:k` — the key form of a TensorRef, as TF prints tensor names. */
export const refKey = (ref: TensorRef): string => `${ref.node}:${ref.index}`;

/** Parses `node`, `node:3` (not `^node`, not function-body `node:arg:k` refs). */
export function parseRef(name: string): TensorRef {
  const colon = name.lastIndexOf(":");
  if (colon > 0 && /^\d+$/.test(name.slice(colon + 1))) {
    return { node: name.slice(0, colon), index: Number(name.slice(colon + 1)) };
  }
  return { node: name, index: 0 };
}

/**
 * A node of the flat, inlined graph the compiler works on. Function calls are already inlined,
 * attrs carry their OpDef defaults and function-body placeholders are substituted.
 */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  /** Data inputs, in order. */
  readonly inputs: readonly TensorRef[];
  /** Nodes that must run first (TF's `^node`); only meaningful between stateful host ops. */
  readonly controlInputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
  /** The dtype of each flat output. */
  readonly outputDTypes: readonly DataType[];
  /** Set on Const nodes and on variables frozen into constants. */
  readonly value?: Tensor;
}

/**
 * The graph of one SavedModel MetaGraphDef after import: nodes by name plus what passes need
 * to interpret them (the function library for control-flow bodies, the OpDefs in use).
 */
export interface Graph {
  readonly nodes: ReadonlyMap<string, GraphNode>;
  readonly functions: ReadonlyMap<string, FunctionDef>;
  readonly opDefs: ReadonlyMap<string, OpDef>;
}
