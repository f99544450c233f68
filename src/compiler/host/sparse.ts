// Sparse-tensor ops of feature columns and embedding_lookup_sparse, as TF's CPU kernels compute them:
// SparseReshape (reshape_util.cc), SparseFillEmptyRows (fill_empty_rows_functor.h) and the sorted
// sparse segment reductions SparseSegmentSum/Mean/SqrtN[WithNumSegments] (segment_reduction_ops_impl.h),
// with their output shapes, dtypes, float32 rounding order and INVALID_ARGUMENT messages.
import { invalidArgument } from "../../errors.js";
import { baseDType, DataType } from "../../tensor/dtype.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import type { HostKernel } from "./kernel.js";
import { boolTensor, gatherFrom, input, int64Tensor, intValues, tfShape, tfTypeName } from "./util.js";

// ---------------------------------------------------------------------------------------------
// SparseReshape.

/** TensorShape::BuildTensorShape of a shape vector's values. */
function buildShape(dims: readonly number[]): number[] {
  for (const d of dims) {
    if (d < 0) throw invalidArgument(`Expected shape dimensions to be non-negative, got ${d}`);
  }
  return [...dims];
}

const sparseReshape: HostKernel = (node, inputs) => {
  const indicesT = input(node, inputs, 0);
  const shapeT = input(node, inputs, 1);
  const targetT = input(node, inputs, 2);
  if (indicesT.rank !== 2) {
    throw invalidArgument(`Input indices should be a matrix but received shape ${tfShape(indicesT.shape)}`);
  }
  if (shapeT.rank !== 1) {
    throw invalidArgument(`Input shape should be a vector but received shape ${tfShape(shapeT.shape)}`);
  }
  if (targetT.rank !== 1) {
    throw invalidArgument(`Target shape should be a vector but received shape ${tfShape(targetT.shape)}`);
  }
  const inputShape = buildShape(intValues(shapeT, "input_shape"));
  const denseSize = numElements(inputShape);
  const nnz = indicesT.shape[0]!;
  const target = intValues(targetT, "new_shape");
  const outputShape: number[] = [];
  let product = 1;
  let unknown = -1;
  target.forEach((size, d) => {
    if (size === -1) {
      if (unknown !== -1) {
        throw invalidArgument(`only one output dimension may be -1, not both ${unknown} and ${d}`);
      }
      unknown = d;
      outputShape.push(1);
    } else {
      if (size < 0) throw invalidArgument(`size ${d} must be non-negative, not ${size}`);
      product *= size;
      outputShape.push(size);
    }
  });
  if (unknown !== -1) {
    if (product <= 0) {
      throw invalidArgument(
        "reshape cannot infer the missing input size for an empty tensor unless all specified input sizes are non-zero",
      );
    }
    const missing = Math.trunc(denseSize / product);
    if (product * missing !== denseSize) {
      throw invalidArgument(
        `Input to reshape is a SparseTensor with ${denseSize} dense values, but the requested shape requires a multiple of ${product}. input_shape=${tfShape(inputShape)} output_shape=${tfShape(outputShape)}`,
      );
    }
    outputShape[unknown] = missing;
  }
  if (numElements(outputShape) !== denseSize) {
    throw invalidArgument(
      `Input to reshape is a tensor with ${denseSize} dense values, but the requested shape has ${numElements(outputShape)}. input_shape=${tfShape(inputShape)} output_shape=${tfShape(outputShape)}`,
    );
  }
  if (inputShape.length === outputShape.length && inputShape.every((d, i) => d === outputShape[i])) {
    return [indicesT, shapeT];
  }
  const outRank = outputShape.length;
  const shapeOut = int64Tensor(
    [outRank],
    outputShape.map((d) => BigInt(d)),
  );
  if (nnz > 0 && !(denseSize > 0 && product > 0)) {
    throw invalidArgument(
      `Input tensor has ${nnz} non zero elements but input shape (${tfShape(inputShape)}) or output shape (${tfShape(outputShape)}) is empty`,
    );
  }
  const inRank = inputShape.length;
  const stridesOf = (shape: readonly number[]) => {
    const s = new Array<bigint>(shape.length);
    let acc = 1n;
    for (let d = shape.length - 1; d >= 0; d--) {
      s[d] = acc;
      acc *= BigInt(shape[d]!);
    }
    return s;
  };
  const inStrides = stridesOf(inputShape);
  const outStrides = stridesOf(outputShape);
  const idx = indicesT.values;
  const out = new BigInt64Array(nnz * outRank);
  for (let i = 0; i < nnz; i++) {
    let id = 0n;
    for (let j = 0; j < inRank; j++) id += BigInt(idx[i * inRank + j]!) * inStrides[j]!;
    for (let j = 0; j < outRank; j++) {
      out[i * outRank + j] = id / outStrides[j]!;
      id %= outStrides[j]!;
    }
  }
  return [new Tensor(DataType.DT_INT64, [nnz, outRank], out), shapeOut];
};

// ---------------------------------------------------------------------------------------------
// SparseFillEmptyRows.

const sparseFillEmptyRows: HostKernel = (node, inputs) => {
  const indicesT = input(node, inputs, 0);
  const values = input(node, inputs, 1);
  const denseShapeT = input(node, inputs, 2);
  const defaultValue = input(node, inputs, 3);
  if (denseShapeT.rank !== 1) {
    throw invalidArgument(`dense_shape must be a vector, saw: ${tfShape(denseShapeT.shape)}`);
  }
  if (indicesT.rank !== 2) throw invalidArgument(`indices must be a matrix, saw: ${tfShape(indicesT.shape)}`);
  if (values.rank !== 1) throw invalidArgument(`values must be a vector, saw: ${tfShape(values.shape)}`);
  if (indicesT.shape[0] !== values.shape[0]) {
    throw invalidArgument(
      `The length of \`values\` (${values.shape[0]}) must match the first dimension of \`indices\` (${indicesT.shape[0]}).`,
    );
  }
  if (indicesT.shape[1] !== denseShapeT.shape[0]) {
    throw invalidArgument(
      `The length of \`dense_shape\` (${denseShapeT.shape[0]}) must match the second dimension of \`indices\` (${indicesT.shape[1]}).`,
    );
  }
  if (defaultValue.rank !== 0) {
    throw invalidArgument(`default_value must be a scalar, saw: ${tfShape(defaultValue.shape)}`);
  }
  if (denseShapeT.size === 0) throw invalidArgument("Dense shape cannot be empty.");
  if (baseDType(values.dtype) !== baseDType(defaultValue.dtype)) {
    throw invalidArgument(
      `default_value must have the dtype of values (${tfTypeName(values.dtype)}), got ${tfTypeName(defaultValue.dtype)}`,
    );
  }

  const n = indicesT.shape[0]!;
  const rank = indicesT.shape[1]!;
  const denseRows = intValues(denseShapeT, "dense_shape")[0]!;
  const idx = intValues(indicesT, "indices");
  const rowOf = (i: number) => idx[i * rank]!;
  if (denseRows === 0) {
    if (n !== 0) {
      throw invalidArgument(`Received SparseTensor with dense_shape[0] = 0 but indices.shape[0] = ${n}`);
    }
    return [
      int64Tensor([0, rank], []),
      gatherFrom([values], [0], () => [0, 0]),
      boolTensor([0], []),
      int64Tensor([0], []),
    ];
  }
  let rowsAreOrdered = true;
  let lastRow = 0;
  const csrOffset = new Array<number>(denseRows).fill(0);
  for (let i = 0; i < n; i++) {
    const row = rowOf(i);
    if (row < 0 || row >= denseRows) {
      throw invalidArgument(`indices(${i}, 0) is invalid: ${row} >= ${denseRows}`);
    }
    csrOffset[row]!++;
    rowsAreOrdered &&= row >= lastRow;
    lastRow = row;
  }
  const emptyRow = new Array<boolean>(denseRows);
  let allRowsFull = true;
  for (let row = 0; row < denseRows; row++) {
    const empty = csrOffset[row] === 0;
    emptyRow[row] = empty;
    allRowsFull &&= !empty;
    csrOffset[row] = Math.max(csrOffset[row]!, 1) + (row > 0 ? csrOffset[row - 1]! : 0);
  }
  const emptyRowIndicator = boolTensor([denseRows], emptyRow);
  if (allRowsFull && rowsAreOrdered) {
    return [
      indicesT,
      values,
      emptyRowIndicator,
      int64Tensor(
        [n],
        Array.from({ length: n }, (_, i) => BigInt(i)),
      ),
    ];
  }
  const nFull = csrOffset[denseRows - 1]!;
  const outIndices = new BigInt64Array(nFull * rank);
  // Output slot k takes values[source[k]], or the default value where source[k] is -1.
  const source = new Int32Array(nFull).fill(-1);
  const reverse = new BigInt64Array(n);
  const filled = new Array<number>(denseRows).fill(0);
  for (let i = 0; i < n; i++) {
    const row = rowOf(i);
    const k = (row === 0 ? 0 : csrOffset[row - 1]!) + filled[row]!;
    filled[row]!++;
    for (let d = 0; d < rank; d++) outIndices[k * rank + d] = BigInt(idx[i * rank + d]!);
    source[k] = i;
    reverse[i] = BigInt(k);
  }
  for (let row = 0; row < denseRows; row++) {
    if (filled[row] !== 0) continue;
    const k = row === 0 ? 0 : csrOffset[row - 1]!;
    outIndices[k * rank] = BigInt(row);
  }
  return [
    new Tensor(DataType.DT_INT64, [nFull, rank], outIndices),
    gatherFrom([values, defaultValue], [nFull], (k) => (source[k]! < 0 ? [1, 0] : [0, source[k]!])),
    emptyRowIndicator,
    new Tensor(DataType.DT_INT64, [n], reverse),
  ];
};

// ---------------------------------------------------------------------------------------------
// Sparse segment reductions.

type Reduction = "sum" | "mean" | "sqrtn";

/** Element arithmetic of one dtype: float32 rounds after every step as the C++ float kernel does. */
interface Arith<V> {
  read(data: ArrayLike<number | bigint>, i: number): V;
  add(a: V, b: V): V;
  mulScalar(a: V, s: number): V;
  divScalar(a: V, s: number): V;
  round(s: number): number;
  write(data: { [i: number]: number | bigint }, i: number, v: V): void;
}

const f32: Arith<number> = {
  read: (d, i) => d[i] as number,
  add: (a, b) => Math.fround(a + b),
  mulScalar: (a, s) => Math.fround(a * s),
  divScalar: (a, s) => Math.fround(a / s),
  round: Math.fround,
  write: (d, i, v) => {
    d[i] = v;
  },
};
const f64: Arith<number> = {
  ...f32,
  add: (a, b) => a + b,
  mulScalar: (a, s) => a * s,
  divScalar: (a, s) => a / s,
  round: (s) => s,
};
/** Integers of up to 32 bits: wrapped to the dtype when written back. */
const small: Arith<number> = { ...f64, add: (a, b) => (a + b) | 0 };
const i64: Arith<bigint> = {
  read: (d, i) => d[i] as bigint,
  add: (a, b) => BigInt.asIntN(64, a + b),
  mulScalar: (a) => a,
  divScalar: (a, s) => a / BigInt(s),
  round: (s) => s,
  write: (d, i, v) => {
    d[i] = v;
  },
};

function arithFor(dtype: DataType, reduction: Reduction): Arith<number> | Arith<bigint> | undefined {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return f32;
    case DataType.DT_DOUBLE:
      return f64;
  }
  if (reduction !== "sum") return undefined;
  switch (dtype) {
    case DataType.DT_INT32:
    case DataType.DT_INT16:
    case DataType.DT_INT8:
    case DataType.DT_UINT8:
    case DataType.DT_UINT16:
      return small;
    case DataType.DT_INT64:
      return i64;
  }
  return undefined;
}

/**
 * SparseSegmentReductionOpBase::ReduceImpl for one output row: the same grouping of additions (a
 * leading group of num % 8 rows, 8 or 9 of them when that is 0 or 1, then groups of 8 added in turn)
 * and the same scaling (multiplied by 1/num or 1/sqrt(num) below 10 rows, divided at the end from 10 on).
 * This is the current kernel (segment_reduction_ops_impl.h); TF releases before the scaling-factor
 * rewrite divided by num (or float(sqrt(num))) below 10 rows, which can differ in the last float32 bit.
 * Returns the offset of the first out-of-range index, or -1.
 */
function reduceRows<V>(
  arith: Arith<V>,
  reduction: Reduction,
  data: ArrayLike<number | bigint>,
  rows: number,
  cols: number,
  indices: readonly number[],
  start: number,
  num: number,
  out: { [i: number]: number | bigint },
  outRow: number,
): number {
  for (let i = 0; i < num; i++) {
    const index = indices[start + i]!;
    if (index < 0 || index >= rows) return i;
  }
  const at = (i: number, c: number) => arith.read(data, indices[start + i]! * cols + c);
  let scale = 1;
  if (reduction === "mean" && num < 10) scale = arith.round(1 / num);
  if (reduction === "sqrtn" && num < 10) scale = arith.round(1 / arith.round(Math.sqrt(num)));
  const lead = num === 1 ? 1 : (num & 7) === 0 ? 8 : (num & 7) === 1 ? 9 : num & 7;
  for (let c = 0; c < cols; c++) {
    let acc = at(0, c);
    for (let i = 1; i < lead; i++) acc = arith.add(acc, at(i, c));
    if (num > 1) {
      acc = arith.mulScalar(acc, scale);
      for (let r = lead; r < num; r += 8) {
        let group = at(r, c);
        for (let i = 1; i < 8; i++) group = arith.add(group, at(r + i, c));
        acc = arith.add(acc, group);
      }
      if (reduction === "mean" && num >= 10) acc = arith.divScalar(acc, num);
      if (reduction === "sqrtn" && num >= 10) acc = arith.divScalar(acc, arith.round(Math.sqrt(num)));
    }
    arith.write(out, outRow * cols + c, acc);
  }
  return -1;
}

const sparseSegmentReduction =
  (reduction: Reduction, hasNumSegments: boolean): HostKernel =>
  (node, inputs) => {
    const data = input(node, inputs, 0);
    const indicesT = input(node, inputs, 1);
    const segmentIdsT = input(node, inputs, 2);
    let outputRows = -1;
    if (hasNumSegments) {
      const numSegmentsT = input(node, inputs, 3);
      if (numSegmentsT.rank !== 0) {
        throw invalidArgument(`num_segments should be a scalar, not shape ${tfShape(numSegmentsT.shape)}`);
      }
      outputRows = intValues(numSegmentsT, "num_segments")[0]!;
      if (outputRows < 0) throw invalidArgument("segment ids must be >= 0");
    }
    if (indicesT.rank !== 1) throw invalidArgument("indices should be a vector.");
    if (segmentIdsT.rank !== 1) throw invalidArgument("segment_ids should be a vector.");
    if (indicesT.size !== segmentIdsT.size) {
      throw invalidArgument("segment_ids and indices should have same size.");
    }
    if (data.rank < 1) throw invalidArgument("Shape must be at least rank 1");
    const dtype = baseDType(data.dtype);
    const arith = arithFor(dtype, reduction);
    if (!arith) {
      throw invalidArgument(`${node.op} does not support data of type ${tfTypeName(dtype)} on the host`);
    }

    const indices = intValues(indicesT, "indices");
    const segments = intValues(segmentIdsT, "segment_ids");
    const numIndices = indices.length;
    const lastPlusOne = numIndices > 0 ? segments[numIndices - 1]! + 1 : 0;
    if (hasNumSegments) {
      if (outputRows < lastPlusOne) throw invalidArgument("segment ids must be < num_segments");
    } else {
      outputRows = lastPlusOne;
    }
    if (outputRows < 0) throw invalidArgument("segment ids must be >= 0");
    const shape = [outputRows, ...data.shape.slice(1)];
    const output = Tensor.zeros(dtype, shape);
    if (numIndices === 0) return [output];
    if (outputRows <= 0) throw invalidArgument("segment ids must be >= 0");

    const rows = data.shape[0]!;
    const cols = rows === 0 ? numElements(data.shape.slice(1)) : data.size / rows;
    const src = data.values as ArrayLike<number | bigint>;
    const out = output.values as { [i: number]: number | bigint };
    // Rows no segment id names keep the default value 0 the output was created with.
    let start = 0;
    let end = 1;
    let outIndex = segments[0]!;
    for (;;) {
      let nextIndex = 0;
      if (end < numIndices) {
        nextIndex = segments[end]!;
        if (outIndex === nextIndex) {
          end++;
          continue;
        }
        if (!(outIndex < nextIndex)) throw invalidArgument("segment ids are not increasing");
      }
      if (outIndex < 0 || outIndex >= outputRows) {
        throw invalidArgument(
          `Segment id ${outIndex} out of range [0, ${outputRows}), possibly because 'segment_ids' input is not sorted.`,
        );
      }
      const bad = reduceRows(
        arith as Arith<number>,
        reduction,
        src,
        rows,
        cols,
        indices,
        start,
        end - start,
        out,
        outIndex,
      );
      if (bad >= 0) {
        throw invalidArgument(
          `Bad: indices[${start + bad}] == ${indices[start + bad]} out of range [0, ${rows})`,
        );
      }
      start = end;
      end++;
      outIndex = nextIndex;
      if (end > numIndices) break;
    }
    return [output];
  };

export const SPARSE_KERNELS: Readonly<Record<string, HostKernel>> = {
  SparseReshape: sparseReshape,
  SparseFillEmptyRows: sparseFillEmptyRows,
  SparseSegmentSum: sparseSegmentReduction("sum", false),
  SparseSegmentMean: sparseSegmentReduction("mean", false),
  SparseSegmentSqrtN: sparseSegmentReduction("sqrtn", false),
  SparseSegmentSumWithNumSegments: sparseSegmentReduction("sum", true),
  SparseSegmentMeanWithNumSegments: sparseSegmentReduction("mean", true),
  SparseSegmentSqrtNWithNumSegments: sparseSegmentReduction("sqrtn", true),
};
