// Lookup tables as TF's lookup_table_op.{h,cc}, lookup_table_init_op.cc and lookup_util.cc define them:
// HashTable (initialise once: from tensors or from a text file) and MutableHashTable (insert/remove).
import { readFileSync } from "node:fs";
import { Code, invalidArgument, notFound, ServingError } from "../../errors.js";
import type { GraphNode } from "../../graph/ir.js";
import { DataType, fixedDType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { parseTfFloat, parseTfInt } from "./format.js";
import type { HostKernel, HostResource, HostState, HostValue } from "./kernel.js";
import {
  attrBytes,
  attrInt,
  attrType,
  input,
  int64Tensor,
  latin1,
  resourceName,
  sameShape,
  tfShape,
  tfTypeName,
  utf8Decode,
} from "./util.js";

/** A key as stored: int64 → bigint, other numbers → number, strings → one char per byte (latin1). */
export type TableKey = string | number | bigint;
/** A value as stored: int64 → bigint, other fixed-size dtypes → number, strings → bytes. */
export type TableValue = number | bigint | Uint8Array;

const failedPrecondition = (message: string) => new ServingError(Code.FAILED_PRECONDITION, message);

/**
 * A TF lookup table resource (HashTableV2 / MutableHashTableV2), kept in `HostState.resources` under
 * `resourceName(node)` and handed between kernels as the value of the table handle.
 * Scalar keys and scalar values, as HashTable and MutableHashTable have.
 */
export class LookupTable implements HostResource {
  readonly kind = "table";
  readonly entries = new Map<TableKey, TableValue>();
  /** A HashTable is immutable once initialised; a MutableHashTable is always "initialised". */
  initialized: boolean;

  constructor(
    readonly name: string,
    readonly keyDType: DataType,
    readonly valueDType: DataType,
    readonly mutable: boolean,
  ) {
    this.initialized = mutable;
  }

  get size(): number {
    return this.initialized ? this.entries.size : 0;
  }

  /**
   * HashTable::DoInsert: adding a key twice is fine with the same value, a FAILED_PRECONDITION with
   * another. A mutable table simply overwrites.
   */
  insert(key: TableKey, value: TableValue): void {
    if (!this.mutable) {
      const old = this.entries.get(key);
      if (old !== undefined && !sameValue(old, value)) {
        throw failedPrecondition(
          `HashTable has different value for same key. Key ${showKey(key, this.keyDType)} has ` +
            `${showValue(old)} and trying to add value ${showValue(value)}`,
        );
      }
    }
    this.entries.set(key, value);
  }

  /** InitializableLookupTable::Initialize with all the (key, value) pairs. */
  initialize(pairs: Iterable<[TableKey, TableValue]>): void {
    const list = [...pairs];
    if (this.initialized) {
      // Re-running the same initializer is a no-op; other data is an error.
      const probe = new LookupTable(this.name, this.keyDType, this.valueDType, false);
      for (const [k, v] of list) probe.insert(k, v);
      const same =
        probe.entries.size === this.entries.size &&
        [...probe.entries].every(([k, v]) => {
          const old = this.entries.get(k);
          return old !== undefined && sameValue(old, v);
        });
      if (same) return;
      throw failedPrecondition("Table was already initialized with different data.");
    }
    for (const [k, v] of list) this.insert(k, v);
    this.initialized = true;
  }
}

function sameValue(a: TableValue, b: TableValue): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return latin1(a) === latin1(b);
  return a === b || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b));
}

const showKey = (key: TableKey, dtype: DataType): string =>
  dtype === DataType.DT_STRING ? utf8Decode(Buffer.from(key as string, "latin1")) : String(key);
const showValue = (v: TableValue): string => (v instanceof Uint8Array ? utf8Decode(v) : String(v));

/** Element `i` of `t` as a table key. */
function keyAt(t: Tensor, i: number): TableKey {
  const data = t.data;
  if (Array.isArray(data)) return latin1(data[i]!);
  return data[i]!;
}

/** Element `i` of `t` as a table value. */
function valueAt(t: Tensor, i: number): TableValue {
  const data = t.data;
  if (Array.isArray(data)) return data[i]!;
  return data[i]!;
}

/** A tensor of `dtype` and `shape` from stored values. */
function valuesToTensor(dtype: DataType, shape: readonly number[], values: TableValue[]): Tensor {
  if (dtype === DataType.DT_STRING) return new Tensor(dtype, shape, values as Uint8Array[]);
  const info = fixedDType(dtype);
  if (info?.lanes !== 1)
    throw invalidArgument(`lookup tables of ${tfTypeName(dtype)} values are not supported`);
  const out = new info.array(values.length);
  for (let i = 0; i < values.length; i++)
    (out as { [i: number]: number | bigint })[i] = values[i] as number | bigint;
  return new Tensor(dtype, shape, out);
}

const keysToTensor = (dtype: DataType, keys: TableKey[]): Tensor =>
  valuesToTensor(
    dtype,
    [keys.length],
    keys.map((k) => (typeof k === "string" ? new Uint8Array(Buffer.from(k, "latin1")) : k)),
  );

/** The table handed in as input `i`. */
export function tableInput(node: GraphNode, inputs: readonly HostValue[], i: number): LookupTable {
  const v = inputs[i];
  if (!(v instanceof LookupTable)) {
    throw invalidArgument(`${node.op} node ${node.name}: input ${i} is not a lookup table handle`);
  }
  return v;
}

function checkTypes(table: LookupTable, keys: Tensor, values: Tensor | undefined): void {
  if (keys.dtype !== table.keyDType) {
    throw invalidArgument(`Key must be type ${tfTypeName(table.keyDType)} but got ${tfTypeName(keys.dtype)}`);
  }
  if (values && values.dtype !== table.valueDType) {
    throw invalidArgument(
      `Value must be type ${tfTypeName(table.valueDType)} but got ${tfTypeName(values.dtype)}`,
    );
  }
}

/** LookupInterface::CheckKeyAndValueTensorsForImport/Insert: values shaped as keys (scalar values). */
function checkImport(table: LookupTable, keys: Tensor, values: Tensor): void {
  checkTypes(table, keys, values);
  if (!sameShape(keys.shape, values.shape)) {
    throw invalidArgument(`Expected shape ${tfShape(keys.shape)} for value, got ${tfShape(values.shape)}`);
  }
}

function pairs(keys: Tensor, values: Tensor): [TableKey, TableValue][] {
  return Array.from({ length: keys.size }, (_, i) => [keyAt(keys, i), valueAt(values, i)]);
}

// ---------------------------------------------------------------------------------------------
// Creation.

const createTable =
  (mutable: boolean): HostKernel =>
  (node, _inputs, state: HostState) => {
    const keyDType = attrType(node, "key_dtype");
    const valueDType = attrType(node, "value_dtype");
    const name = resourceName(node);
    const existing = state.resources.get(name);
    if (existing !== undefined) {
      if (!(existing instanceof LookupTable)) throw invalidArgument(`resource ${name} is not a lookup table`);
      if (existing.keyDType !== keyDType || existing.valueDType !== valueDType) {
        throw invalidArgument(
          `Conflicting key/value dtypes ${tfTypeName(keyDType)}->${tfTypeName(valueDType)} with ` +
            `${tfTypeName(existing.keyDType)}-${tfTypeName(existing.valueDType)} for table ${name}`,
        );
      }
      return [existing];
    }
    const table = new LookupTable(name, keyDType, valueDType, mutable);
    state.resources.set(name, table);
    return [table];
  };

// ---------------------------------------------------------------------------------------------
// Initialisation.

const initializeTable: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const keys = input(node, inputs, 1);
  const values = input(node, inputs, 2);
  checkImport(table, keys, values);
  table.initialize(pairs(keys, values));
  return [];
};

/** LookupTableImportV2: initialises a HashTable; replaces a MutableHashTable's contents. */
const importTable: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const keys = input(node, inputs, 1);
  const values = input(node, inputs, 2);
  checkImport(table, keys, values);
  if (table.mutable) {
    table.entries.clear();
    for (const [k, v] of pairs(keys, values)) table.insert(k, v);
  } else {
    table.initialize(pairs(keys, values));
  }
  return [];
};

const LINE_NUMBER = -1;
const WHOLE_LINE = -2;

const INTEGER_DTYPES = new Set([
  DataType.DT_INT8,
  DataType.DT_INT16,
  DataType.DT_INT32,
  DataType.DT_INT64,
  DataType.DT_UINT8,
  DataType.DT_UINT16,
  DataType.DT_UINT32,
  DataType.DT_UINT64,
]);

/** TextFileLineIterator::SetValue: a key or value of `dtype` from a line or one of its columns. */
function fieldValue(
  dtype: DataType,
  token: Uint8Array,
  lineNumber: number,
  offset: number,
  isKey: boolean,
): TableKey | TableValue {
  const text = latin1(token);
  const bad = (what: string) =>
    invalidArgument(`Field ${utf8Decode(token)} in line ${lineNumber} is not a valid ${what}.`);
  switch (dtype) {
    case DataType.DT_INT32: {
      const v = parseTfInt(text, 32);
      if (v === undefined) throw bad("int32");
      return (Number(v) + offset) | 0;
    }
    case DataType.DT_INT64: {
      const v = parseTfInt(text, 64);
      if (v === undefined) throw bad("int64");
      return v;
    }
    case DataType.DT_FLOAT: {
      const v = parseTfFloat(text, true);
      if (v === undefined) throw bad("float");
      return v;
    }
    case DataType.DT_DOUBLE: {
      const v = parseTfFloat(text, false);
      if (v === undefined) throw bad("double");
      return v;
    }
    case DataType.DT_STRING:
      return isKey ? text : token.slice();
    default:
      throw invalidArgument(`Data type ${tfTypeName(dtype)} not supported.`);
  }
}

/** The lines of a text file as TF's InputBuffer::ReadLine yields them, with the byte offset after each. */
function* readLines(bytes: Uint8Array): Generator<{ line: Uint8Array; end: number }> {
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    const last = nl < 0;
    if (last) nl = bytes.length;
    let stop = nl;
    if (stop > start && bytes[stop - 1] === 0x0d) stop--;
    const line = bytes.subarray(start, stop);
    if (last && line.length === 0) return; // A trailing "\r" alone at EOF reads as the end.
    yield { line, end: last ? nl : nl + 1 };
    start = nl + 1;
  }
}

/** InitializeTableFromTextFileV2: table, filename; key_index, value_index (-2 whole line, -1 line number). */
const initializeFromTextFile: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const filenameTensor = input(node, inputs, 1);
  if (filenameTensor.rank !== 0 || filenameTensor.dtype !== DataType.DT_STRING) {
    throw invalidArgument(`filename should be a single string, but got ${tfShape(filenameTensor.shape)}`);
  }
  const filename = utf8Decode(filenameTensor.strings[0]!);
  const vocabSize = attrInt(node, "vocab_size", -1);
  const keyIndex = attrInt(node, "key_index");
  const valueIndex = attrInt(node, "value_index");
  const offset = attrInt(node, "offset", 0);
  const delimiter = attrBytes(node, "delimiter", new Uint8Array([0x09]));
  if (delimiter.length !== 1) throw invalidArgument("delimiter should be only 1 char");
  if (vocabSize < -1 || vocabSize === 0) throw invalidArgument(`Invalid vocab_size ${vocabSize}`);

  const { keyDType, valueDType } = table;
  if (keyIndex === LINE_NUMBER && keyDType !== DataType.DT_INT64) {
    throw invalidArgument(
      `Key index for line number requires table key dtype of int64, got ${tfTypeName(keyDType)}`,
    );
  }
  if (keyIndex === WHOLE_LINE && !INTEGER_DTYPES.has(keyDType) && keyDType !== DataType.DT_STRING) {
    throw invalidArgument(
      `Key index for whole line requires string or integer table key, got ${tfTypeName(keyDType)}`,
    );
  }
  if (valueIndex === LINE_NUMBER && valueDType !== DataType.DT_INT64) {
    throw invalidArgument(
      `Value index for line number requires table value dtype of int64, got ${tfTypeName(valueDType)}`,
    );
  }
  if (valueIndex === WHOLE_LINE && !INTEGER_DTYPES.has(valueDType) && valueDType !== DataType.DT_STRING) {
    throw invalidArgument(
      `Value index for whole line requires table value dtype of integer or string, got ${tfTypeName(valueDType)}`,
    );
  }

  let bytes: Uint8Array;
  try {
    bytes = readFileSync(filename);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw notFound(`${filename}; No such file or directory`);
    throw new ServingError(Code.UNKNOWN, `${filename}: ${(e as Error).message}`, { cause: e });
  }

  const delim = delimiter[0]!;
  const split = Math.max(keyIndex, valueIndex) >= 0;
  const entries: [TableKey, TableValue][] = [];
  let lineNumber = 0;
  const field = (index: number, line: Uint8Array, tokens: Uint8Array[], dtype: DataType, isKey: boolean) =>
    index === LINE_NUMBER
      ? BigInt(lineNumber + offset)
      : fieldValue(dtype, index === WHOLE_LINE ? line : tokens[index]!, lineNumber, offset, isKey);
  for (const { line, end } of readLines(bytes)) {
    if (vocabSize !== -1 && lineNumber >= vocabSize) break;
    if (line.length === 0) {
      throw invalidArgument(`Invalid content in ${filename}: empty line found at position ${end}.`);
    }
    let tokens: Uint8Array[] = [];
    if (split) {
      tokens = [];
      let from = 0;
      for (let i = 0; i <= line.length; i++) {
        if (i === line.length || line[i] === delim) {
          tokens.push(line.subarray(from, i));
          from = i + 1;
        }
      }
      const expected = Math.max(keyIndex, valueIndex) + 1;
      if (tokens.length < expected) {
        throw invalidArgument(
          `Invalid number of columns in ${filename} line ${lineNumber} (${utf8Decode(line)}) : expected at least ` +
            `${expected} got ${tokens.length}`,
        );
      }
    }
    const key = field(keyIndex, line, tokens, keyDType, true) as TableKey;
    const value = field(valueIndex, line, tokens, valueDType, false) as TableValue;
    entries.push([key, value]);
    lineNumber++;
  }
  if (vocabSize !== -1 && lineNumber !== vocabSize) {
    throw invalidArgument(`Invalid vocab_size in ${filename}: expected ${vocabSize} but got ${lineNumber}`);
  }
  // Initialising from a file twice is a no-op (TF logs "is already initialized").
  if (table.initialized && !table.mutable) return [];
  if (table.mutable) {
    for (const [k, v] of entries) table.insert(k, v);
  } else {
    table.initialize(entries);
  }
  return [];
};

// ---------------------------------------------------------------------------------------------
// Use.

/** LookupTableFindV2: values shaped as keys; default_value a scalar or one default per key. */
const find: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const keys = input(node, inputs, 1);
  const defaults = input(node, inputs, 2);
  checkTypes(table, keys, defaults);
  if (defaults.rank !== 0 && !sameShape(defaults.shape, keys.shape)) {
    throw invalidArgument(
      `Expected shape [] or ${tfShape(keys.shape)} for default value, got ${tfShape(defaults.shape)}`,
    );
  }
  if (!table.initialized) throw failedPrecondition("Table not initialized.");
  const fullDefault = defaults.size === keys.size && defaults.rank !== 0;
  const out: TableValue[] = new Array(keys.size);
  for (let i = 0; i < keys.size; i++) {
    out[i] = table.entries.get(keyAt(keys, i)) ?? valueAt(defaults, fullDefault ? i : 0);
  }
  return [valuesToTensor(table.valueDType, keys.shape, out)];
};

const size: HostKernel = (node, inputs) => [int64Tensor([], [BigInt(tableInput(node, inputs, 0).size)])];

const insert: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const keys = input(node, inputs, 1);
  const values = input(node, inputs, 2);
  checkImport(table, keys, values);
  if (!table.mutable)
    throw new ServingError(Code.UNIMPLEMENTED, `Insert is not supported by HashTable ${table.name}`);
  for (const [k, v] of pairs(keys, values)) table.insert(k, v);
  return [];
};

const remove: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const keys = input(node, inputs, 1);
  checkTypes(table, keys, undefined);
  if (!table.mutable)
    throw new ServingError(Code.UNIMPLEMENTED, `Remove is not supported by HashTable ${table.name}`);
  for (let i = 0; i < keys.size; i++) table.entries.delete(keyAt(keys, i));
  return [];
};

/** LookupTableExportV2: keys and values in the table's (insertion) order. */
const exportTable: HostKernel = (node, inputs) => {
  const table = tableInput(node, inputs, 0);
  const entries = table.initialized ? [...table.entries] : [];
  return [
    keysToTensor(
      table.keyDType,
      entries.map(([k]) => k),
    ),
    valuesToTensor(
      table.valueDType,
      [entries.length],
      entries.map(([, v]) => v),
    ),
  ];
};

export const LOOKUP_KERNELS: Readonly<Record<string, HostKernel>> = {
  HashTable: createTable(false),
  HashTableV2: createTable(false),
  MutableHashTable: createTable(true),
  MutableHashTableV2: createTable(true),
  InitializeTable: initializeTable,
  InitializeTableV2: initializeTable,
  InitializeTableFromTextFile: initializeFromTextFile,
  InitializeTableFromTextFileV2: initializeFromTextFile,
  LookupTableImport: importTable,
  LookupTableImportV2: importTable,
  LookupTableFind: find,
  LookupTableFindV2: find,
  LookupTableSize: size,
  LookupTableSizeV2: size,
  LookupTableInsert: insert,
  LookupTableInsertV2: insert,
  LookupTableRemoveV2: remove,
  LookupTableExport: exportTable,
  LookupTableExportV2: exportTable,
};
