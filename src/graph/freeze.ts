// Freezing: variables nothing writes become constants read from the checkpoint (TensorBundle).
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { AttrValueSchema } from "../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { baseDType, dtypeName } from "../tensor/dtype.js";
import { formatShape, type PartialShape } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { tensorToProto } from "../tensor/tensor-proto.js";
import { attrInt, attrShape, attrType, intAttr, typeAttr } from "./attrs.js";
import type { Graph, GraphNode } from "./ir.js";
import { traceVariable, VARIABLE_OPS } from "./variable-ops.js";
import { defaultCheckpointKey, writtenVariables } from "./variables.js";

/** Where variable values come from: a BundleReader fits. */
export interface VariableSource {
  has(key: string): boolean;
  read(key: string): Promise<Tensor>;
}

export interface FreezeOptions {
  /**
   * Variable nodes to keep as variables. Default: the variables some op of `graph` writes. Pass the
   * model-wide set (statefulVariables) so that all signatures of a version share state.
   */
  readonly mutable?: ReadonlySet<string>;
}

export interface FreezeResult {
  readonly graph: Graph;
  /**
   * Variable nodes left in the graph → checkpoint key ("" when the checkpoint has none: the init op
   * sets it). These are the mutable ones, plus any immutable variable whose handle feeds an op freezing
   * cannot rewrite (If/While taking a resource): the host must hold all of them.
   */
  readonly mutableVariables: Map<string, string>;
}

/**
 * Replaces reads of immutable variables by constants: an immutable VariableV2 becomes a Const of the
 * same name; `ReadVariableOp(VarHandleOp)` becomes a Const; `ResourceGather(handle, ids)` becomes
 * `GatherV2(<name>/params, ids, <name>/axis = 0)`; `VarIsInitializedOp` becomes Const true. Values are
 * read once per variable and checked against the variable's dtype and shape attrs.
 * A missing key is DATA_LOSS, a dtype or shape mismatch FAILED_PRECONDITION; both name variable and key.
 *
 * @example
 * const { graph, mutableVariables } = await freezeVariables(pruned, keys, reader, { mutable });
 */
export async function freezeVariables(
  graph: Graph,
  mapping: ReadonlyMap<string, string>,
  reader: VariableSource | undefined,
  options: FreezeOptions = {},
): Promise<FreezeResult> {
  const mutable = options.mutable ?? writtenVariables(graph);
  const keyOf = (variable: GraphNode): string => mapping.get(variable.name) ?? defaultCheckpointKey(variable);
  const values = new Map<string, Promise<Tensor>>();
  const valueFor = (variable: GraphNode): Promise<Tensor> => {
    let value = values.get(variable.name);
    if (!value) {
      value = readChecked(variable, keyOf(variable), reader);
      values.set(variable.name, value);
    }
    return value;
  };
  const frozenVariable = (ref: GraphNode["inputs"][number] | undefined): GraphNode | undefined => {
    const name = ref && traceVariable(graph.nodes, ref);
    const variable = name === undefined ? undefined : graph.nodes.get(name);
    return variable && !mutable.has(variable.name) ? variable : undefined;
  };

  const replaced = new Map<string, Promise<GraphNode[]>>();
  for (const node of graph.nodes.values()) {
    if ((node.op === "VariableV2" || node.op === "Variable") && !mutable.has(node.name)) {
      replaced.set(
        node.name,
        valueFor(node).then((value) => [constNode(node.name, value)]),
      );
      continue;
    }
    const variable = frozenVariable(node.inputs[0]);
    if (!variable) continue;
    if (node.op === "ReadVariableOp") {
      replaced.set(
        node.name,
        valueFor(variable).then((value) => [
          constNode(node.name, checkRead(node, variable, keyOf(variable), value)),
        ]),
      );
    } else if (node.op === "ResourceGather") {
      replaced.set(
        node.name,
        valueFor(variable).then((value) =>
          gather(node, checkRead(node, variable, keyOf(variable), value), graph),
        ),
      );
    } else if (node.op === "VarIsInitializedOp") {
      replaced.set(node.name, Promise.resolve([constNode(node.name, trueScalar())]));
    }
  }
  // Promise.all handles every rejection at once (awaiting one by one would leave later ones unhandled).
  const replacements = new Map(
    await Promise.all([...replaced].map(async ([name, pending]) => [name, await pending] as const)),
  );

  const nodes = new Map<string, GraphNode>();
  for (const [name, node] of graph.nodes) {
    for (const replacement of replacements.get(name) ?? [node]) nodes.set(replacement.name, replacement);
  }
  const mutableVariables = new Map<string, string>();
  for (const node of nodes.values()) {
    if (!VARIABLE_OPS.has(node.op)) continue;
    const key = keyOf(node);
    mutableVariables.set(node.name, mapping.has(node.name) || reader?.has(key) ? key : "");
  }
  return { graph: { nodes, functions: graph.functions, opDefs: graph.opDefs }, mutableVariables };
}

async function readChecked(
  variable: GraphNode,
  key: string,
  reader: VariableSource | undefined,
): Promise<Tensor> {
  const what = `variable ${variable.name} (checkpoint key "${key}")`;
  if (!reader)
    throw new ServingError(Code.DATA_LOSS, `${what} has no value: the SavedModel has no variables/`);
  if (!reader.has(key))
    throw new ServingError(Code.DATA_LOSS, `${what} has no value: the checkpoint lacks the key`);
  const value = await reader.read(key);
  const dtype = attrType(variable.attrs, "dtype");
  const shape = attrShape(variable.attrs, "shape");
  if (
    (dtype !== undefined && baseDType(dtype) !== baseDType(value.dtype)) ||
    !shapeMatches(shape, value.shape)
  ) {
    const declared = `${dtype === undefined ? "?" : dtypeName(baseDType(dtype))} ${formatShape(shape ?? null)}`;
    throw new ServingError(
      Code.FAILED_PRECONDITION,
      `${what}: the checkpoint holds ${dtypeName(value.dtype)} ${formatShape([...value.shape])}, the graph declares ${declared}`,
    );
  }
  return value;
}

/** The dtype a ReadVariableOp/ResourceGather declares must match what the variable holds. */
function checkRead(node: GraphNode, variable: GraphNode, key: string, value: Tensor): Tensor {
  const dtype = attrType(node.attrs, "dtype");
  if (dtype !== undefined && baseDType(dtype) !== baseDType(value.dtype)) {
    throw new ServingError(
      Code.FAILED_PRECONDITION,
      `${node.op} ${node.name} reads ${dtypeName(dtype)} from variable ${variable.name} (checkpoint key "${key}"), which holds ${dtypeName(value.dtype)}`,
    );
  }
  return value;
}

function shapeMatches(declared: PartialShape | undefined, actual: readonly number[]): boolean {
  if (declared === undefined || declared === null) return true;
  return declared.length === actual.length && declared.every((d, i) => d === -1 || d === actual[i]);
}

function constNode(name: string, value: Tensor): GraphNode {
  const dtype = baseDType(value.dtype);
  return {
    name,
    op: "Const",
    inputs: [],
    controlInputs: [],
    attrs: {
      dtype: typeAttr(dtype),
      value: create(AttrValueSchema, { value: { case: "tensor", value: tensorToProto(value) } }),
    },
    outputDTypes: [dtype],
    value,
  };
}

const trueScalar = (): Tensor => new Tensor(DataType.DT_BOOL, [], new Uint8Array([1]));

/** `ResourceGather(handle, ids)` → `GatherV2(<name>/params, ids, <name>/axis)`; batch_dims must be 0. */
function gather(node: GraphNode, value: Tensor, graph: Graph): GraphNode[] {
  if ((attrInt(node.attrs, "batch_dims") ?? 0) !== 0) {
    throw new ServingError(
      Code.UNIMPLEMENTED,
      `ResourceGather ${node.name}: batch_dims other than 0 is not supported`,
    );
  }
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; graph.nodes.has(name); i++) name = `${base}_${i}`;
    return name;
  };
  const params = constNode(fresh(`${node.name}/params`), value);
  const axis = constNode(fresh(`${node.name}/axis`), axisZero());
  const ids = node.inputs[1];
  if (!ids) throw new ServingError(Code.INVALID_ARGUMENT, `ResourceGather ${node.name} has no indices input`);
  const gatherNode: GraphNode = {
    name: node.name,
    op: "GatherV2",
    inputs: [{ node: params.name, index: 0 }, ids, { node: axis.name, index: 0 }],
    controlInputs: [],
    attrs: {
      Tparams: typeAttr(baseDType(value.dtype)),
      Tindices: node.attrs.Tindices ?? typeAttr(DataType.DT_INT32),
      Taxis: typeAttr(DataType.DT_INT32),
      batch_dims: intAttr(0),
    },
    outputDTypes: node.outputDTypes,
  };
  return [params, axis, gatherNode];
}

const axisZero = (): Tensor => new Tensor(DataType.DT_INT32, [], new Int32Array([0]));
