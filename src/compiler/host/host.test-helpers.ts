// Test helpers for the host kernels: GraphNodes built by hand, a fresh HostState, tensor shorthands.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { attr } from "../../export/graph-builder.js";
import type { GraphNode } from "../../graph/ir.js";
import { type AttrValue, AttrValueSchema } from "../../proto/gen/tensorflow/core/framework/attr_value_pb.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { HOST_KERNELS } from "./index.js";
import type { HostResource, HostState, HostValue } from "./kernel.js";

export { attr };

type AttrInit = MessageInitShape<typeof AttrValueSchema>;

/** A GraphNode of `op` with `attrs`; name defaults to the op's name. */
export function makeNode(
  op: string,
  attrs: Record<string, AttrInit> = {},
  options: { name?: string; outputs?: DataType[]; value?: Tensor } = {},
): GraphNode {
  const built: Record<string, AttrValue> = {};
  for (const [k, v] of Object.entries(attrs)) built[k] = create(AttrValueSchema, v);
  return {
    name: options.name ?? op,
    op,
    inputs: [],
    controlInputs: [],
    attrs: built,
    outputDTypes: options.outputs ?? [],
    ...(options.value ? { value: options.value } : {}),
  };
}

export function newState(assets: Record<string, string> = {}): HostState {
  return { resources: new Map<string, HostResource>(), assetPaths: new Map(Object.entries(assets)) };
}

/** Runs the registered kernel of `node.op`. */
export function run(node: GraphNode, inputs: HostValue[] = [], state: HostState = newState()): HostValue[] {
  const kernel = HOST_KERNELS.get(node.op);
  if (!kernel) throw new Error(`no host kernel for ${node.op}`);
  return kernel(node, inputs, state);
}

/** Runs a kernel expected to return tensors only. */
export const runTensors = (node: GraphNode, inputs: HostValue[] = [], state?: HostState): Tensor[] =>
  run(node, inputs, state).map((v) => {
    if (!(v instanceof Tensor)) throw new Error(`${node.op} returned a resource`);
    return v;
  });

/** Strings list attr. */
export const attrStrings = (values: readonly string[]): AttrInit => ({
  value: { case: "list", value: { s: values.map((s) => new TextEncoder().encode(s)) } },
});
export const attrShapes = (shapes: readonly (readonly number[])[]): AttrInit => ({
  value: {
    case: "list",
    value: { shape: shapes.map((dims) => ({ dim: dims.map((d) => ({ size: BigInt(d) })) })) },
  },
});

export const str = (values: string[], shape: number[] = [values.length]): Tensor =>
  Tensor.fromStrings(shape, values);
export const scalarStr = (value: string): Tensor => Tensor.fromStrings([], [value]);
export const i64 = (values: (number | bigint)[], shape: number[] = [values.length]): Tensor =>
  new Tensor(
    DataType.DT_INT64,
    shape,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
export const i32 = (values: number[], shape: number[] = [values.length]): Tensor =>
  new Tensor(DataType.DT_INT32, shape, Int32Array.from(values));
export const f32 = (values: number[], shape: number[] = [values.length]): Tensor =>
  new Tensor(DataType.DT_FLOAT, shape, Float32Array.from(values));
export const f64 = (values: number[], shape: number[] = [values.length]): Tensor =>
  new Tensor(DataType.DT_DOUBLE, shape, Float64Array.from(values));

/** The strings of a string tensor, UTF-8 decoded. */
export const texts = (t: HostValue | undefined): string[] => {
  if (!(t instanceof Tensor)) throw new Error("not a tensor");
  return t.strings.map((s) => new TextDecoder().decode(s));
};
/** The values of a numeric tensor as JS numbers. */
export const nums = (t: HostValue | undefined): number[] => {
  if (!(t instanceof Tensor)) throw new Error("not a tensor");
  return Array.from(t.values as ArrayLike<number | bigint>, Number);
};
export const shapeOf = (t: HostValue | undefined): readonly number[] => {
  if (!(t instanceof Tensor)) throw new Error("not a tensor");
  return t.shape;
};
