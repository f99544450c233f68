// tf.Example parsing: ParseExample (V1), ParseExampleV2 and ParseSingleExample, following TF's
// example_parsing_ops.cc and util/example_proto_fast_parsing.cc (FastParseExample for a batch,
// FastParseSingleExample for a scalar input), error messages included.
import { fromBinary } from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors.js";
import { ExampleSchema } from "../../proto/gen/tensorflow/core/example/example_pb.js";
import type { Feature } from "../../proto/gen/tensorflow/core/example/feature_pb.js";
import { DataType } from "../../tensor/dtype.js";
import type { PartialShape } from "../../tensor/shape.js";
import { numElements, Tensor } from "../../tensor/tensor.js";
import type { HostKernel, HostValue } from "./kernel.js";
import {
  attrInt,
  attrShapes,
  attrStrings,
  attrTypes,
  input,
  int64Tensor,
  intTensor,
  latin1,
  sameShape,
  tfShape,
  tfTypeName,
  utf8Decode,
} from "./util.js";

type Values = number[] | bigint[] | Uint8Array[];

interface DenseConfig {
  key: string;
  dtype: DataType;
  /** dense_shapes[d] as given (first dim -1 when variable length). */
  shape: readonly number[];
  defaultValue: Tensor;
  variableLength: boolean;
  /** Elements per row: all of shape, or its inner dims when variable length. */
  stride: number;
}

interface Config {
  sparse: { key: string; dtype: DataType }[];
  dense: DenseConfig[];
  ragged: { key: string; dtype: DataType; splitType: DataType }[];
}

/** What one Example holds, by feature key (the last duplicate key wins, as in protobuf and TF). */
type ParsedExample = Record<string, Feature>;

function parseSerialized(bytes: Uint8Array): ParsedExample {
  try {
    return fromBinary(ExampleSchema, bytes).features?.feature ?? {};
  } catch {
    throw invalidArgument(`Could not parse example input, value: '${latin1(bytes)}'`);
  }
}

/** The dtype (DT_INVALID for an empty Feature) and values of a feature. */
function featureValues(f: Feature): { dtype: DataType; values: Values } {
  switch (f.kind.case) {
    case "bytesList":
      return { dtype: DataType.DT_STRING, values: f.kind.value.value };
    case "floatList":
      return { dtype: DataType.DT_FLOAT, values: f.kind.value.value };
    case "int64List":
      return { dtype: DataType.DT_INT64, values: f.kind.value.value };
    default:
      return { dtype: DataType.DT_INVALID, values: [] };
  }
}

/** A rank-1 tensor of `dtype` holding `values` (float32, int64 or string). */
function valuesTensor(dtype: DataType, shape: readonly number[], values: Values): Tensor {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return new Tensor(dtype, shape, Float32Array.from(values as number[]));
    case DataType.DT_INT64:
      return new Tensor(dtype, shape, BigInt64Array.from(values as bigint[]));
    default:
      return new Tensor(dtype, shape, [...(values as Uint8Array[])]);
  }
}

function flatValues(t: Tensor): Values {
  return Array.isArray(t.data) ? [...t.data] : (Array.from(t.data as ArrayLike<number | bigint>) as Values);
}

function checkConfigDType(dtype: DataType): void {
  if (dtype !== DataType.DT_FLOAT && dtype !== DataType.DT_INT64 && dtype !== DataType.DT_STRING) {
    throw invalidArgument(`Invalid config dtype: ${tfTypeName(dtype)}`);
  }
}

/** ParseExampleAttrs::FinishInit plus the dense_defaults checks of the kernels. */
function denseConfigs(
  keys: string[],
  types: DataType[],
  shapes: PartialShape[],
  defaults: Tensor[],
): DenseConfig[] {
  if (keys.length !== types.length) throw invalidArgument("len(dense_keys) != len(dense_types)");
  if (shapes.length !== types.length) throw invalidArgument("len(dense_keys) != len(dense_shapes)");
  if (defaults.length !== types.length) {
    throw invalidArgument(
      `Expected len(dense_defaults) == len(dense_keys) but got: ${defaults.length} vs. ${types.length}`,
    );
  }
  return keys.map((key, d) => {
    const shape = shapes[d]!;
    const dtype = types[d]!;
    checkConfigDType(dtype);
    if (shape === null || shape.slice(1).some((s) => s < 0)) {
      throw invalidArgument(
        `dense_shapes[${d}] has unknown rank or unknown inner dimensions: ${tfShape(shape)}`,
      );
    }
    const variableLength = shape.length > 0 && shape[0]! < 0;
    const stride = numElements(variableLength ? shape.slice(1) : shape);
    const def = defaults[d]!;
    if (variableLength) {
      if (def.size !== 1) {
        throw invalidArgument(
          `dense_shape[${d}] is a variable length shape: ${tfShape(shape)}, therefore def_value[${d}] must contain a ` +
            `single element (the padding element).  But its shape is: ${tfShape(def.shape)}`,
        );
      }
    } else if (def.size > 0 && !sameShape(shape, def.shape)) {
      throw invalidArgument(
        `def_value[${d}].shape() == ${tfShape(def.shape)} is not compatible with dense_shapes_[${d}] == ${tfShape(shape)}`,
      );
    }
    if (def.dtype !== dtype) {
      throw invalidArgument(
        `dense_defaults[${d}].dtype() == ${tfTypeName(def.dtype)} != dense_types_[${d}] == ${tfTypeName(dtype)}`,
      );
    }
    return { key, dtype, shape, defaultValue: def, variableLength, stride };
  });
}

// ---------------------------------------------------------------------------------------------
// A batch of Examples (FastParseExample).

function maxOf(counts: readonly number[]): number {
  let max = 0;
  for (const n of counts) if (n > max) max = n;
  return max;
}

interface SparseBuffer {
  values: (number | bigint | Uint8Array)[];
  /** Number of values of each example. */
  counts: number[];
}

function parseBatch(config: Config, serialized: Uint8Array[], names: Uint8Array[]): Tensor[] {
  const batch = serialized.length;
  const fixed = config.dense.map((c) =>
    c.variableLength ? undefined : Array<number | bigint | Uint8Array>(batch * c.stride),
  );
  const varlen = config.dense.map((): SparseBuffer => ({ values: [], counts: [] }));
  const sparse = config.sparse.map((): SparseBuffer => ({ values: [], counts: [] }));
  const ragged = config.ragged.map((): SparseBuffer => ({ values: [], counts: [] }));

  for (let e = 0; e < batch; e++) {
    const name = names.length > 0 ? latin1(names[e]!) : "<unknown>";
    const example = parseSerialized(serialized[e]!);
    const error = (key: string, suffix: string) =>
      invalidArgument(`Name: ${name}, Key: ${key}, Index: ${e}.  ${suffix}`);

    config.dense.forEach((c, d) => {
      const f = example[c.key];
      const { dtype, values } = f ? featureValues(f) : { dtype: DataType.DT_INVALID, values: [] };
      if (dtype === DataType.DT_INVALID) {
        // Missing (or an empty Feature): the default, or for variable length no values at all.
        if (c.variableLength) {
          varlen[d]!.counts.push(0);
          return;
        }
        if (c.defaultValue.size === 0) {
          throw invalidArgument(
            `Name: ${name}, Feature: ${c.key} (data type: ${tfTypeName(c.dtype)}) is required but could not be found.`,
          );
        }
        const def = flatValues(c.defaultValue);
        for (let i = 0; i < c.stride; i++) fixed[d]![e * c.stride + i] = def[i]!;
        return;
      }
      if (dtype !== c.dtype) {
        throw error(
          c.key,
          `Data types don't match. Data type: ${tfTypeName(dtype)} but expected type: ${tfTypeName(c.dtype)}`,
        );
      }
      const typeStr = dtype === DataType.DT_STRING ? "bytes" : tfTypeName(dtype);
      if (!c.variableLength) {
        if (values.length !== c.stride) {
          throw error(
            c.key,
            `Number of ${typeStr} values != expected.  Values size: ${values.length} but output shape: ${tfShape(c.shape)}`,
          );
        }
        for (let i = 0; i < c.stride; i++) fixed[d]![e * c.stride + i] = values[i]!;
        return;
      }
      const buffer = varlen[d]!;
      if (c.stride === 0 ? values.length !== 0 : values.length % c.stride !== 0) {
        throw error(
          c.key,
          `Number of ${typeStr} values is not a multiple of stride length. Saw ${buffer.values.length + values.length} ` +
            `values but output shape is: ${tfShape(c.shape)}`,
        );
      }
      for (const v of values) buffer.values.push(v);
      buffer.counts.push(values.length);
    });

    const collect = (key: string, want: DataType, buffer: SparseBuffer) => {
      const f = example[key];
      const { dtype, values } = f ? featureValues(f) : { dtype: DataType.DT_INVALID, values: [] };
      if (dtype !== DataType.DT_INVALID && dtype !== want) {
        throw error(
          key,
          `Data types don't match. Expected type: ${tfTypeName(want)}, Actual type: ${tfTypeName(dtype)}`,
        );
      }
      for (const v of values) buffer.values.push(v);
      buffer.counts.push(values.length);
    };
    config.sparse.forEach((c, d) => {
      collect(c.key, c.dtype, sparse[d]!);
    });
    config.ragged.forEach((c, d) => {
      collect(c.key, c.dtype, ragged[d]!);
    });
  }

  const sparseIndices: Tensor[] = [];
  const sparseValues: Tensor[] = [];
  const sparseShapes: Tensor[] = [];
  config.sparse.forEach((c, d) => {
    const { values, counts } = sparse[d]!;
    const indices: bigint[] = [];
    counts.forEach((n, e) => {
      for (let j = 0; j < n; j++) indices.push(BigInt(e), BigInt(j));
    });
    sparseIndices.push(int64Tensor([values.length, 2], indices));
    sparseValues.push(valuesTensor(c.dtype, [values.length], values as Values));
    sparseShapes.push(int64Tensor([2], [BigInt(batch), BigInt(maxOf(counts))]));
  });

  const dense = config.dense.map((c, d) => {
    if (!c.variableLength) return valuesTensor(c.dtype, [batch, ...c.shape], fixed[d]! as Values);
    // Variable length: [batch, max rows, ...inner], padded with the default's single element.
    const { values, counts } = varlen[d]!;
    const maxRows = c.stride === 0 ? 0 : maxOf(counts) / c.stride;
    const perExample = maxRows * c.stride;
    const pad = flatValues(c.defaultValue)[0]!;
    const out = Array<number | bigint | Uint8Array>(batch * perExample).fill(pad);
    let at = 0;
    counts.forEach((n, e) => {
      for (let i = 0; i < n; i++) out[e * perExample + i] = values[at + i]!;
      at += n;
    });
    return valuesTensor(c.dtype, [batch, maxRows, ...c.shape.slice(1)], out as Values);
  });

  const raggedValues = config.ragged.map((c, d) => {
    const { values } = ragged[d]!;
    return valuesTensor(c.dtype, [values.length], values as Values);
  });
  const raggedSplits = config.ragged.map((c, d) => {
    const splits = [0];
    for (const n of ragged[d]!.counts) splits.push(splits[splits.length - 1]! + n);
    return intTensor(c.splitType, [splits.length], splits);
  });
  return [...sparseIndices, ...sparseValues, ...sparseShapes, ...dense, ...raggedValues, ...raggedSplits];
}

// ---------------------------------------------------------------------------------------------
// One Example (FastParseSingleExample): no batch dimension, rank-1 sparse tensors.

function parseSingle(config: Config, serialized: Uint8Array): Tensor[] {
  const example = parseSerialized(serialized);
  const lookup = (key: string) => {
    const f = example[key];
    return f ? featureValues(f) : { dtype: DataType.DT_INVALID, values: [] as Values };
  };
  const parseError = (key: string) => invalidArgument(`Key: ${key}.  Can't parse serialized Example.`);

  const dense = config.dense.map((c) => {
    const { dtype, values } = lookup(c.key);
    if (dtype === DataType.DT_INVALID) {
      if (c.variableLength) return valuesTensor(c.dtype, [0, ...c.shape.slice(1)], []);
      if (c.defaultValue.size === 0) {
        throw invalidArgument(
          `Feature: ${c.key} (data type: ${tfTypeName(c.dtype)}) is required but could not be found.`,
        );
      }
      return c.defaultValue;
    }
    if (dtype !== c.dtype) {
      throw invalidArgument(
        `Key: ${c.key}.  Data types don't match. Data type: ${tfTypeName(dtype)} but expected type: ${tfTypeName(c.dtype)}`,
      );
    }
    if (!c.variableLength) {
      if (values.length !== c.stride) throw parseError(c.key);
      return valuesTensor(c.dtype, c.shape, values);
    }
    if (c.stride === 0 ? values.length !== 0 : values.length % c.stride !== 0) throw parseError(c.key);
    const rows = c.stride === 0 ? 0 : values.length / c.stride;
    return valuesTensor(c.dtype, [rows, ...c.shape.slice(1)], values);
  });

  const present = (key: string, want: DataType): Values => {
    const { dtype, values } = lookup(key);
    if (dtype !== DataType.DT_INVALID && dtype !== want) {
      throw invalidArgument(
        `Key: ${key}.  Data types don't match. Expected type: ${tfTypeName(want)}, Actual type: ${tfTypeName(dtype)}`,
      );
    }
    return values;
  };
  const sparse = config.sparse.map((c) => present(c.key, c.dtype));
  const ragged = config.ragged.map((c) => present(c.key, c.dtype));
  return [
    ...sparse.map((v) =>
      int64Tensor(
        [v.length, 1],
        v.map((_, i) => BigInt(i)),
      ),
    ),
    ...sparse.map((v, d) => valuesTensor(config.sparse[d]!.dtype, [v.length], v)),
    ...sparse.map((v) => int64Tensor([1], [BigInt(v.length)])),
    ...dense,
    ...ragged.map((v, d) => valuesTensor(config.ragged[d]!.dtype, [v.length], v)),
    ...ragged.map((v, d) => intTensor(config.ragged[d]!.splitType, [2], [0, v.length])),
  ];
}

// ---------------------------------------------------------------------------------------------
// The kernels.

function keysOf(t: Tensor): string[] {
  if (t.dtype !== DataType.DT_STRING)
    throw invalidArgument(`keys must be strings, got ${tfTypeName(t.dtype)}`);
  return t.strings.map(utf8Decode);
}

function checkNames(serialized: Tensor, names: Tensor): Uint8Array[] {
  if (names.size > 0 && !sameShape(names.shape, serialized.shape)) {
    throw invalidArgument(
      `Expected names have the same shape as serialized: name.shape=${tfShape(names.shape)}, ` +
        `serialized.shape=${tfShape(serialized.shape)}`,
    );
  }
  return names.size > 0 ? names.strings : [];
}

function checkTypes(types: DataType[]): void {
  for (const t of types) checkConfigDType(t);
}

/** ParseExample (V1): serialized, names, sparse_keys×Nsparse, dense_keys×Ndense, dense_defaults×Ndense. */
const parseExampleV1: HostKernel = (node, inputs) => {
  const numSparse = attrInt(node, "Nsparse");
  const numDense = attrInt(node, "Ndense");
  const sparseTypes = attrTypes(node, "sparse_types");
  const denseTypes = attrTypes(node, "Tdense");
  if (sparseTypes.length !== numSparse) throw invalidArgument("len(sparse_keys) != len(sparse_types)");
  checkTypes(sparseTypes);
  const serialized = input(node, inputs, 0);
  const names = checkNames(serialized, input(node, inputs, 1));
  const scalarKey = (i: number) => keysOf(input(node, inputs, i))[0]!;
  const sparseKeys = Array.from({ length: numSparse }, (_, i) => scalarKey(2 + i));
  const denseKeys = Array.from({ length: numDense }, (_, i) => scalarKey(2 + numSparse + i));
  const defaults = Array.from({ length: numDense }, (_, i) =>
    input(node, inputs, 2 + numSparse + numDense + i),
  );
  if (serialized.rank !== 1) {
    throw invalidArgument(`Expected serialized to be a vector, got shape: ${tfShape(serialized.shape)}`);
  }
  const config: Config = {
    sparse: sparseKeys.map((key, d) => ({ key, dtype: sparseTypes[d]! })),
    dense: denseConfigs(denseKeys, denseTypes, attrShapes(node, "dense_shapes"), defaults),
    ragged: [],
  };
  return parseBatch(config, serialized.strings, names);
};

/** ParseExampleV2: serialized, names, sparse_keys, dense_keys, ragged_keys (string vectors), dense_defaults×. */
const parseExampleV2: HostKernel = (node, inputs) => {
  const numSparse = attrInt(node, "num_sparse");
  const sparseTypes = attrTypes(node, "sparse_types");
  const denseTypes = attrTypes(node, "Tdense");
  const raggedTypes = attrTypes(node, "ragged_value_types");
  const splitTypes = attrTypes(node, "ragged_split_types");
  if (sparseTypes.length !== numSparse) throw invalidArgument("len(sparse_keys) != len(sparse_types)");
  if (splitTypes.length !== raggedTypes.length)
    throw invalidArgument("len(ragged_keys) != len(ragged_split_types)");
  checkTypes(sparseTypes);
  checkTypes(raggedTypes);
  for (const t of splitTypes) {
    if (t !== DataType.DT_INT32 && t !== DataType.DT_INT64) {
      throw invalidArgument(`Invalid ragged_split_type: ${tfTypeName(t)}`);
    }
  }
  const serialized = input(node, inputs, 0);
  const names = checkNames(serialized, input(node, inputs, 1));
  const sparseKeys = keysOf(input(node, inputs, 2));
  const denseKeys = keysOf(input(node, inputs, 3));
  const raggedKeys = keysOf(input(node, inputs, 4));
  const defaults = inputs.slice(5).map((_, i) => input(node, inputs, 5 + i));
  if (serialized.rank > 1) {
    throw invalidArgument(
      `Expected serialized to be a scalar or vector, got shape: ${tfShape(serialized.shape)}`,
    );
  }
  if (denseKeys.length !== denseTypes.length) {
    throw invalidArgument(
      `Expected len(dense_keys) == len(dense_types) but got: ${denseKeys.length} vs. ${denseTypes.length}`,
    );
  }
  if (sparseKeys.length !== numSparse) {
    throw invalidArgument(
      `Expected len(sparse_keys) == num_sparse but got: ${sparseKeys.length} vs. ${numSparse}`,
    );
  }
  if (raggedKeys.length !== raggedTypes.length) {
    throw invalidArgument(
      `Expected len(ragged_keys) == len(ragged_value_types) but got: ${raggedKeys.length} vs. ${raggedTypes.length}`,
    );
  }
  const config: Config = {
    sparse: sparseKeys.map((key, d) => ({ key, dtype: sparseTypes[d]! })),
    dense: denseConfigs(denseKeys, denseTypes, attrShapes(node, "dense_shapes"), defaults),
    ragged: raggedKeys.map((key, d) => ({ key, dtype: raggedTypes[d]!, splitType: splitTypes[d]! })),
  };
  return serialized.rank === 0
    ? parseSingle(config, serialized.strings[0]!)
    : parseBatch(config, serialized.strings, names);
};

/** ParseSingleExample: serialized (scalar), dense_defaults×; keys are attrs. */
const parseSingleExample: HostKernel = (node, inputs: readonly HostValue[]) => {
  const numSparse = attrInt(node, "num_sparse");
  const sparseKeys = attrStrings(node, "sparse_keys");
  const sparseTypes = attrTypes(node, "sparse_types");
  if (sparseKeys.length !== numSparse || sparseTypes.length !== numSparse) {
    throw invalidArgument("len(sparse_keys) != len(sparse_types)");
  }
  checkTypes(sparseTypes);
  const serialized = input(node, inputs, 0);
  const defaults = inputs.slice(1).map((_, i) => input(node, inputs, 1 + i));
  if (serialized.rank !== 0) {
    throw invalidArgument(`Expected serialized to be a scalar, got shape: ${tfShape(serialized.shape)}`);
  }
  const config: Config = {
    sparse: sparseKeys.map((key, d) => ({ key, dtype: sparseTypes[d]! })),
    dense: denseConfigs(
      attrStrings(node, "dense_keys"),
      attrTypes(node, "Tdense"),
      attrShapes(node, "dense_shapes"),
      defaults,
    ),
    ragged: [],
  };
  return parseSingle(config, serialized.strings[0]!);
};

export const EXAMPLE_KERNELS: Readonly<Record<string, HostKernel>> = {
  ParseExample: parseExampleV1,
  ParseExampleV2: parseExampleV2,
  ParseSingleExample: parseSingleExample,
};
