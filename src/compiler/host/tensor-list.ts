// TensorLists (DT_VARIANT): what tf.TensorArray and Keras RNN loops carry between iterations. A list
// is an immutable host value; every list op returns a new list (TF mutates in place only when it owns
// the sole reference, which is the same thing seen from the graph). Lists never enter ONNX segments.
import { invalidArgument } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import { DataType, requireFixedDType } from "../../tensor/dtype.js";
import type { PartialShape } from "../../tensor/shape.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import type { HostKernel, HostValue, HostVariant } from "./kernel.js";
import { attrBool, attrInt, attrType, input, intValues, scalarInt, tfShape, tfTypeName } from "./util.js";

/**
 * A TensorList: element dtype, element shape (-1 unknown dims, null unknown rank) and items; an item
 * is undefined until set (TensorListReserve), and reads as zeros of the element shape.
 *
 * @example
 * const list = TensorList.fromTensor(x, [-1, 3]); // x: [5, 2, 3] → 5 items of [2, 3]
 */
export class TensorList implements HostVariant {
  readonly kind = "tensor_list" as const;

  constructor(
    readonly elementDType: DataType,
    readonly elementShape: PartialShape,
    readonly items: readonly (Tensor | undefined)[],
    /** -1: no limit (EmptyTensorList's max_num_elements). */
    readonly maxNumElements = -1,
  ) {}

  get length(): number {
    return this.items.length;
  }

  /** A list of the same dtype, element shape and limit with other items. */
  withItems(items: readonly (Tensor | undefined)[]): TensorList {
    return new TensorList(this.elementDType, this.elementShape, items, this.maxNumElements);
  }

  /** The slices of `tensor` along dimension 0. */
  static fromTensor(tensor: Tensor, elementShape: PartialShape): TensorList {
    if (tensor.rank < 1)
      throw invalidArgument(`Tensor must be at least a vector, but saw shape: ${tfShape(tensor.shape)}`);
    const [n = 0, ...rest] = tensor.shape;
    return new TensorList(tensor.dtype, elementShape, sliceRows(tensor, n, rest));
  }
}

/** Whether a value is a TensorList. */
export const isTensorList = (v: HostValue | undefined): v is TensorList => v instanceof TensorList;

function listInput(node: GraphNode, inputs: readonly HostValue[], i: number): TensorList {
  const v = inputs[i];
  if (!(v instanceof TensorList)) {
    throw invalidArgument(
      `${node.op} node ${node.name}: input ${i} must be a TensorList, got ${v === undefined ? "nothing" : v instanceof Tensor ? `a ${tfTypeName(v.dtype)} tensor` : `a ${v.kind}`}`,
    );
  }
  return v;
}

/** The node's `element_dtype` must be the list's. */
function checkDType(node: GraphNode, list: TensorList): void {
  const want = attrType(node, "element_dtype");
  if (want !== list.elementDType) {
    throw invalidArgument(
      `Invalid data types; op elements ${tfTypeName(want)} but list elements ${tfTypeName(list.elementDType)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Shapes.

/** TF's TensorShapeFromTensor for an `element_shape` input: scalar -1 is an unknown rank, -1 dims unknown. */
export function shapeFromTensor(t: Tensor, what = "element_shape"): PartialShape {
  if (t.rank === 0) {
    const v = scalarInt(t, what);
    if (v !== -1)
      throw invalidArgument(`The only valid scalar shape tensor is the fully unknown shape specified as -1.`);
    return null;
  }
  if (t.rank !== 1) throw invalidArgument(`${what} must be a vector, got shape ${tfShape(t.shape)}`);
  return intValues(t, what).map((d) => (d < 0 ? -1 : d));
}

/** The most specific shape compatible with both, or undefined when they conflict. */
export function mergeShapes(a: PartialShape, b: PartialShape): PartialShape | undefined {
  if (a === null) return b === null ? null : [...b];
  if (b === null) return [...a];
  if (a.length !== b.length) return undefined;
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x >= 0 && y >= 0 && x !== y) return undefined;
    out.push(x >= 0 ? x : y);
  }
  return out;
}

const fullyDefined = (s: PartialShape): s is number[] => s?.every((d) => d >= 0) ?? false;

const compatible = (shape: readonly number[], partial: PartialShape): boolean =>
  mergeShapes([...shape], partial) !== undefined;

function merged(a: PartialShape, b: PartialShape, what: string): PartialShape {
  const m = mergeShapes(a, b);
  if (m === undefined)
    throw invalidArgument(`Incompatible shapes during merge: ${tfShape(a)} vs. ${tfShape(b)} (${what})`);
  return m;
}

/** TF's GetElementShapeFromInput: the list's element shape merged with the `element_shape` input. */
function elementShapeFromInput(
  node: GraphNode,
  inputs: readonly HostValue[],
  i: number,
  list: TensorList,
): PartialShape {
  return merged(
    list.elementShape,
    shapeFromTensor(input(node, inputs, i)),
    "list element shape and element_shape input",
  );
}

/** Refines a partial element shape with the shapes of the items that are set (all must agree). */
function withItemShapes(shape: PartialShape, list: TensorList): PartialShape {
  let result = shape;
  if (fullyDefined(result)) return result;
  for (const item of list.items) if (item) result = merged(result, [...item.shape], "list items");
  return result;
}

// ---------------------------------------------------------------------------------------------
// Tensor helpers.

/** Splits a tensor's flat values into `n` rows of shape `rest`. */
function sliceRows(t: Tensor, n: number, rest: readonly number[]): Tensor[] {
  const per = numElements(rest);
  const rows: Tensor[] = [];
  for (let r = 0; r < n; r++) {
    if (t.dtype === DataType.DT_STRING)
      rows.push(new Tensor(t.dtype, rest, t.strings.slice(r * per, (r + 1) * per)));
    else {
      const lanes = requireFixedDType(t.dtype).lanes;
      rows.push(new Tensor(t.dtype, rest, t.values.slice(r * per * lanes, (r + 1) * per * lanes)));
    }
  }
  return rows;
}

/** Concatenates tensors' flat values (all of `dtype`) into one tensor of `shape`. */
function joinRows(dtype: DataType, shape: readonly number[], parts: readonly Tensor[]): Tensor {
  if (dtype === DataType.DT_STRING)
    return new Tensor(
      dtype,
      shape,
      parts.flatMap((p) => p.strings),
    );
  const info = requireFixedDType(dtype);
  const out = new info.array(numElements(shape) * info.lanes);
  let at = 0;
  for (const p of parts) {
    const values = p.values;
    // The typed arrays of one dtype match; TS cannot see it through the union.
    (out as unknown as { set(a: ArrayLike<number | bigint>, o: number): void }).set(values, at);
    at += values.length;
  }
  return new Tensor(dtype, shape, out);
}

function checkIndex(what: "access" | "modify", index: number, length: number): void {
  if (index < 0 || index >= length) {
    throw invalidArgument(`Trying to ${what} element ${index} in a list with ${length} elements.`);
  }
}

/** Item `index`, or zeros of the element shape when it is not set. */
function itemOrZeros(list: TensorList, index: number, shape: PartialShape): Tensor {
  const item = list.items[index];
  if (item) return item;
  const known = withItemShapes(shape, list);
  if (!fullyDefined(known)) {
    throw invalidArgument(
      `Trying to read an uninitialized tensor but element_shape is not fully defined: ${tfShape(known)} and no list element is set.`,
    );
  }
  return Tensor.zeros(list.elementDType, known);
}

function checkItemShape(list: TensorList, item: Tensor, verb: string): void {
  if (!compatible(item.shape, list.elementShape)) {
    throw invalidArgument(
      `Tried to ${verb} with incompatible shape. Item element shape: ${tfShape(item.shape)} list shape: ${tfShape(list.elementShape)}`,
    );
  }
}

function shapeTensor(node: GraphNode, shape: PartialShape): Tensor {
  const dtype = attrType(node, "shape_type", DataType.DT_INT32);
  const dims = shape === null ? [-1] : shape;
  const dimsShape = shape === null ? [] : [dims.length];
  if (dtype === DataType.DT_INT64) return new Tensor(dtype, dimsShape, BigInt64Array.from(dims, BigInt));
  return new Tensor(DataType.DT_INT32, dimsShape, Int32Array.from(dims));
}

// ---------------------------------------------------------------------------------------------
// Kernels.

const reserve: HostKernel = (node, inputs) => {
  const shape = shapeFromTensor(input(node, inputs, 0));
  const n = scalarInt(input(node, inputs, 1), "num_elements");
  if (n < 0) throw invalidArgument(`The num_elements to reserve must be a non negative number, but got ${n}`);
  return [new TensorList(attrType(node, "element_dtype"), shape, new Array<undefined>(n).fill(undefined))];
};

const emptyList: HostKernel = (node, inputs) => {
  const shape = shapeFromTensor(input(node, inputs, 0));
  const max = scalarInt(input(node, inputs, 1), "max_num_elements");
  if (max < -1) throw invalidArgument(`max_num_elements must be non-negative or -1, got ${max}`);
  return [new TensorList(attrType(node, "element_dtype"), shape, [], max)];
};

const fromTensor: HostKernel = (node, inputs) => {
  const t = input(node, inputs, 0);
  const shape = shapeFromTensor(input(node, inputs, 1));
  if (t.rank >= 1 && !compatible(t.shape.slice(1), shape)) {
    throw invalidArgument(
      `Specified a list with shape ${tfShape(shape)} from a tensor with shape ${tfShape(t.shape)}`,
    );
  }
  return [TensorList.fromTensor(t, shape)];
};

const getItem: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const index = scalarInt(input(node, inputs, 1), "index");
  checkIndex("access", index, list.length);
  return [itemOrZeros(list, index, elementShapeFromInput(node, inputs, 2, list))];
};

const setItem: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const index = scalarInt(input(node, inputs, 1), "index");
  const item = input(node, inputs, 2);
  checkItemShape(list, item, "set a tensor at a list index");
  const items = [...list.items];
  if (index >= items.length && index >= 0 && attrBool(node, "resize_if_index_out_of_bounds", false)) {
    while (items.length <= index) items.push(undefined);
  }
  checkIndex("modify", index, items.length);
  items[index] = item;
  return [list.withItems(items)];
};

const stack: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const expected = attrInt(node, "num_elements", -1);
  if (expected !== -1 && expected !== list.length) {
    throw invalidArgument(
      `Operation expected a list with ${expected} elements but got a list with ${list.length} elements.`,
    );
  }
  const partial = elementShapeFromInput(node, inputs, 1, list);
  if (!fullyDefined(partial) && list.length === 0) {
    throw invalidArgument(
      `Tried to stack elements of an empty list with non-fully-defined element_shape: ${tfShape(partial)}`,
    );
  }
  const shape = withItemShapes(partial, list);
  if (!fullyDefined(shape)) {
    throw invalidArgument(
      `Tried to stack list which only contains uninitialized tensors and has a non-fully-defined element_shape: ${tfShape(shape)}`,
    );
  }
  const items = list.items.map((item) => item ?? Tensor.zeros(list.elementDType, shape));
  return [joinRows(list.elementDType, [list.length, ...shape], items)];
};

const gather: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const indices = intValues(input(node, inputs, 1), "indices");
  const partial = elementShapeFromInput(node, inputs, 2, list);
  const items = indices.map((i) => {
    checkIndex("access", i, list.length);
    return itemOrZeros(list, i, partial);
  });
  const shape: PartialShape = items[0] ? [...items[0].shape] : withItemShapes(partial, list);
  if (!fullyDefined(shape)) {
    throw invalidArgument(
      `Tried to gather 0 elements from a list with non-fully-defined element_shape: ${tfShape(shape)}`,
    );
  }
  for (const item of items) {
    if (!compatible(item.shape, shape))
      throw invalidArgument(
        `Tried to gather elements of different shapes: ${tfShape(item.shape)} vs. ${tfShape(shape)}`,
      );
  }
  return [joinRows(list.elementDType, [items.length, ...shape], items)];
};

const length: HostKernel = (node, inputs) => [
  new Tensor(DataType.DT_INT32, [], Int32Array.of(listInput(node, inputs, 0).length)),
];

const elementShape: HostKernel = (node, inputs) => [
  shapeTensor(node, listInput(node, inputs, 0).elementShape),
];

const pushBack: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const item = input(node, inputs, 1);
  checkItemShape(list, item, "append a tensor to a list");
  if (list.maxNumElements !== -1 && list.length >= list.maxNumElements) {
    throw invalidArgument(
      `Tried to push item into a full list list size: ${list.length}, max_num_elements: ${list.maxNumElements}`,
    );
  }
  return [list.withItems([...list.items, item])];
};

const popBack: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  if (list.length === 0) throw invalidArgument("Trying to pop from an empty list.");
  const shape = elementShapeFromInput(node, inputs, 1, list);
  const last = itemOrZeros(list, list.length - 1, shape);
  return [list.withItems(list.items.slice(0, -1)), last];
};

const resize: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  const size = scalarInt(input(node, inputs, 1), "size");
  if (size < 0) throw invalidArgument(`TensorListSlice expects size to be non-negative. Got: ${size}`);
  const items = list.items.slice(0, size);
  while (items.length < size) items.push(undefined);
  return [list.withItems(items)];
};

const concatV2: HostKernel = (node, inputs) => {
  const list = listInput(node, inputs, 0);
  checkDType(node, list);
  const shape = merged(list.elementShape, shapeFromTensor(input(node, inputs, 1)), "element_shape");
  if (shape === null || shape.length === 0) {
    throw invalidArgument(`Concat requires elements to be at least vectors, found scalars or unknown rank.`);
  }
  let rest: PartialShape = shape.slice(1);
  for (const item of list.items) {
    if (!item) continue;
    if (item.rank === 0) throw invalidArgument("Concat saw a scalar shape but requires at least vectors.");
    rest = merged(rest, item.shape.slice(1), "concatenated elements");
  }
  if (!fullyDefined(rest)) {
    throw invalidArgument(
      `All except the first dimension must be fully defined when concating an empty tensor list. element_shape: ${tfShape(shape)}`,
    );
  }
  const inner = rest;
  const leading = intValues(input(node, inputs, 2), "leading_dims");
  const parts = list.items.map((item, i) => {
    if (item) return item;
    const first = leading[i] ?? -1;
    if (first < 0) {
      throw invalidArgument(
        `Trying to concat an uninitialized tensor but its leading dimension is unknown (element ${i}); pass leading_dims`,
      );
    }
    return Tensor.zeros(list.elementDType, [first, ...inner]);
  });
  const rows = parts.reduce((sum, p) => sum + (p.shape[0] ?? 0), 0);
  const lengths = new Tensor(
    DataType.DT_INT64,
    [parts.length],
    BigInt64Array.from(parts, (p) => BigInt(p.shape[0] ?? 0)),
  );
  return [joinRows(list.elementDType, [rows, ...inner], parts), lengths];
};

/** The TensorList kernels by TF op name. */
export const TENSOR_LIST_KERNELS: Readonly<Record<string, HostKernel>> = {
  TensorListReserve: reserve,
  EmptyTensorList: emptyList,
  TensorListFromTensor: fromTensor,
  TensorListGetItem: getItem,
  TensorListSetItem: setItem,
  TensorListStack: stack,
  TensorListGather: gather,
  TensorListLength: length,
  TensorListElementShape: elementShape,
  TensorListPushBack: pushBack,
  TensorListPopBack: popBack,
  TensorListResize: resize,
  TensorListConcatV2: concatV2,
};
