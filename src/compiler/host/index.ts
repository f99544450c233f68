// The host kernels: TypeScript implementations of the TF ops that run between ONNX segments
// (tf.Example parsing, lookup tables, string hashing and string ops, host variables, and the generic
// ops a string or resource tensor may pass through). Every kernel computes what TF's CPU kernel does.
import { BROADCAST_KERNELS } from "./broadcast.js";
import { BUCKETIZE_KERNELS } from "./bucketize.js";
import { EXAMPLE_KERNELS } from "./example.js";
import { FORMAT_KERNELS } from "./format.js";
import { GENERIC_KERNELS } from "./generic.js";
import { HASH_KERNELS } from "./hash.js";
import type { HostKernel } from "./kernel.js";
import { LOOKUP_KERNELS } from "./lookup.js";
import { RANDOM_KERNELS } from "./random.js";
import { REGEX_KERNELS } from "./regex.js";
import { SPARSE_KERNELS } from "./sparse.js";
import { STRING_KERNELS } from "./strings.js";
import { TENSOR_LIST_KERNELS } from "./tensor-list.js";
import { UNIQUE_KERNELS } from "./unique.js";
import { VARIABLE_KERNELS } from "./variables.js";

export {
  CONTROL_FLOW_OPS,
  type CompiledFunction,
  type ControlFlowOptions,
  controlFlowKernel,
  DEFAULT_MAX_LOOP_ITERATIONS,
  type FunctionCompiler,
  isControlFlowOp,
} from "./control-flow.js";
export type {
  AsyncHostKernel,
  HostKernel,
  HostResource,
  HostState,
  HostValue,
  HostVariant,
} from "./kernel.js";
export { LookupTable, type TableKey, type TableValue } from "./lookup.js";
export { isTensorList, TensorList } from "./tensor-list.js";
export { resourceName } from "./util.js";
export { createVariable, HostVariable, readValue } from "./variables.js";

/** Every host kernel by TF op name. */
export const HOST_KERNELS: ReadonlyMap<string, HostKernel> = new Map(
  Object.entries({
    ...GENERIC_KERNELS,
    ...EXAMPLE_KERNELS,
    ...LOOKUP_KERNELS,
    ...HASH_KERNELS,
    ...STRING_KERNELS,
    ...REGEX_KERNELS,
    ...FORMAT_KERNELS,
    ...VARIABLE_KERNELS,
    ...RANDOM_KERNELS,
    ...BROADCAST_KERNELS,
    ...BUCKETIZE_KERNELS,
    ...SPARSE_KERNELS,
    ...UNIQUE_KERNELS,
    ...TENSOR_LIST_KERNELS,
  }),
);

/** Whether `op` has a host kernel (it can run on the host). */
export const isHostOp = (op: string): boolean => HOST_KERNELS.has(op);

/**
 * Ops that always run on the host, whatever their dtypes: tf.Example parsing, lookup tables, hashing,
 * string and regex ops, AsString/StringToNumber, host variables and random ops. The other host kernels (Identity,
 * Reshape, ConcatV2, GatherV2, Equal...) are fallbacks for when a string or resource value flows
 * through an op ONNX could otherwise run.
 */
export const HOST_ONLY_OPS: ReadonlySet<string> = new Set(
  [...HOST_KERNELS.keys()].filter((op) => !Object.hasOwn(GENERIC_KERNELS, op)),
);

export const isHostOnlyOp = (op: string): boolean => HOST_ONLY_OPS.has(op);
