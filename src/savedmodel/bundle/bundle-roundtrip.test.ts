import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../../test/scratch.js";
import { Code } from "../../errors.js";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { TableReader } from "../table/table-reader.js";
import { expectError } from "./bundle.test-helpers.js";
import {
  BundleReader,
  dataFilename,
  indexFilename,
  PartitionedTensor,
  readBundle,
  writeBundle,
} from "./index.js";

const freshDir = useScratchDir("bundle-test");

function sampleTensors(): Map<string, Tensor> {
  const big = new Float32Array(3 << 20).map((_, i) => Math.sin(i));
  const tensors = new Map<string, Tensor>([
    ["big/float32", new Tensor(DataType.DT_FLOAT, [3, 1 << 20], big)],
    [
      "big/float64",
      new Tensor(
        DataType.DT_DOUBLE,
        [1 << 19],
        new Float64Array(1 << 19).map((_, i) => i / 3),
      ),
    ],
    ["ints/int32", new Tensor(DataType.DT_INT32, [4], Int32Array.of(-(2 ** 31), -1, 0, 2 ** 31 - 1))],
    [
      "ints/int64",
      new Tensor(
        DataType.DT_INT64,
        [2, 2],
        BigInt64Array.of(-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n),
      ),
    ],
    ["bool", new Tensor(DataType.DT_BOOL, [3], Uint8Array.of(1, 0, 1))],
    ["uint8", new Tensor(DataType.DT_UINT8, [2, 3], Uint8Array.of(0, 1, 127, 128, 254, 255))],
    ["half", new Tensor(DataType.DT_HALF, [3], Uint16Array.of(0x3c00, 0xfc00, 0x7e00))],
    ["complex64", new Tensor(DataType.DT_COMPLEX64, [1], Float32Array.of(1.5, -2.5))],
    ["empty/float", new Tensor(DataType.DT_FLOAT, [0, 4], new Float32Array(0))],
    ["empty/strings", new Tensor(DataType.DT_STRING, [0], [])],
    ["scalar", new Tensor(DataType.DT_FLOAT, [], Float32Array.of(0.5))],
    [
      "strings",
      new Tensor(
        DataType.DT_STRING,
        [2, 3],
        [
          new TextEncoder().encode("héllo"),
          new Uint8Array(0),
          Uint8Array.of(0, 255, 0, 128),
          new Uint8Array(200).fill(7),
          new Uint8Array(0),
          new Uint8Array(70_000).map((_, i) => i * 13),
        ],
      ),
    ],
    ["名前/ünïcode", new Tensor(DataType.DT_INT32, [1], Int32Array.of(42))],
  ]);
  for (let i = 0; i < 1500; i++) {
    tensors.set(
      `layer_${i}/bias/.ATTRIBUTES/VARIABLE_VALUE`,
      new Tensor(DataType.DT_FLOAT, [2], Float32Array.of(i, -i)),
    );
  }
  return tensors;
}

function assertSameTensors(actual: Map<string, Tensor>, expected: Map<string, Tensor>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [key, tensor] of expected) {
    const got = actual.get(key)!;
    assert.equal(got.dtype, tensor.dtype, key);
    assert.deepEqual(got.shape, tensor.shape, key);
    if (Array.isArray(tensor.data)) {
      assert.deepEqual(
        got.strings.map((s) => Buffer.from(s)),
        tensor.strings.map((s) => Buffer.from(s)),
        key,
      );
    } else {
      assert.ok(
        Buffer.from(got.values.buffer, got.values.byteOffset, got.values.byteLength).equals(
          Buffer.from(tensor.values.buffer, tensor.values.byteOffset, tensor.values.byteLength),
        ),
        key,
      );
    }
  }
}

describe("writeBundle → BundleReader", () => {
  const tensors = sampleTensors();

  it("round-trips > 16 MB of many dtypes over several shards and many index blocks", async () => {
    const prefix = join(freshDir(), "variables", "variables");
    await writeBundle(prefix, tensors, { maxShardBytes: 3 << 20, table: { blockSize: 4096 } });
    const reader = await BundleReader.open(prefix);
    assert.ok(reader.header.numShards >= 3, `${reader.header.numShards} shards`);
    assert.ok((await TableReader.open(indexFilename(prefix))).blockCount > 10);
    assert.deepEqual(
      reader.keys(),
      [...tensors.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    assertSameTensors(await reader.readAll(), tensors);
    await reader.close();
  });

  it("splits into exactly numShards files and writes TF's default single shard", async () => {
    const prefix = join(freshDir(), "v");
    const small = new Map([...tensors].filter(([k]) => !k.startsWith("big/")));
    await writeBundle(prefix, small, { numShards: 3 });
    for (let shard = 0; shard < 3; shard++) await readFile(dataFilename(prefix, shard, 3));
    assertSameTensors(await readBundle(prefix), small);
    const single = join(freshDir(), "v");
    await writeBundle(single, small);
    assert.equal((await BundleReader.open(single)).header.numShards, 1);
    await readFile(dataFilename(single, 0, 1));
  });

  it("writes data in key order with no padding, and big-endian bundles read back the same", async () => {
    const prefix = join(freshDir(), "v");
    const few = new Map([...tensors].filter(([k]) => !k.startsWith("big/") && !k.startsWith("layer_")));
    await writeBundle(prefix, few);
    const reader = await BundleReader.open(prefix);
    let offset = 0n;
    for (const key of reader.keys()) {
      assert.equal(reader.entry(key).offset, offset, key);
      offset += reader.entry(key).size;
    }
    await reader.close();
    const bigEndian = join(freshDir(), "v");
    await writeBundle(bigEndian, few, { endianness: "big" });
    assertSameTensors(await readBundle(bigEndian), few);
    assert.notDeepEqual(
      await readFile(dataFilename(bigEndian, 0, 1)),
      await readFile(dataFilename(prefix, 0, 1)),
    );
  });

  it("rejects duplicate keys, the empty key and unwritable dtypes", async () => {
    const t = new Tensor(DataType.DT_FLOAT, [], Float32Array.of(1));
    const dir = freshDir();
    await assert.rejects(
      writeBundle(join(dir, "v"), [
        ["a", t],
        ["a", t],
      ]),
      /duplicate bundle key "a"/,
    );
    await assert.rejects(writeBundle(join(dir, "v"), [["", t]]), /empty key is reserved/);
    await assert.rejects(
      writeBundle(join(dir, "v"), [["a", t]], { numShards: 2, maxShardBytes: 10 }),
      /not both/,
    );
  });
});

describe("partitioned (sliced) variables", () => {
  const full = Float32Array.from({ length: 6 * 4 }, (_, i) => i);
  /** The [rows, cols] block of the 6×4 matrix starting at (r, c). */
  const part = (r: number, c: number, rows: number, cols: number): Tensor =>
    new Tensor(
      DataType.DT_FLOAT,
      [rows, cols],
      Float32Array.from(
        { length: rows * cols },
        (_, i) => full[(r + Math.floor(i / cols)) * 4 + c + (i % cols)]!,
      ),
    );

  it("writes slices under OrderedCode keys and reads the variable back assembled", async () => {
    const prefix = join(freshDir(), "v");
    const partitioned = new PartitionedTensor(
      DataType.DT_FLOAT,
      [6, 4],
      [
        { start: [0, 0], tensor: part(0, 0, 2, 4) },
        { start: [2, 0], tensor: part(2, 0, 4, 1) },
        { start: [2, 1], tensor: part(2, 1, 4, 3) },
      ],
    );
    const names = new PartitionedTensor(
      DataType.DT_STRING,
      [3],
      [
        { start: [0], tensor: Tensor.fromStrings([1], ["x"]) },
        { start: [1], tensor: Tensor.fromStrings([2], ["", "zz"]) },
      ],
    );
    await writeBundle(prefix, [
      ["dense/kernel", partitioned],
      ["names", names],
      ["plain", new Tensor(DataType.DT_INT32, [], Int32Array.of(7))],
    ]);
    const reader = await BundleReader.open(prefix);
    assert.deepEqual(reader.keys(), ["dense/kernel", "names", "plain"]);
    assert.equal(reader.entry("dense/kernel").slices.length, 3);
    const kernel = await reader.read("dense/kernel");
    assert.deepEqual(kernel.shape, [6, 4]);
    assert.deepEqual(kernel.values, full);
    assert.deepEqual(
      (await reader.read("names")).strings.map((s) => Buffer.from(s).toString()),
      ["x", "", "zz"],
    );
    await reader.close();
    // The slice entries sit right after the header: their keys start with a 0 byte.
    const keys = [...(await TableReader.open(indexFilename(prefix))).entries()].map(([k]) => Buffer.from(k));
    assert.equal(keys.filter((k) => k[0] === 0).length, 5);
    assert.deepEqual(keys[1]!.subarray(0, 4), Buffer.from([0, ...Buffer.from("den")]));
  });

  it("stores a single slice covering the whole tensor as a plain entry, as TF does", async () => {
    const prefix = join(freshDir(), "v");
    const whole = new PartitionedTensor(
      DataType.DT_FLOAT,
      [6, 4],
      [{ start: [0, 0], tensor: part(0, 0, 6, 4) }],
    );
    await writeBundle(prefix, [["w", whole]]);
    const reader = await BundleReader.open(prefix);
    assert.equal(reader.entry("w").slices.length, 0);
    assert.deepEqual((await reader.read("w")).values, full);
    await reader.close();
  });

  it("reports slices that do not tile the shape", async () => {
    const prefix = join(freshDir(), "v");
    const gap = new PartitionedTensor(
      DataType.DT_FLOAT,
      [6, 4],
      [{ start: [0, 0], tensor: part(0, 0, 2, 4) }],
    );
    await writeBundle(prefix, [["w", gap]]);
    const reader = await BundleReader.open(prefix);
    await assert.rejects(
      reader.read("w"),
      expectError(/partitioned tensor "w": slices cover 8 of 24 elements/, Code.DATA_LOSS),
    );
    await reader.close();
  });
});
