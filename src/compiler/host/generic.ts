// Generic ops the partitioner may have to run on the host (a DT_STRING tensor, a ref variable, a value
// ONNX cannot take): identities, constants, placeholders, shape ops and Equal/NotEqual; the data
// movement ops (Pack, ConcatV2, GatherV2, StridedSlice...) are in arrays.ts. Any dtype, strings included.
import { invalidArgument } from "../../errors.js";
import { baseDType, DataType } from "../../tensor/dtype.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import { ARRAY_KERNELS } from "./arrays.js";
import type { HostKernel, HostValue } from "./kernel.js";
import {
  attrInts,
  attrShape,
  attrTensor,
  attrType,
  boolTensor,
  broadcastIndex,
  broadcastShape,
  bytesEqual,
  input,
  intTensor,
  intValues,
  readValue,
  reshaped,
  tfShape,
  tfTypeName,
} from "./util.js";

/**
 * Input `i` passed through: a lookup table, a TensorList or a resource-typed variable handle stays as
 * it is; a ref variable (TF1 VariableV2 output) is read, as TF's Identity of a ref yields the value.
 */
function passThrough(
  node: Parameters<HostKernel>[0],
  inputs: Parameters<HostKernel>[1],
  i: number,
): HostValue {
  const v = inputs[i];
  if (v === undefined || v instanceof Tensor) return input(node, inputs, i);
  if (v.kind === "table" || v.kind === "tensor_list") return v;
  const t = node.attrs.T?.value;
  const resourceTyped =
    node.outputDTypes[i] === DataType.DT_RESOURCE || (t?.case === "type" && t.value === DataType.DT_RESOURCE);
  return resourceTyped ? v : readValue(v);
}

const identity: HostKernel = (node, inputs) => [passThrough(node, inputs, 0)];

const identityN: HostKernel = (node, inputs) => inputs.map((_, i) => passThrough(node, inputs, i));

const constant: HostKernel = (node) => [node.value ?? attrTensor(node, "value")];

const placeholder: HostKernel = (node, inputs) => {
  if (inputs.length > 0) return [input(node, inputs, 0)];
  const shape = attrShape(node, "shape", null);
  throw invalidArgument(
    `You must feed a value for placeholder tensor '${node.name}' with dtype ${tfTypeName(attrType(node, "dtype"))}` +
      (shape === null ? "" : ` and shape ${tfShape(shape)}`),
  );
};

// ---------------------------------------------------------------------------------------------
// Shapes.

const reshape: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const shapeT = input(node, inputs, 1);
  if (shapeT.rank > 1) throw invalidArgument(`sizes input must be 1-D, not ${tfShape(shapeT.shape)}`);
  const dims = intValues(shapeT, "shape");
  let unknown = -1;
  let product = 1;
  dims.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) throw invalidArgument(`Only one input size may be -1, not both ${unknown} and ${i}`);
      unknown = i;
    } else if (d < 0) {
      throw invalidArgument(`Size ${i} must be non-negative, not ${d}`);
    } else product *= d;
  });
  const out = [...dims];
  if (unknown >= 0) {
    if (product === 0) {
      throw invalidArgument(
        "Reshape cannot infer the missing input size for an empty tensor unless all specified input sizes are non-zero",
      );
    }
    out[unknown] = t.size / product;
    if (!Number.isInteger(out[unknown])) {
      throw invalidArgument(
        `Input to reshape is a tensor with ${t.size} values, but the requested shape requires a multiple of ${product}`,
      );
    }
  }
  if (numElements(out) !== t.size) {
    throw invalidArgument(
      `Input to reshape is a tensor with ${t.size} values, but the requested shape has ${numElements(out)}`,
    );
  }
  return [reshaped(t, out)];
};

const expandDims: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const dimT = input(node, inputs, 1);
  if (dimT.size !== 1) {
    throw invalidArgument(`'dim' must be a tensor with a single value, but got ${dimT.size} values`);
  }
  let dim = intValues(dimT, "dim")[0]!;
  if (dim < -1 - t.rank || dim > t.rank) {
    throw invalidArgument(`Tried to expand dim index ${dim} for tensor with ${t.rank} dimensions.`);
  }
  if (dim < 0) dim += t.rank + 1;
  const shape = [...t.shape];
  shape.splice(dim, 0, 1);
  return [reshaped(t, shape)];
};

const squeeze: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const dims = attrInts(node, "squeeze_dims").map((d) => {
    if (d < -t.rank || d >= t.rank) {
      throw invalidArgument(`Tried to squeeze dim index ${d} for tensor with ${t.rank} dimensions.`);
    }
    return d < 0 ? d + t.rank : d;
  });
  const shape: number[] = [];
  t.shape.forEach((size, i) => {
    if (dims.length === 0) {
      if (size !== 1) shape.push(size);
    } else if (dims.includes(i)) {
      if (size !== 1)
        throw invalidArgument(`Can not squeeze dim[${i}], expected a dimension of 1, got ${size}`);
    } else shape.push(size);
  });
  return [reshaped(t, shape)];
};

const outType = (node: Parameters<HostKernel>[0]) => attrType(node, "out_type", DataType.DT_INT32);

const shapeOp: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  return [intTensor(outType(node), [t.rank], [...t.shape])];
};

const shapeN: HostKernel = (node, inputs) =>
  inputs.map((_, i) => {
    const t = input(node, inputs, i);
    return intTensor(outType(node), [t.rank], [...t.shape]);
  });

const size: HostKernel = (node, inputs) => [intTensor(outType(node), [], [input(node, inputs, 0).size])];

const rank: HostKernel = (node, inputs) => [intTensor(DataType.DT_INT32, [], [input(node, inputs, 0).rank])];

// ---------------------------------------------------------------------------------------------
// Equal / NotEqual (any dtype, broadcasting).

const compare =
  (equal: boolean): HostKernel =>
  (node, inputs) => {
    const a = input(node, inputs, 0);
    const b = input(node, inputs, 1);
    const shape = broadcastShape(a.shape, b.shape);
    if (!shape) {
      const strict = node.attrs.incompatible_shape_error?.value;
      if (strict?.case === "b" && !strict.value) return [boolTensor([], [!equal])];
      throw invalidArgument(`Incompatible shapes: ${tfShape(a.shape)} vs. ${tfShape(b.shape)}`);
    }
    if (baseDType(a.dtype) !== baseDType(b.dtype)) {
      throw invalidArgument(
        `${node.op} operands must have one dtype, got ${tfTypeName(a.dtype)} and ${tfTypeName(b.dtype)}`,
      );
    }
    const ia = broadcastIndex(shape, a.shape);
    const ib = broadcastIndex(shape, b.shape);
    const n = numElements(shape);
    const out = new Array<boolean>(n);
    if (Array.isArray(a.data)) {
      const x = a.strings;
      const y = b.strings;
      for (let k = 0; k < n; k++) out[k] = bytesEqual(x[ia(k)]!, y[ib(k)]!) === equal;
    } else {
      const x = a.data as ArrayLike<number | bigint>;
      const y = b.data as ArrayLike<number | bigint>;
      const lanes = x.length / Math.max(1, a.size);
      for (let k = 0; k < n; k++) {
        let same = true;
        for (let l = 0; l < lanes; l++) same &&= x[ia(k) * lanes + l] === y[ib(k) * lanes + l];
        out[k] = same === equal;
      }
    }
    return [boolTensor(shape, out)];
  };

const noOp: HostKernel = () => [];

export const GENERIC_KERNELS: Readonly<Record<string, HostKernel>> = {
  ...ARRAY_KERNELS,
  Identity: identity,
  Snapshot: identity,
  StopGradient: identity,
  PreventGradient: identity,
  IdentityN: identityN,
  Const: constant,
  NoOp: noOp,
  Placeholder: placeholder,
  PlaceholderWithDefault: identity,
  Reshape: reshape,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  Shape: shapeOp,
  ShapeN: shapeN,
  Size: size,
  Rank: rank,
  Equal: compare(true),
  NotEqual: compare(false),
};
