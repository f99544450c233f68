// MetaGraphDef → Graph IR: the top-level GraphDef nodes with parsed inputs, default attrs filled,
// flat output dtypes computed and Const values decoded; the function library kept by name.
import { Code, ServingError } from "../errors.js";
import type { FunctionDef } from "../proto/gen/tensorflow/core/framework/function_pb.js";
import type { OpDef } from "../proto/gen/tensorflow/core/framework/op_def_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import type { MetaGraphDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { baseDType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { tensorFromProto } from "../tensor/tensor-proto.js";
import { type Attrs, attrShapes, attrType } from "./attrs.js";
import { type Graph, type GraphNode, parseRef, type TensorRef } from "./ir.js";
import { fillDefaultAttrs, type OpDefs, opDefsFor, outputDTypes } from "./op-defs.js";

/** A node before its OpDef is applied: what import and inlining know of it. */
export interface NodeSpec {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly TensorRef[];
  readonly controlInputs: readonly string[];
  readonly attrs: Attrs;
}

/**
 * The OpDef of an op: a registered op's, or the signature of a library function called by name.
 * Undefined for ops neither table knows.
 */
export function lookupOpDef(
  op: string,
  opDefs: OpDefs,
  functions: ReadonlyMap<string, FunctionDef>,
): OpDef | undefined {
  return opDefs.get(op) ?? functions.get(op)?.signature;
}

/**
 * Builds a GraphNode: fills default attrs, computes the flat output dtypes (`_REF` reduced to the base
 * type) and decodes a Const's value. An op without an OpDef keeps its attrs; its outputs are guessed
 * from `_output_shapes` with the dtype of attr `T` or `dtype` (DT_INVALID when neither is set).
 */
export function makeNode(
  spec: NodeSpec,
  opDefs: OpDefs,
  functions: ReadonlyMap<string, FunctionDef>,
): GraphNode {
  const opDef = lookupOpDef(spec.op, opDefs, functions);
  const attrs = opDef ? fillDefaultAttrs(spec.attrs, opDef) : { ...spec.attrs };
  let dtypes: DataType[];
  if (opDef) {
    dtypes = outputDTypes({ name: spec.name, attrs }, opDef).map(baseDType);
  } else {
    const guess = attrType(attrs, "T") ?? attrType(attrs, "dtype") ?? DataType.DT_INVALID;
    dtypes = (attrShapes(attrs, "_output_shapes") ?? []).map(() => baseDType(guess));
  }
  const node: GraphNode = {
    name: spec.name,
    op: spec.op,
    inputs: spec.inputs,
    controlInputs: spec.controlInputs,
    attrs,
    outputDTypes: dtypes,
  };
  return spec.op === "Const" ? { ...node, value: constValue(spec.name, attrs) } : node;
}

function constValue(name: string, attrs: Attrs): Tensor {
  const v = attrs.value?.value;
  if (v?.case !== "tensor")
    throw new ServingError(Code.INVALID_ARGUMENT, `Const ${name} has no tensor attr "value"`);
  try {
    return tensorFromProto(v.value);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ServingError(Code.INVALID_ARGUMENT, `Const ${name}: ${message}`, { cause: error });
  }
}

/** Splits GraphDef-style inputs (`node`, `node:3`, `^node`) into data refs and control inputs. */
export function splitInputs(inputs: readonly string[]): { inputs: TensorRef[]; controlInputs: string[] } {
  const data: TensorRef[] = [];
  const control: string[] = [];
  for (const input of inputs) {
    if (input.startsWith("^")) control.push(input.slice(1));
    else data.push(parseRef(input));
  }
  return { inputs: data, controlInputs: control };
}

/**
 * Imports the top-level graph of a MetaGraphDef. Function bodies are not imported: they stay as
 * FunctionDefs in `functions` (inlineFunctions expands the calls).
 *
 * @example
 * const graph = importGraph(bundle.metaGraph);
 * graph.nodes.get("y")?.inputs; // [{ node: "Add", index: 0 }]
 */
export function importGraph(metaGraph: MetaGraphDef): Graph {
  const opDefs = opDefsFor(metaGraph);
  const functions = new Map<string, FunctionDef>();
  for (const fn of metaGraph.graphDef?.library?.function ?? []) {
    if (fn.signature) functions.set(fn.signature.name, fn);
  }
  const nodes = new Map<string, GraphNode>();
  for (const def of metaGraph.graphDef?.node ?? []) {
    if (nodes.has(def.name))
      throw new ServingError(Code.INVALID_ARGUMENT, `graph has two nodes named ${def.name}`);
    const node = makeNode(
      { name: def.name, op: def.op, attrs: def.attr, ...splitInputs(def.input) },
      opDefs,
      functions,
    );
    nodes.set(def.name, node);
  }
  return { nodes, functions, opDefs };
}
