// Tensor surgery of a batch: merge requests along dimension 0 (padding the batch up to an allowed
// size, and other dimensions when asked), and cut the batched outputs back into per-request rows.
import { Code, ServingError } from "../errors.js";
import { DataType, requireFixedDType } from "../tensor/dtype.js";
import { numElements, Tensor } from "../tensor/tensor.js";

/** A run of rows of one request's tensor: a whole request, or one piece of a split request. */
export interface RowSlice {
  readonly tensor: Tensor;
  readonly start: number;
  readonly rows: number;
}

/**
 * A request's batch size: the common dimension 0 of its inputs. Throws INVALID_ARGUMENT as TF
 * Serving's BatchingSession does for scalars and unequal dimension 0.
 *
 * @example
 * requestRows(new Map([["x", Tensor.zeros(DataType.DT_FLOAT, [3, 2])]])); // 3
 */
export function requestRows(inputs: ReadonlyMap<string, Tensor>): number {
  if (inputs.size === 0)
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      "Batching session Run() must have at least one input tensor",
    );
  let rows: number | undefined;
  for (const tensor of inputs.values()) {
    const first = tensor.shape[0];
    if (first === undefined)
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        "Batching session Run() input tensors must have at least one dimension",
      );
    if (rows === undefined) rows = first;
    else if (rows !== first)
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        "Batching session Run() input tensors must have equal 0th-dimension size",
      );
  }
  return rows ?? 0;
}

/** Whether two shapes agree on every dimension but the first. */
export function sameRowShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** TF Serving's error for differing non-batch dimensions with pad_variable_length_inputs off. */
export function shapeMismatchError(name: string): ServingError {
  return new ServingError(
    Code.FAILED_PRECONDITION,
    `Tensors with name '${name}' from different tasks have different shapes and padding is turned off. Set pad_variable_length_inputs to true, or ensure that all tensors with the same name have equal dimensions starting with the first dim.`,
  );
}

/** The error for inputs of different ranks under pad_variable_length_inputs: no padding can reconcile them. */
export function rankMismatchError(name: string): ServingError {
  return new ServingError(
    Code.FAILED_PRECONDITION,
    `Tensors with name '${name}' from different tasks have different ranks; padding cannot make them batchable.`,
  );
}

/** Values per row (per element of dimension 0), counting complex lanes. */
function rowWidth(tensor: Tensor): number {
  const inner = numElements(tensor.shape.slice(1));
  return tensor.dtype === DataType.DT_STRING ? inner : inner * requireFixedDType(tensor.dtype).lanes;
}

/**
 * Concatenates row slices along dimension 0 into one tensor of `totalRows` rows; rows past the
 * slices are padding, copies of the last slice's first row (as TF Serving pads: always a valid row).
 * Every slice must already share the non-batch shape.
 *
 * @example
 * concatRows([{ tensor: a, start: 0, rows: 2 }, { tensor: b, start: 0, rows: 1 }], 4); // [4, ...] with one pad row
 */
export function concatRows(slices: readonly RowSlice[], totalRows: number): Tensor {
  const first = slices[0];
  if (!first) throw new ServingError(Code.INTERNAL, "cannot concatenate an empty batch");
  const { dtype } = first.tensor;
  const shape = [totalRows, ...first.tensor.shape.slice(1)];
  const width = rowWidth(first.tensor);
  const last = slices.at(-1) ?? first;
  if (dtype === DataType.DT_STRING) {
    const out: Uint8Array[] = [];
    for (const s of slices) {
      const strings = s.tensor.strings;
      for (let i = s.start * width; i < (s.start + s.rows) * width; i++) out.push(strings[i] as Uint8Array);
    }
    const padRow = last.tensor.strings.slice(last.start * width, (last.start + 1) * width);
    while (out.length < totalRows * width) out.push(...padRow);
    return new Tensor(dtype, shape, out);
  }
  const info = requireFixedDType(dtype);
  const out = new info.array(totalRows * width);
  let offset = 0;
  for (const s of slices) {
    const values = s.tensor.values;
    // Typed-array views of different element types never mix: all slices share the dtype.
    (out as Float32Array).set(
      (values as Float32Array).subarray(s.start * width, (s.start + s.rows) * width),
      offset,
    );
    offset += s.rows * width;
  }
  if (offset < out.length) {
    const padRow = (last.tensor.values as Float32Array).subarray(
      last.start * width,
      (last.start + 1) * width,
    );
    for (; offset < out.length; offset += width) (out as Float32Array).set(padRow, offset);
  }
  return new Tensor(dtype, shape, out);
}

/**
 * Rows `[start, start + rows)` of a tensor along dimension 0 (a view where the storage allows).
 *
 * @example
 * sliceRows(y, 2, 3); // y[2:5]
 */
export function sliceRows(tensor: Tensor, start: number, rows: number): Tensor {
  const shape = [rows, ...tensor.shape.slice(1)];
  const width = rowWidth(tensor);
  if (tensor.dtype === DataType.DT_STRING)
    return new Tensor(tensor.dtype, shape, tensor.strings.slice(start * width, (start + rows) * width));
  // A copy, not a view: a request's result must not keep the whole batch's output alive.
  return new Tensor(tensor.dtype, shape, tensor.values.slice(start * width, (start + rows) * width));
}

/**
 * Pads every dimension but the first up to `target` (same rank), with the tensor's first value as
 * TF Serving's pad_variable_length_inputs does. Returns the tensor itself when nothing needs padding.
 *
 * @example
 * padInnerDims(Tensor.fromStrings([1, 2], ["a", "b"]), [1, 3]); // [["a", "b", "a"]]
 */
export function padInnerDims(tensor: Tensor, target: readonly number[]): Tensor {
  const shape = tensor.shape;
  const outShape = [shape[0] ?? 0, ...target.slice(1)];
  if (sameRowShape(shape, outShape) && shape.length === outShape.length) return tensor;
  const total = numElements(outShape);
  const lanes = tensor.dtype === DataType.DT_STRING ? 1 : requireFixedDType(tensor.dtype).lanes;
  const source = tensor.data;
  let out: Uint8Array[] | ReturnType<typeof makeFixed>;
  if (Array.isArray(source)) {
    const pad = source[0] ?? new Uint8Array(0);
    out = Array.from({ length: total }, () => pad);
  } else {
    out = makeFixed(tensor.dtype, total * lanes);
    // An empty source pads with zeros; otherwise with its first element (all lanes).
    for (let i = 0; i < total && source.length > 0; i++)
      for (let l = 0; l < lanes; l++)
        (out as Float32Array)[i * lanes + l] = (source as Float32Array)[l] as number;
  }
  // Row-major strides of the padded shape; each source element lands at the same multi-index.
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (outShape[d + 1] ?? 1);
  const count = numElements(shape);
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let dest = 0;
    for (let d = 0; d < rank; d++) dest += (index[d] ?? 0) * (strides[d] ?? 1);
    if (Array.isArray(source)) (out as Uint8Array[])[dest] = source[flat] as Uint8Array;
    else
      for (let l = 0; l < lanes; l++)
        (out as Float32Array)[dest * lanes + l] = (source as Float32Array)[flat * lanes + l] as number;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = (index[d] ?? 0) + 1;
      if ((index[d] ?? 0) < (shape[d] ?? 0)) break;
      index[d] = 0;
    }
  }
  return new Tensor(tensor.dtype, outShape, out);
}

function makeFixed(dtype: DataType, length: number) {
  const info = requireFixedDType(dtype);
  return new info.array(length);
}

/**
 * The per-dimension maximum of several same-rank shapes (dimension 0 included), for padding.
 * Throws FAILED_PRECONDITION when ranks differ: no padding can reconcile them.
 */
export function maxShape(name: string, shapes: readonly (readonly number[])[]): number[] {
  const first = shapes[0] ?? [];
  const out = [...first];
  for (const shape of shapes) {
    if (shape.length !== first.length) throw rankMismatchError(name);
    for (let d = 0; d < shape.length; d++) out[d] = Math.max(out[d] ?? 0, shape[d] ?? 0);
  }
  return out;
}
