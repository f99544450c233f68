import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../../test/scratch.js";
import { Code, ServingError } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import {
  attr,
  f32,
  i64,
  makeNode,
  newState,
  nums,
  run,
  runTensors,
  scalarStr,
  shapeOf,
  str,
  texts,
} from "./host.test-helpers.js";
import type { HostState } from "./kernel.js";
import { LookupTable } from "./lookup.js";

const freshDir = useScratchDir("host-lookup");

async function vocabFile(content: string): Promise<string> {
  const dir = freshDir();
  await mkdir(dir, { recursive: true });
  const path = join(dir, "vocab.txt");
  await writeFile(path, content);
  return path;
}

function hashTable(state: HostState, key: DataType, value: DataType, name = "table"): LookupTable {
  const node = makeNode(
    "HashTableV2",
    {
      key_dtype: attr.type(key),
      value_dtype: attr.type(value),
      shared_name: attr.string(""),
      container: attr.string(""),
      use_node_name_sharing: attr.bool(false),
    },
    { name },
  );
  const [table] = run(node, [], state);
  assert.ok(table instanceof LookupTable);
  return table;
}

const fromFile = (
  keyIndex: number,
  valueIndex: number,
  extra: Record<string, ReturnType<typeof attr.int>> = {},
) =>
  makeNode("InitializeTableFromTextFileV2", {
    key_index: attr.int(keyIndex),
    value_index: attr.int(valueIndex),
    vocab_size: attr.int(-1),
    delimiter: attr.string("\t"),
    offset: attr.int(0),
    ...extra,
  });

const WHOLE_LINE = -2;
const LINE_NUMBER = -1;

describe("vocabulary tables from a text file", () => {
  it("maps each line to its line number; unknown keys get the default", async () => {
    // The tf.Transform / feature-column vocabulary pattern: key = whole line, value = line number.
    const path = await vocabFile("Cash\nCredit Card\nNo Charge\nUnknown\r\nMobile");
    const state = newState();
    const table = hashTable(state, DataType.DT_STRING, DataType.DT_INT64);
    assert.deepEqual(run(fromFile(WHOLE_LINE, LINE_NUMBER), [table, scalarStr(path)], state), []);
    const find = makeNode("LookupTableFindV2", {
      Tin: attr.type(DataType.DT_STRING),
      Tout: attr.type(DataType.DT_INT64),
    });
    const [ids] = runTensors(find, [
      table,
      str(["Mobile", "Cash", "Bitcoin", "Unknown"], [2, 2]),
      i64([-1], []),
    ]);
    assert.deepEqual(nums(ids), [4, 0, -1, 3]);
    assert.deepEqual(shapeOf(ids), [2, 2]);
    assert.equal(ids!.dtype, DataType.DT_INT64);
    const [size] = runTensors(makeNode("LookupTableSizeV2"), [table]);
    assert.deepEqual(nums(size), [5]);
    assert.deepEqual(shapeOf(size), []);
  });

  it("reads columns split on the delimiter and converts them to the table's dtypes", async () => {
    const path = await vocabFile("apple,1.5\nbanana,-2\ncherry,3e2\n");
    const state = newState();
    const table = hashTable(state, DataType.DT_STRING, DataType.DT_FLOAT);
    run(fromFile(0, 1, { delimiter: attr.string(",") }), [table, scalarStr(path)], state);
    const find = makeNode("LookupTableFindV2");
    const [values] = runTensors(find, [table, str(["cherry", "kiwi", "apple"]), f32([0], [])]);
    assert.deepEqual(nums(values), [300, 0, 1.5]);
  });

  it("takes only vocab_size lines, and fails when the file has fewer", async () => {
    const path = await vocabFile("a\nb\nc\n");
    const state = newState();
    const table = hashTable(state, DataType.DT_STRING, DataType.DT_INT64);
    run(fromFile(WHOLE_LINE, LINE_NUMBER, { vocab_size: attr.int(2) }), [table, scalarStr(path)], state);
    assert.equal(table.size, 2);
    const other = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.throws(
      () => run(fromFile(WHOLE_LINE, LINE_NUMBER, { vocab_size: attr.int(5) }), [other, scalarStr(path)]),
      {
        message: `Invalid vocab_size in ${path}: expected 5 but got 3`,
      },
    );
  });

  it("rejects empty lines and missing columns as TF does", async () => {
    const blank = await vocabFile("a\n\nb\n");
    const t1 = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.throws(() => run(fromFile(WHOLE_LINE, LINE_NUMBER), [t1, scalarStr(blank)]), {
      message: `Invalid content in ${blank}: empty line found at position 3.`,
    });
    const short = await vocabFile("a\tb\nc\n");
    const t2 = hashTable(newState(), DataType.DT_STRING, DataType.DT_STRING);
    assert.throws(() => run(fromFile(0, 1), [t2, scalarStr(short)]), {
      message: `Invalid number of columns in ${short} line 1 (c) : expected at least 2 got 1`,
    });
    const notInt = await vocabFile("x\ty\n");
    const t3 = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.throws(() => run(fromFile(0, 1), [t3, scalarStr(notInt)]), {
      message: "Field y in line 0 is not a valid int64.",
    });
  });

  it("fails on a duplicate key with another value (FAILED_PRECONDITION)", async () => {
    const path = await vocabFile("a\nb\na\n");
    const table = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.throws(
      () => run(fromFile(WHOLE_LINE, LINE_NUMBER), [table, scalarStr(path)]),
      (e: unknown) =>
        e instanceof ServingError &&
        e.code === Code.FAILED_PRECONDITION &&
        e.message === "HashTable has different value for same key. Key a has 0 and trying to add value 2",
    );
  });

  it("reports a missing file as NOT_FOUND", () => {
    const table = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.throws(
      () => run(fromFile(WHOLE_LINE, LINE_NUMBER), [table, scalarStr("/nonexistent/vocab.txt")]),
      (e: unknown) => e instanceof ServingError && e.code === Code.NOT_FOUND,
    );
  });
});

describe("tables from tensors", () => {
  it("InitializeTableV2 then LookupTableFindV2 with per-key defaults", () => {
    const state = newState();
    const table = hashTable(state, DataType.DT_INT64, DataType.DT_STRING);
    run(makeNode("InitializeTableV2"), [table, i64([1, 2, 3]), str(["one", "two", "three"])], state);
    const [out] = runTensors(makeNode("LookupTableFindV2"), [table, i64([3, 9, 1]), str(["d0", "d1", "d2"])]);
    assert.deepEqual(texts(out), ["three", "d1", "one"]);
  });

  it("is shared by name: a second HashTableV2 run returns the same table", () => {
    const state = newState();
    const a = hashTable(state, DataType.DT_STRING, DataType.DT_INT64, "t");
    const b = hashTable(state, DataType.DT_STRING, DataType.DT_INT64, "t");
    assert.equal(a, b);
    assert.equal(state.resources.get("t"), a);
  });

  it("is uninitialised until initialised: Find fails, Size is 0", () => {
    const table = hashTable(newState(), DataType.DT_STRING, DataType.DT_INT64);
    assert.deepEqual(nums(runTensors(makeNode("LookupTableSizeV2"), [table])[0]), [0]);
    assert.throws(() => run(makeNode("LookupTableFindV2"), [table, str(["a"]), i64([0], [])]), {
      message: "Table not initialized.",
    });
  });

  it("checks key and default dtypes and shapes", () => {
    const state = newState();
    const table = hashTable(state, DataType.DT_STRING, DataType.DT_INT64);
    run(makeNode("LookupTableImportV2"), [table, str(["a"]), i64([1])], state);
    assert.throws(() => run(makeNode("LookupTableFindV2"), [table, i64([1]), i64([0], [])]), {
      message: "Key must be type string but got int64",
    });
    assert.throws(() => run(makeNode("LookupTableFindV2"), [table, str(["a", "b"]), i64([0, 0, 0])]), {
      message: "Expected shape [] or [2] for default value, got [3]",
    });
  });

  it("MutableHashTableV2 inserts, overwrites, removes and exports", () => {
    const state = newState();
    const node = makeNode("MutableHashTableV2", {
      key_dtype: attr.type(DataType.DT_STRING),
      value_dtype: attr.type(DataType.DT_INT64),
    });
    const [table] = run(node, [], state);
    run(makeNode("LookupTableInsertV2"), [table!, str(["a", "b"]), i64([1, 2])], state);
    run(makeNode("LookupTableInsertV2"), [table!, str(["a"]), i64([10])], state);
    run(makeNode("LookupTableRemoveV2"), [table!, str(["b"])], state);
    const [keys, values] = runTensors(makeNode("LookupTableExportV2"), [table!]);
    assert.deepEqual(texts(keys), ["a"]);
    assert.deepEqual(nums(values), [10]);
    const [found] = runTensors(makeNode("LookupTableFindV2"), [table!, str(["a", "b"]), i64([-1], [])]);
    assert.deepEqual(nums(found), [10, -1]);
  });
});
