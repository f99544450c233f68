import assert from "node:assert/strict";
import { cp, readFile, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import {
  fixtureBundlePrefixes,
  needsFixtures,
  savedModelFixture,
  tfServingModel,
} from "../../../test/fixtures.js";
import { useScratchDir } from "../../../test/scratch.js";
import { Code } from "../../errors.js";
import { TrackableObjectGraphSchema } from "../../proto/gen/tensorflow/core/protobuf/trackable_object_graph_pb.js";
import { DataType } from "../../tensor/dtype.js";
import type { Tensor } from "../../tensor/tensor.js";
import { TableReader } from "../table/table-reader.js";
import { expectError } from "./bundle.test-helpers.js";
import { BundleReader, dataFilename, indexFilename, readBundle, writeBundle } from "./index.js";

const freshDir = useScratchDir("bundle-test");

function value(tensors: Map<string, Tensor>, key: string): number | bigint {
  const tensor = tensors.get(key);
  assert.ok(tensor, `${key} present`);
  assert.equal(tensor.size, 1, `${key} is a scalar`);
  return tensor.values[0]!;
}

describe("BundleReader on TF's bundles", () => {
  it("reads every fixture variables/ with verified checksums", needsFixtures, async () => {
    const prefixes = await fixtureBundlePrefixes();
    assert.ok(prefixes.length >= 25, `${prefixes.length} bundles`);
    const readable = new Set([
      DataType.DT_FLOAT,
      DataType.DT_INT32,
      DataType.DT_INT64,
      DataType.DT_STRING,
      DataType.DT_UINT8,
    ]);
    for (const prefix of prefixes) {
      const reader = await BundleReader.open(prefix);
      assert.equal(reader.header.numShards, 1, prefix);
      const tensors = await reader.readAll();
      assert.deepEqual([...tensors.keys()], reader.keys(), prefix);
      assert.ok(tensors.size >= 1, prefix);
      for (const [key, tensor] of tensors) {
        assert.ok(readable.has(tensor.dtype), `${prefix} ${key}: dtype ${tensor.dtype}`);
        assert.deepEqual(tensor.shape, reader.entry(key).shape?.dim.map((d) => Number(d.size)) ?? []);
      }
      await reader.close();
    }
  });

  it("reads half_plus_two's and half_plus_three's values", needsFixtures, async () => {
    const tf1 = await readBundle(
      join(tfServingModel("saved_model_half_plus_two_cpu"), "variables/variables"),
    );
    assert.deepEqual([...tf1.keys()], ["a", "a2", "b", "c", "c2"]);
    assert.equal(value(tf1, "a"), 0.5);
    assert.equal(value(tf1, "b"), 2);
    assert.equal(value(tf1, "c"), 3);
    const three = await readBundle(
      join(tfServingModel("saved_model_half_plus_three"), "variables/variables"),
    );
    assert.equal(value(three, "a"), 0.5);
    assert.equal(value(three, "b"), 3);
    const tf2 = await readBundle(
      join(tfServingModel("saved_model_half_plus_two_tf2_cpu"), "variables/variables"),
    );
    assert.equal(value(tf2, "a/.ATTRIBUTES/VARIABLE_VALUE"), 0.5);
    assert.equal(value(tf2, "b/.ATTRIBUTES/VARIABLE_VALUE"), 2);
    assert.equal(value(tf2, "c/.ATTRIBUTES/VARIABLE_VALUE"), 3);
    const graph = tf2.get("_CHECKPOINTABLE_OBJECT_GRAPH")!;
    assert.equal(graph.dtype, DataType.DT_STRING);
    assert.equal(graph.strings[0]!.length, 613);
    const objectGraph = fromBinary(TrackableObjectGraphSchema, graph.strings[0]!);
    const names = objectGraph.nodes[0]!.children.map((c) => c.localName);
    assert.ok(
      ["a", "b", "c"].every((n) => names.includes(n)),
      `root children ${names}`,
    );
  });

  it("reads the tfjs models' float and int32 variables", needsFixtures, async () => {
    const multi = await readBundle(
      join(savedModelFixture("tfjs_multiple_signatures"), "variables/variables"),
    );
    assert.equal(value(multi, "v/.ATTRIBUTES/VARIABLE_VALUE"), 3);
    assert.equal(value(multi, "two/.ATTRIBUTES/VARIABLE_VALUE"), 2);
    const uint8 = await readBundle(join(savedModelFixture("tfjs_uint8_multiply"), "variables/variables"));
    assert.equal(uint8.get("v1/.ATTRIBUTES/VARIABLE_VALUE")!.dtype, DataType.DT_INT32);
    assert.equal(value(uint8, "v1/.ATTRIBUTES/VARIABLE_VALUE"), 3);
    assert.equal(value(uint8, "v2/.ATTRIBUTES/VARIABLE_VALUE"), 2);
    const conv = await readBundle(join(savedModelFixture("tf1_mnist_conv"), "variables/variables"));
    assert.equal(conv.size, 20);
    const floats = [...conv.values()].reduce((n, t) => n + t.size, 0);
    assert.equal(floats * 4, 1952608, "every byte of the 1.9 MB shard is a float32");
    const lstm = await readBundle(join(savedModelFixture("keras_lstm"), "variables/variables"));
    assert.equal(lstm.size, 22);
  });

  it("lists keys, entries and membership; unknown keys are NOT_FOUND", needsFixtures, async () => {
    const reader = await BundleReader.open(
      join(tfServingModel("saved_model_half_plus_two_tf2_cpu"), "variables/variables"),
    );
    assert.ok(reader.has("a/.ATTRIBUTES/VARIABLE_VALUE"));
    assert.ok(!reader.has("nope"));
    const entry = reader.entry("_CHECKPOINTABLE_OBJECT_GRAPH");
    assert.equal(entry.offset, 12n);
    assert.equal(entry.size, 619n);
    assert.equal(entry.crc32c, 0x47b7d190);
    await assert.rejects(
      reader.read("nope"),
      expectError(/variables\.index: key "nope" not found/, Code.NOT_FOUND),
    );
    await reader.close();
    await assert.rejects(reader.read("a/.ATTRIBUTES/VARIABLE_VALUE"), /closed/);
  });

  it("rewrites every fixture bundle byte for byte", needsFixtures, async () => {
    for (const prefix of await fixtureBundlePrefixes()) {
      const reader = await BundleReader.open(prefix);
      const tensors = await reader.readAll();
      // TF writes data in its save op's order (not key order), so hand the tensors over by offset.
      const byOffset = [...tensors].sort(([a], [b]) =>
        Number(reader.entry(a).offset - reader.entry(b).offset),
      );
      await reader.close();
      // TF builds without Snappy (macOS, Windows wheels…) store every block raw: say the same.
      const blocks = (await TableReader.open(indexFilename(prefix))).dataBlockLayout();
      const compression = blocks.every((b) => b.compression === 0) ? "none" : "snappy";
      const copy = join(freshDir(), "variables");
      await writeBundle(copy, byOffset, { dataOrder: "given", table: { compression } });
      for (const file of [indexFilename, (p: string) => dataFilename(p, 0, 1)]) {
        assert.deepEqual(await readFile(file(copy)), await readFile(file(prefix)), file(prefix));
      }
    }
  });
});

/** Tensors of many dtypes, > 16 MB in all, with strings of every awkward kind. */
describe("damaged bundles (copies of saved_model_half_plus_two_tf2_cpu)", () => {
  async function copy(): Promise<string> {
    const dir = join(freshDir(), "variables");
    await cp(join(tfServingModel("saved_model_half_plus_two_tf2_cpu"), "variables"), dir, {
      recursive: true,
    });
    return join(dir, "variables");
  }
  const index = (prefix: string): string => `${prefix}.index`;
  const shard = (prefix: string): string => `${prefix}.data-00000-of-00001`;
  async function flipByte(path: string, at: number): Promise<void> {
    const bytes = await readFile(path);
    const i = at < 0 ? bytes.length + at : at;
    bytes[i]! ^= 0x10;
    await writeFile(path, bytes);
  }

  it(
    "a flipped byte inside the index's data block is a checksum mismatch naming file and block",
    needsFixtures,
    async () => {
      const prefix = await copy();
      await flipByte(index(prefix), 40);
      await assert.rejects(
        BundleReader.open(prefix),
        expectError(
          /variables\/variables\.index: block at offset 0 \(153 bytes\): checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/,
          Code.DATA_LOSS,
        ),
      );
    },
  );

  it("a flipped byte in the footer magic is a bad magic number", needsFixtures, async () => {
    const prefix = await copy();
    await flipByte(index(prefix), -3);
    await assert.rejects(
      BundleReader.open(prefix),
      expectError(/variables\.index: bad magic number in footer$/, Code.DATA_LOSS),
    );
  });

  it("a truncated index names the file and its size", needsFixtures, async () => {
    const prefix = await copy();
    await truncate(index(prefix), 30);
    await assert.rejects(
      BundleReader.open(prefix),
      expectError(/variables\.index: truncated file \(30 bytes, footer needs 48\)$/, Code.DATA_LOSS),
    );
    const cut = await copy();
    await truncate(index(cut), 200);
    await assert.rejects(
      BundleReader.open(cut),
      expectError(/variables\.index: bad magic number/, Code.DATA_LOSS),
    );
  });

  it("a missing index is NOT_FOUND", async () => {
    await assert.rejects(
      BundleReader.open(join(freshDir(), "variables")),
      expectError(/variables\.index: missing file \(ENOENT\)$/, Code.NOT_FOUND),
    );
  });

  it(
    "a flipped byte in the shard is a checksum mismatch naming shard, entry, offset and size",
    needsFixtures,
    async () => {
      const prefix = await copy();
      await flipByte(shard(prefix), 1);
      const reader = await BundleReader.open(prefix);
      await assert.rejects(
        reader.readAll(),
        expectError(
          /variables\/variables\.data-00000-of-00001: entry "a\/\.ATTRIBUTES\/VARIABLE_VALUE" at offset 0 \(4 bytes\): checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/,
          Code.DATA_LOSS,
        ),
      );
      assert.equal(value(new Map([["b", await reader.read("b/.ATTRIBUTES/VARIABLE_VALUE")]]), "b"), 2);
      await reader.close();
    },
  );

  it("a flipped byte in a string tensor's lengths or bytes is caught", needsFixtures, async () => {
    const lengths = await copy();
    await flipByte(shard(lengths), 12);
    await assert.rejects(
      readBundle(lengths),
      expectError(
        /data-00000-of-00001: entry "_CHECKPOINTABLE_OBJECT_GRAPH" at offset 12 \(619 bytes\): bad string tensor: (length checksum mismatch|string lengths)/,
        Code.DATA_LOSS,
      ),
    );
    const strings = await copy();
    await flipByte(shard(strings), 400);
    await assert.rejects(
      readBundle(strings),
      expectError(
        /entry "_CHECKPOINTABLE_OBJECT_GRAPH" at offset 12 \(619 bytes\): checksum mismatch/,
        Code.DATA_LOSS,
      ),
    );
  });

  it("a truncated shard names the shard, its size and the entry", needsFixtures, async () => {
    const prefix = await copy();
    await truncate(shard(prefix), 6);
    await assert.rejects(
      readBundle(prefix),
      expectError(
        /variables\.data-00000-of-00001: truncated shard \(6 bytes\): entry "\S+" needs bytes \[\d+, \d+\)$/,
        Code.DATA_LOSS,
      ),
    );
  });

  it("a deleted shard is NOT_FOUND naming the missing shard", needsFixtures, async () => {
    const prefix = await copy();
    await unlink(shard(prefix));
    await assert.rejects(
      readBundle(prefix),
      expectError(/variables\/variables\.data-00000-of-00001: missing shard \(ENOENT\)$/, Code.NOT_FOUND),
    );
  });
});
