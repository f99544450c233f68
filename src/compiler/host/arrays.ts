// Data movement on the host for any dtype (strings included): Pack/Unpack, ConcatV2, GatherV2, Tile,
// Fill, Slice/StridedSlice and SparseToDense, with TF's shapes and error messages.
import { invalidArgument } from "../../errors.js";
import { baseDType } from "../../tensor/dtype.js";
import { numElements, type Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import {
  attrInt,
  gatherElements,
  gatherFrom,
  input,
  intValues,
  scalarInt,
  strides,
  tfShape,
} from "./util.js";

// ---------------------------------------------------------------------------------------------
// Pack / Unpack / ConcatV2.

const pack: HostKernel = (node, inputs) => {
  const values = inputs.map((_, i) => input(node, inputs, i));
  const first = values[0]!;
  const r = first.rank + 1;
  let axis = attrInt(node, "axis", 0);
  if (axis < -r || axis >= r) throw invalidArgument(`axis = ${axis} not in [${-r}, ${r})`);
  if (axis < 0) axis += r;
  values.forEach((v, i) => {
    if (v.shape.length !== first.shape.length || v.shape.some((d, j) => d !== first.shape[j])) {
      throw invalidArgument(
        `Shapes of all inputs must match: values[0].shape = ${tfShape(first.shape)} != values[${i}].shape = ${tfShape(v.shape)}`,
      );
    }
  });
  const inner = numElements(first.shape.slice(axis));
  const n = values.length;
  const shape = [...first.shape.slice(0, axis), n, ...first.shape.slice(axis)];
  return [
    concatAlong(
      values,
      shape,
      values.map(() => inner),
    ),
  ];
};

/** Concatenation, within each row, of a block of `sizes[i]` elements from each input i. */
function concatAlong(values: Tensor[], shape: number[], sizes: number[]): Tensor {
  const rowSize = sizes.reduce((x, y) => x + y, 0);
  const which = new Int32Array(rowSize);
  const offset = new Int32Array(rowSize);
  let start = 0;
  sizes.forEach((size, i) => {
    for (let j = 0; j < size; j++) {
      which[start + j] = i;
      offset[start + j] = j;
    }
    start += size;
  });
  return gatherFrom(values, shape, (k) => {
    const row = Math.floor(k / rowSize);
    const col = k - row * rowSize;
    const i = which[col]!;
    return [i, row * sizes[i]! + offset[col]!];
  });
}

const concatV2: HostKernel = (node, inputs) => {
  const values = inputs.slice(0, -1).map((_, i) => input(node, inputs, i));
  const first = values[0]!;
  const r = first.rank;
  let axis = scalarInt(input(node, inputs, inputs.length - 1), "axis");
  if (axis < -r || axis >= r) {
    throw invalidArgument(
      `ConcatOp : Expected concatenating dimensions in the range [${-r}, ${r}), but got ${axis}`,
    );
  }
  if (axis < 0) axis += r;
  values.forEach((v, i) => {
    if (v.rank !== r) {
      throw invalidArgument(
        `ConcatOp : Ranks of all input tensors should match: shape[0] = ${tfShape(first.shape)} vs. shape[${i}] = ${tfShape(v.shape)}`,
      );
    }
    v.shape.forEach((d, j) => {
      if (j !== axis && d !== first.shape[j]) {
        throw invalidArgument(
          `ConcatOp : Dimension ${j} in both shapes must be equal: shape[0] = ${tfShape(first.shape)} vs. shape[${i}] = ${tfShape(v.shape)}`,
        );
      }
    });
    if (baseDType(v.dtype) !== baseDType(first.dtype))
      throw invalidArgument("ConcatOp : all inputs must have one dtype");
  });
  const sizes = values.map((v) => numElements(v.shape.slice(axis)));
  const total = values.reduce((n, v) => n + v.shape[axis]!, 0);
  const shape = [...first.shape];
  shape[axis] = total;
  return [concatAlong(values, shape, sizes)];
};

const unpack: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  let axis = attrInt(node, "axis", 0);
  if (axis < -t.rank || axis >= t.rank)
    throw invalidArgument(`axis = ${axis} not in [${-t.rank}, ${t.rank})`);
  if (axis < 0) axis += t.rank;
  const num = t.shape[axis]!;
  const expected = attrInt(node, "num", num);
  if (expected !== num)
    throw invalidArgument(`Input shape axis ${axis} must equal ${expected}, got shape ${tfShape(t.shape)}`);
  const shape = [...t.shape.slice(0, axis), ...t.shape.slice(axis + 1)];
  const inner = numElements(t.shape.slice(axis + 1));
  return Array.from({ length: num }, (_, i) =>
    gatherElements(t, shape, (k) => {
      const o = Math.floor(k / inner);
      return (o * num + i) * inner + (k - o * inner);
    }),
  );
};

// ---------------------------------------------------------------------------------------------
// GatherV2 / Tile / Fill.

const gatherV2: HostKernel = (node, inputs) => {
  const params = input(node, inputs, 0);
  const indicesT = input(node, inputs, 1);
  const indices = intValues(indicesT, "indices");
  let axis = inputs.length > 2 ? scalarInt(input(node, inputs, 2), "axis") : 0;
  let batchDims = attrInt(node, "batch_dims", 0);
  if (axis < -params.rank || axis >= params.rank) {
    throw invalidArgument(`Expected axis in the range [${-params.rank}, ${params.rank}), but got ${axis}`);
  }
  if (axis < 0) axis += params.rank;
  if (batchDims < 0) batchDims += indicesT.rank;
  if (batchDims > axis)
    throw invalidArgument(`batch_dims (${batchDims}) must be less than or equal to axis (${axis}).`);
  for (let d = 0; d < batchDims; d++) {
    if (params.shape[d] !== indicesT.shape[d]) {
      throw invalidArgument(
        `params.shape[${d}]: ${params.shape[d]} should be equal to indices.shape[${d}]: ${indicesT.shape[d]}`,
      );
    }
  }
  const axisSize = params.shape[axis]!;
  const outer = numElements(params.shape.slice(batchDims, axis));
  const idxSize = numElements(indicesT.shape.slice(batchDims));
  const inner = numElements(params.shape.slice(axis + 1));
  indices.forEach((v, i) => {
    if (v < 0 || v >= axisSize) {
      throw invalidArgument(`indices[${i}] = ${v} is not in [0, ${axisSize})`);
    }
  });
  const shape = [
    ...params.shape.slice(0, axis),
    ...indicesT.shape.slice(batchDims),
    ...params.shape.slice(axis + 1),
  ];
  return [
    gatherElements(params, shape, (k) => {
      const inn = k % inner;
      let rest = Math.floor(k / inner);
      const idx = rest % idxSize;
      rest = Math.floor(rest / idxSize);
      const out = rest % outer;
      const b = Math.floor(rest / outer);
      const value = indices[b * idxSize + idx]!;
      return ((b * outer + out) * axisSize + value) * inner + inn;
    }),
  ];
};

const tile: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const multiplesT = input(node, inputs, 1);
  if (multiplesT.rank !== 1 || multiplesT.size !== t.rank) {
    throw invalidArgument(
      `Expected multiples argument to be a vector of length ${t.rank} but got length ${multiplesT.shape[0] ?? 0}`,
    );
  }
  const multiples = intValues(multiplesT, "multiples");
  multiples.forEach((m, i) => {
    if (m < 0) throw invalidArgument(`Expected multiples[${i}] >= 0, but got ${m}`);
  });
  const shape = t.shape.map((d, i) => d * multiples[i]!);
  const outStrides = strides(shape);
  const inStrides = strides(t.shape);
  return [
    gatherElements(t, shape, (k) => {
      let index = 0;
      let rest = k;
      for (let d = 0; d < shape.length; d++) {
        const c = Math.floor(rest / outStrides[d]!);
        rest -= c * outStrides[d]!;
        index += (c % t.shape[d]!) * inStrides[d]!;
      }
      return index;
    }),
  ];
};

const fill: HostKernel = (node, inputs) => {
  const dimsT = input(node, inputs, 0);
  const value = input(node, inputs, 1);
  if (dimsT.rank !== 1) throw invalidArgument(`dims must be a vector, got shape ${tfShape(dimsT.shape)}`);
  if (value.rank !== 0) throw invalidArgument(`value must be a scalar, got shape ${tfShape(value.shape)}`);
  const dims = intValues(dimsT, "dims");
  dims.forEach((d) => {
    if (d < 0) throw invalidArgument(`dims must be non-negative, got ${tfShape(dims)}`);
  });
  return [gatherElements(value, dims, () => 0)];
};

// ---------------------------------------------------------------------------------------------
// Slice / StridedSlice (TF's strided_slice_op.cc ValidateStridedSliceOp, all five masks).

/** Copies the box starting at `begin` with `strides` and per-dim `sizes` out of `t`. */
function sliceBox(t: Tensor, begin: number[], step: number[], sizes: number[], shape: number[]): Tensor {
  const inStrides = strides(t.shape);
  const boxStrides = strides(sizes);
  return gatherElements(t, shape, (k) => {
    let index = 0;
    let rest = k;
    for (let d = 0; d < sizes.length; d++) {
      const c = Math.floor(rest / boxStrides[d]!);
      rest -= c * boxStrides[d]!;
      index += (begin[d]! + c * step[d]!) * inStrides[d]!;
    }
    return index;
  });
}

const slice: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const begin = intValues(input(node, inputs, 1), "begin");
  const size = intValues(input(node, inputs, 2), "size");
  if (begin.length !== t.rank || size.length !== t.rank) {
    throw invalidArgument(
      `Expected begin and size arguments to be 1-D tensors of size ${t.rank}, but got shapes [${begin.length}] and [${size.length}] instead.`,
    );
  }
  const sizes = size.map((s, d) => (s === -1 ? t.shape[d]! - begin[d]! : s));
  sizes.forEach((s, d) => {
    const b = begin[d]!;
    if (b < 0 || s < 0 || b + s > t.shape[d]!) {
      throw invalidArgument(`Expected size[${d}] in [0, ${t.shape[d]! - b}], but got ${size[d]}`);
    }
  });
  return [
    sliceBox(
      t,
      begin,
      sizes.map(() => 1),
      sizes,
      sizes,
    ),
  ];
};

const NEW_AXIS = -1;
const SHRINK_AXIS = -2;

const stridedSlice: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const sparseBegin = intValues(input(node, inputs, 1), "begin");
  const sparseEnd = intValues(input(node, inputs, 2), "end");
  const sparseStrides = intValues(input(node, inputs, 3), "strides");
  const mask = (name: string) => attrInt(node, name, 0);
  let ellipsisMask = mask("ellipsis_mask");
  const [beginMask, endMask, newAxisMask, shrinkMask] = [
    mask("begin_mask"),
    mask("end_mask"),
    mask("new_axis_mask"),
    mask("shrink_axis_mask"),
  ];
  if (sparseBegin.length !== sparseEnd.length || sparseBegin.length !== sparseStrides.length) {
    throw invalidArgument("Expected begin, end, and strides to be 1D equal size tensors");
  }
  if ((ellipsisMask & (ellipsisMask - 1)) !== 0)
    throw invalidArgument("Multiple ellipses in slice spec not allowed");
  let sparseDims = sparseBegin.length;
  let ellipsisSeen = false;
  let newAxesAfterEllipsis = 0;
  for (let i = 0; i < sparseDims; i++) {
    if (ellipsisSeen && (newAxisMask >> i) & 1) newAxesAfterEllipsis++;
    if ((ellipsisMask >> i) & 1) ellipsisSeen = true;
  }
  if (!ellipsisSeen) {
    ellipsisMask |= 1 << sparseDims;
    sparseDims++;
  }
  // The dense spec: one entry per input dim.
  const rank = t.rank;
  const begin = new Array<number>(rank).fill(0);
  const end = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const denseBegin = new Array<boolean>(rank).fill(false);
  const denseEnd = new Array<boolean>(rank).fill(false);
  const denseShrink = new Array<boolean>(rank).fill(false);
  const gather: number[] = [];
  let full = 0;
  for (let i = 0; i < sparseDims; i++) {
    if ((ellipsisMask >> i) & 1) {
      const next = Math.min(rank - (sparseDims - i) + 1 + newAxesAfterEllipsis, rank);
      for (; full < next; full++) {
        denseBegin[full] = true;
        denseEnd[full] = true;
        gather.push(full);
      }
    } else if ((newAxisMask >> i) & 1) {
      gather.push(NEW_AXIS);
    } else {
      if (full === rank)
        throw invalidArgument(`Index out of range using input dim ${full}; input has only ${rank} dims`);
      begin[full] = sparseBegin[i]!;
      end[full] = sparseEnd[i]!;
      step[full] = sparseStrides[i]!;
      denseBegin[full] = ((beginMask >> i) & 1) === 1;
      denseEnd[full] = ((endMask >> i) & 1) === 1;
      if ((shrinkMask >> i) & 1) {
        gather.push(SHRINK_AXIS);
        denseShrink[full] = true;
      } else gather.push(full);
      full++;
    }
  }
  const sizes: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dim = t.shape[i]!;
    const s = step[i]!;
    if (s === 0) throw invalidArgument(`strides[${i}] must be non-zero`);
    if (denseShrink[i]) {
      const b = begin[i]! < 0 ? dim + begin[i]! : begin[i]!;
      if (b < 0 || b >= dim)
        throw invalidArgument(`slice index ${begin[i]} of dimension ${i} out of bounds.`);
      if (s < 0) throw invalidArgument("only stride 1 allowed on non-range indexing.");
      begin[i] = b;
      end[i] = b + 1;
      sizes.push(1);
      continue;
    }
    const range = s > 0 ? [0, dim] : [-1, dim - 1];
    const canonical = (x: number, c: 0 | 1) => {
      if (c === 0 ? denseBegin[i] : denseEnd[i]) return s > 0 ? range[c]! : range[(c + 1) & 1]!;
      const fwd = x < 0 ? dim + x : x;
      return Math.min(Math.max(fwd, range[0]!), range[1]!);
    };
    begin[i] = canonical(begin[i]!, 0);
    end[i] = canonical(end[i]!, 1);
    const length = end[i]! - begin[i]!;
    sizes.push(length === 0 || length < 0 !== s < 0 ? 0 : Math.ceil(Math.abs(length) / Math.abs(s)));
  }
  const shape: number[] = [];
  for (const g of gather) {
    if (g === NEW_AXIS) shape.push(1);
    else if (g !== SHRINK_AXIS) shape.push(sizes[g]!);
  }
  return [sliceBox(t, begin, step, sizes, shape)];
};

// ---------------------------------------------------------------------------------------------
// SparseToDense.

const sparseToDense: HostKernel = (node, inputs) => {
  const indicesT = input(node, inputs, 0);
  const shape = intValues(input(node, inputs, 1), "output_shape");
  const values = input(node, inputs, 2);
  const defaultValue = input(node, inputs, 3);
  const validate =
    node.attrs.validate_indices === undefined ? true : node.attrs.validate_indices.value.value === true;
  if (indicesT.rank > 2)
    throw invalidArgument(
      `sparse_indices should be a scalar, vector, or matrix, got shape ${tfShape(indicesT.shape)}`,
    );
  const n = indicesT.rank > 0 ? indicesT.shape[0]! : 1;
  const r = indicesT.rank > 1 ? indicesT.shape[1]! : 1;
  if (values.rank > 0 && values.size !== n) {
    throw invalidArgument(
      `sparse_values has incorrect shape ${tfShape(values.shape)}, should be [] or [${n}]`,
    );
  }
  if (defaultValue.size !== 1)
    throw invalidArgument(`default_value should be a scalar, got shape ${tfShape(defaultValue.shape)}`);
  if (r !== shape.length) {
    throw invalidArgument(`output_shape has incorrect number of elements: ${shape.length} should be: ${r}`);
  }
  const idx = intValues(indicesT, "sparse_indices");
  const st = strides(shape);
  const source = new Int32Array(numElements(shape)).fill(-1);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const coords = idx.slice(i * r, i * r + r);
    const show = `[${coords.join(",")}]`;
    if (coords.some((c, d) => c < 0 || c >= shape[d]!)) {
      throw invalidArgument(
        `indices[${i}] = ${show} is out of bounds: need 0 <= index < [${shape.join(",")}]`,
      );
    }
    const flat = coords.reduce((acc, c, d) => acc + c * st[d]!, 0);
    if (validate) {
      if (flat === previous) throw invalidArgument(`indices[${i}] = ${show} is repeated`);
      if (flat < previous) {
        throw invalidArgument(
          `indices[${i}] = ${show} is out of order. Many sparse ops require sorted indices.\n` +
            "    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n",
        );
      }
    }
    previous = flat;
    source[flat] = i;
  }
  return [
    gatherFrom([values, defaultValue], shape, (k) => {
      const i = source[k]!;
      return i < 0 ? [1, 0] : [0, values.rank === 0 ? 0 : i];
    }),
  ];
};

export const ARRAY_KERNELS: Readonly<Record<string, HostKernel>> = {
  Pack: pack,
  Unpack: unpack,
  ConcatV2: concatV2,
  GatherV2: gatherV2,
  Tile: tile,
  Slice: slice,
  StridedSlice: stridedSlice,
  Fill: fill,
  SparseToDense: sparseToDense,
};
