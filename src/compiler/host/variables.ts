// Mutable variables kept on the host (variables some op writes, so they cannot be frozen into
// constants): TF1 ref variables (VariableV2, Assign*) and TF2 resource variables (VarHandleOp,
// ReadVariableOp, AssignVariableOp...), after TF's variable_ops.cc, dense_update_ops.cc,
// resource_variable_ops.cc and training_ops.cc (gradient descent).
//
// Ref semantics: a VariableV2 node's output *is* its HostVariable. Any kernel reading a tensor input
// goes through `readValue`, which dereferences a HostVariable into its current value (as TF turns a
// ref edge into a value for a non-ref input), so Identity(VariableV2) — TF1's `<name>/read` — yields
// the value, and Assign/AssignAdd see the variable itself.
import { Code, invalidArgument, ServingError } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import { baseDType, DataType, fixedDType } from "../../tensor/dtype.js";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "../../tensor/half.js";
import type { PartialShape } from "../../tensor/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import type { HostKernel, HostState, HostValue } from "./kernel.js";
import {
  attrBool,
  attrShape,
  attrType,
  boolTensor,
  input,
  readValue,
  resourceName,
  sameShape,
  tfShape,
  tfTypeName,
  type VariableLike,
} from "./util.js";

export { readValue };

const failedPrecondition = (message: string) => new ServingError(Code.FAILED_PRECONDITION, message);

/** A mutable variable resource: its dtype, declared shape and current value (undefined until assigned). */
export class HostVariable implements VariableLike {
  readonly kind = "variable";

  constructor(
    readonly name: string,
    readonly dtype: DataType,
    readonly shape: PartialShape = null,
    public value: Tensor | undefined = undefined,
  ) {}
}

/**
 * Creates (or re-initialises) the variable `name` in `state.resources` with the value `initial`, as a
 * restore from the checkpoint does. `name` must be the key the variable's creating node uses:
 * `resourceName(node)` (its `shared_name`, else the node's name, prefixed by a non-empty container).
 */
export function createVariable(state: HostState, name: string, initial: Tensor): HostVariable {
  const existing = state.resources.get(name);
  if (existing instanceof HostVariable) {
    existing.value = initial;
    return existing;
  }
  if (existing !== undefined) throw invalidArgument(`resource ${name} exists and is not a variable`);
  const variable = new HostVariable(name, baseDType(initial.dtype), [...initial.shape], initial);
  state.resources.set(name, variable);
  return variable;
}

/** VariableV2 / VarHandleOp: the variable of this node, created (uninitialised) on first use. */
const variableOp: HostKernel = (node, _inputs, state) => {
  const name = resourceName(node);
  const dtype = baseDType(attrType(node, "dtype"));
  const existing = state.resources.get(name);
  if (existing instanceof HostVariable) {
    if (existing.dtype !== dtype) {
      throw invalidArgument(
        `Trying to access resource ${name} with dtype ${tfTypeName(dtype)}, but it has dtype ${tfTypeName(existing.dtype)}`,
      );
    }
    return [existing];
  }
  if (existing !== undefined) throw invalidArgument(`resource ${name} is not a variable`);
  const variable = new HostVariable(name, dtype, attrShape(node, "shape", null));
  state.resources.set(name, variable);
  return [variable];
};

function variableInput(node: GraphNode, inputs: readonly HostValue[], i: number): HostVariable {
  const v = inputs[i];
  if (!(v instanceof HostVariable))
    throw invalidArgument(`${node.op} node ${node.name}: input ${i} is not a variable`);
  return v;
}

/** The value of a resource variable, or TF's error for a variable that was never assigned. */
function resourceValue(v: HostVariable): Tensor {
  if (v.value === undefined) {
    throw failedPrecondition(
      `Could not find variable ${v.name}. This could mean that the variable has been deleted. ` +
        "In TF1, it can also mean the variable is uninitialized.",
    );
  }
  return v.value;
}

// ---------------------------------------------------------------------------------------------
// Element-wise arithmetic on same-shaped tensors of one dtype (a new tensor; values never mutate).

type NumOp = (a: number, b: number) => number;
type BigOp = (a: bigint, b: bigint) => bigint;

function combine(a: Tensor, b: Tensor, op: NumOp, bigOp: BigOp): Tensor {
  const dtype = baseDType(a.dtype);
  const info = fixedDType(dtype);
  if (!info) throw invalidArgument(`arithmetic is not supported on ${tfTypeName(dtype)}`);
  const x = a.data as ArrayLike<number | bigint>;
  const y = b.data as ArrayLike<number | bigint>;
  const out = new info.array(x.length) as { [i: number]: number | bigint; length: number };
  const n = x.length;
  switch (dtype) {
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
      for (let i = 0; i < n; i++) out[i] = bigOp(x[i] as bigint, y[i] as bigint);
      break;
    case DataType.DT_FLOAT:
      for (let i = 0; i < n; i++) out[i] = op(x[i] as number, y[i] as number);
      break;
    case DataType.DT_HALF:
    case DataType.DT_BFLOAT16: {
      const [dec, enc] =
        dtype === DataType.DT_HALF ? [halfToFloat, floatToHalf] : [bfloat16ToFloat, floatToBfloat16];
      for (let i = 0; i < n; i++) out[i] = enc(Math.fround(op(dec(x[i] as number), dec(y[i] as number))));
      break;
    }
    case DataType.DT_BOOL:
    case DataType.DT_COMPLEX64:
    case DataType.DT_COMPLEX128:
      throw invalidArgument(`arithmetic is not supported on ${tfTypeName(dtype)} here`);
    default:
      // Doubles compute exactly in JS numbers; narrower ints and floats round or wrap on store.
      for (let i = 0; i < n; i++) out[i] = op(x[i] as number, y[i] as number);
  }
  return new Tensor(dtype, a.shape, out as Tensor["data"]);
}

const add = (a: Tensor, b: Tensor) =>
  combine(
    a,
    b,
    (x, y) => x + y,
    (x, y) => x + y,
  );
const sub = (a: Tensor, b: Tensor) =>
  combine(
    a,
    b,
    (x, y) => x - y,
    (x, y) => x - y,
  );

// ---------------------------------------------------------------------------------------------
// TF1 ref variables.

function refValue(v: HostVariable): Tensor {
  if (v.value === undefined) throw failedPrecondition(`Attempting to use uninitialized value ${v.name}`);
  return v.value;
}

/** Assign(ref, value): the variable takes `value`; the output is the new value. */
const assign: HostKernel = (node, inputs) => {
  const v = variableInput(node, inputs, 0);
  const value = input(node, inputs, 1);
  if (
    attrBool(node, "validate_shape", true) &&
    v.value !== undefined &&
    !sameShape(v.value.shape, value.shape)
  ) {
    throw invalidArgument(
      `Assign requires shapes of both tensors to match. lhs shape= ${tfShape(v.value.shape)} rhs shape= ${tfShape(value.shape)}`,
    );
  }
  v.value = value;
  return [value];
};

const denseUpdate =
  (op: (a: Tensor, b: Tensor) => Tensor): HostKernel =>
  (node, inputs) => {
    const v = variableInput(node, inputs, 0);
    const update = input(node, inputs, 1);
    const current = refValue(v);
    if (!sameShape(current.shape, update.shape))
      throw invalidArgument("Parameters and update must be the same size");
    v.value = op(current, update);
    return [v.value];
  };

// ---------------------------------------------------------------------------------------------
// TF2 resource variables.

const readVariable: HostKernel = (node, inputs) => {
  const v = variableInput(node, inputs, 0);
  const value = resourceValue(v);
  const dtype = attrType(node, "dtype", v.dtype);
  if (baseDType(value.dtype) !== dtype) {
    throw invalidArgument(
      `Trying to read variable with wrong dtype. Expected ${tfTypeName(dtype)} got ${tfTypeName(baseDType(value.dtype))}`,
    );
  }
  return [value];
};

const assignVariable: HostKernel = (node, inputs) => {
  const v = variableInput(node, inputs, 0);
  const value = input(node, inputs, 1);
  const dtype = attrType(node, "dtype", v.dtype);
  if (baseDType(value.dtype) !== dtype || dtype !== v.dtype) {
    throw invalidArgument(
      `Trying to assign variable with wrong dtype. Expected ${tfTypeName(v.dtype)} got ${tfTypeName(value.dtype)}`,
    );
  }
  if (
    attrBool(node, "validate_shape", false) &&
    v.value !== undefined &&
    !sameShape(v.value.shape, value.shape)
  ) {
    throw invalidArgument(
      `Trying to assign to variable with tensor with wrong shape. Expected ${tfShape(v.value.shape)} got ${tfShape(value.shape)}`,
    );
  }
  v.value = value;
  return [];
};

const assignUpdateVariable =
  (op: (a: Tensor, b: Tensor) => Tensor): HostKernel =>
  (node, inputs) => {
    const v = variableInput(node, inputs, 0);
    const update = input(node, inputs, 1);
    const current = resourceValue(v);
    if (!sameShape(current.shape, update.shape)) {
      throw invalidArgument(
        `Cannot update variable with shape ${tfShape(current.shape)} using a Tensor with shape ${tfShape(update.shape)}, shapes must be equal.`,
      );
    }
    v.value = op(current, update);
    return [];
  };

const varIsInitialized: HostKernel = (node, inputs) => [
  boolTensor([], [variableInput(node, inputs, 0).value !== undefined]),
];

// ---------------------------------------------------------------------------------------------
// Gradient descent: var -= alpha * delta.

function gradientDescent(node: GraphNode, inputs: readonly HostValue[], current: Tensor): Tensor {
  const alpha = input(node, inputs, 1);
  const delta = input(node, inputs, 2);
  if (alpha.rank !== 0) throw invalidArgument(`alpha is not a scalar: ${tfShape(alpha.shape)}`);
  if (!sameShape(current.shape, delta.shape)) {
    throw invalidArgument(
      `var and delta do not have the same shape${tfShape(current.shape)} ${tfShape(delta.shape)}`,
    );
  }
  const dtype = baseDType(current.dtype);
  const lr = (alpha.data as ArrayLike<number>)[0]!;
  const round = dtype === DataType.DT_FLOAT ? Math.fround : (x: number) => x;
  if (dtype !== DataType.DT_FLOAT && dtype !== DataType.DT_DOUBLE) {
    throw invalidArgument(`gradient descent on ${tfTypeName(dtype)} variables is not supported on the host`);
  }
  return combine(
    current,
    delta,
    (x, g) => x - round(g * lr),
    (x) => x,
  );
}

const resourceApplyGradientDescent: HostKernel = (node, inputs) => {
  const v = variableInput(node, inputs, 0);
  v.value = gradientDescent(node, inputs, resourceValue(v));
  return [];
};

const applyGradientDescent: HostKernel = (node, inputs) => {
  const v = variableInput(node, inputs, 0);
  v.value = gradientDescent(node, inputs, refValue(v));
  return [v.value];
};

export const VARIABLE_KERNELS: Readonly<Record<string, HostKernel>> = {
  Variable: variableOp,
  VariableV2: variableOp,
  VarHandleOp: variableOp,
  Assign: assign,
  AssignAdd: denseUpdate(add),
  AssignSub: denseUpdate(sub),
  IsVariableInitialized: varIsInitialized,
  ReadVariableOp: readVariable,
  AssignVariableOp: assignVariable,
  AssignAddVariableOp: assignUpdateVariable(add),
  AssignSubVariableOp: assignUpdateVariable(sub),
  VarIsInitializedOp: varIsInitialized,
  ResourceApplyGradientDescent: resourceApplyGradientDescent,
  ApplyGradientDescent: applyGradientDescent,
};
