import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fixtureBundlePrefixes, needsFixtures, tfServingModel } from "../../../test/fixtures.js";
import { Code, ServingError } from "../../errors.js";
import { crc32c, maskCrc, unmaskCrc } from "../crc32c.js";
import { BLOCK_TRAILER_SIZE, CompressionType, compareBytes, decodeFooter } from "./format.js";
import { snappyCompress, snappyUncompress } from "./snappy.js";
import { TableReader } from "./table-reader.js";
import { TableWriter } from "./table-writer.js";

const utf8 = new TextEncoder();
const bytes = (s: string): Uint8Array => utf8.encode(s);

const fixtureIndexFiles = async (): Promise<string[]> =>
  (await fixtureBundlePrefixes()).map((prefix) => `${prefix}.index`);

function expectDataLoss(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ServingError, `expected a ServingError, got ${String(e)}`);
    assert.equal(e.code, Code.DATA_LOSS, e.message);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

/** Deterministic pseudo-random bytes. */
function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe("crc32c", () => {
  it("is standard CRC-32C, extends incrementally, and masks as TF does", () => {
    assert.equal(crc32c(bytes("123456789")), 0xe3069283);
    assert.equal(crc32c(bytes("world"), crc32c(bytes("hello "))), crc32c(bytes("hello world")));
    assert.equal(crc32c(new Uint8Array(0)), 0);
    // leveldb crc32c_test: Mask(Value("foo")) differs from the value, and Unmask inverts it.
    const crc = crc32c(bytes("foo"));
    assert.notEqual(maskCrc(crc), crc);
    assert.equal(unmaskCrc(maskCrc(crc)), crc);
    assert.equal(unmaskCrc(unmaskCrc(maskCrc(maskCrc(crc)))), crc);
    assert.equal(maskCrc(0), 0xa282ead8);
  });
});

describe("snappy", () => {
  it("round-trips empty, tiny, fragment-sized, compressible and random inputs", () => {
    const inputs = [
      new Uint8Array(0),
      bytes("a"),
      bytes("abcdefghijklmn"),
      bytes("abcdefghijklmnop"),
      bytes("abcabcabcabcabcabcabcabcabcabcabcabc".repeat(100)),
      noise(70_000, 7),
      new Uint8Array(200_000).map((_, i) => (i % 251) & (i >> 9)),
      Uint8Array.from({ length: 65_536 * 2 + 3 }, (_, i) => (i * 31) % 7),
    ];
    for (const input of inputs) {
      const compressed = snappyCompress(input);
      assert.deepEqual(snappyUncompress(compressed, input.length), input, `length ${input.length}`);
    }
    assert.ok(snappyCompress(inputs[4]!).length < 200);
  });

  it("compresses TF's Snappy blocks back to the same bytes", needsFixtures, async () => {
    let checked = 0;
    for (const path of await fixtureIndexFiles()) {
      const file = await readFile(path);
      const table = TableReader.fromBytes(file, path);
      for (const block of table.dataBlockLayout()) {
        if (block.compression !== CompressionType.Snappy) continue;
        const stored = file.subarray(block.offset, block.offset + block.size);
        const raw = snappyUncompress(stored, 1 << 24);
        assert.deepEqual(snappyCompress(raw), new Uint8Array(stored), path);
        checked++;
      }
    }
    assert.ok(checked >= 3, `checked ${checked} Snappy blocks`);
  });
});

describe("TableWriter → TableReader", () => {
  const entries = Array.from({ length: 5000 }, (_, i): [Uint8Array, Uint8Array] => [
    bytes(`layer_${String(i).padStart(5, "0")}/kernel/.ATTRIBUTES/VARIABLE_VALUE`),
    noise(i % 97, i),
  ]);

  for (const compression of ["snappy", "none"] as const) {
    it(`writes many ${compression} blocks that read back in order, with get()`, () => {
      const writer = new TableWriter({ blockSize: 4096, compression });
      for (const [key, value] of entries) writer.add(key, value);
      const file = writer.finish();
      const table = TableReader.fromBytes(file, "many.index");
      assert.ok(table.blockCount > 50, `${table.blockCount} blocks`);
      const types = new Set(table.dataBlockLayout().map((b) => b.compression));
      assert.deepEqual(
        types,
        new Set([compression === "snappy" ? CompressionType.Snappy : CompressionType.None]),
      );
      const read = [...table.entries()];
      assert.equal(read.length, entries.length);
      read.forEach(([key, value], i) => {
        assert.deepEqual(key, entries[i]![0]);
        assert.deepEqual(new Uint8Array(value), entries[i]![1]);
      });
      for (const [key, value] of entries.filter((_, i) => i % 37 === 0)) {
        assert.deepEqual(new Uint8Array(table.get(key)!), value);
      }
      assert.equal(table.get(bytes("layer_00001/kernel")), undefined);
      assert.equal(table.get(bytes("zzz")), undefined);
      assert.equal(table.get(new Uint8Array(0)), undefined);
    });
  }

  it("keeps a block raw when Snappy saves less than 1/8", () => {
    const writer = new TableWriter();
    writer.add(bytes("k"), noise(1000, 3));
    const table = TableReader.fromBytes(writer.finish(), "raw.index");
    assert.deepEqual(
      table.dataBlockLayout().map((b) => b.compression),
      [CompressionType.None],
    );
  });

  it("writes an empty table: empty index, 8-byte metaindex, footer", () => {
    const file = new TableWriter().finish();
    assert.equal(file.length, 13 + 13 + 48);
    assert.deepEqual([...TableReader.fromBytes(file, "empty.index").entries()], []);
  });

  it("rejects keys out of order", () => {
    const writer = new TableWriter();
    writer.add(bytes("b"), new Uint8Array(0));
    assert.throws(() => writer.add(bytes("a"), new Uint8Array(0)), /strictly increasing/);
    assert.throws(() => writer.add(bytes("b"), new Uint8Array(0)), /strictly increasing/);
  });

  it("sorts keys bytewise", () => {
    assert.ok(compareBytes(bytes(""), bytes("\u0000")) < 0);
    assert.ok(compareBytes(bytes("_C"), bytes("a")) < 0);
    assert.ok(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80)) < 0);
    assert.equal(compareBytes(bytes("ab"), bytes("ab")), 0);
  });
});

describe("TableReader on TF's files", () => {
  it("opens every fixture variables.index and verifies every block", needsFixtures, async () => {
    const files = await fixtureIndexFiles();
    assert.ok(files.length >= 25, `${files.length} index files`);
    for (const path of files) {
      const table = await TableReader.open(path);
      const keys = [...table.entries()].map(([key]) => key);
      assert.ok(keys.length >= 2, path);
      assert.equal(keys[0]!.length, 0, `${path}: the header comes first`);
    }
  });

  it("matches the worked example of saved_model_half_plus_two_tf2_cpu", needsFixtures, async () => {
    const path = join(tfServingModel("saved_model_half_plus_two_tf2_cpu"), "variables/variables.index");
    const file = await readFile(path);
    assert.equal(file.length, 239);
    const footer = decodeFooter(file.subarray(file.length - 48));
    assert.deepEqual(footer, { metaindex: { offset: 158, size: 8 }, index: { offset: 171, size: 15 } });
    assert.equal(file[153], CompressionType.Snappy);
    const table = TableReader.fromBytes(file, path);
    const keys = [...table.entries()].map(([k]) => new TextDecoder().decode(k));
    assert.deepEqual(keys, [
      "",
      "_CHECKPOINTABLE_OBJECT_GRAPH",
      "a/.ATTRIBUTES/VARIABLE_VALUE",
      "b/.ATTRIBUTES/VARIABLE_VALUE",
      "c/.ATTRIBUTES/VARIABLE_VALUE",
    ]);
    assert.equal(158 + 8 + BLOCK_TRAILER_SIZE, 171);
  });
});

describe("TableReader on damaged bytes", () => {
  const good = (): Uint8Array => {
    const writer = new TableWriter();
    for (let i = 0; i < 50; i++) writer.add(bytes(`key${i + 100}`), bytes(`value ${i}`));
    return writer.finish();
  };

  it("reports a flipped byte in a data block as a checksum mismatch with the block's place", () => {
    const file = good();
    file[10]! ^= 0x40;
    assert.throws(
      () => [...TableReader.fromBytes(file, "/m/variables/variables.index").entries()],
      expectDataLoss(
        /^\/m\/variables\/variables\.index: block at offset 0 \(\d+ bytes\): checksum mismatch \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/,
      ),
    );
  });

  it("reports a flipped byte in the index block or in a trailer", () => {
    const file = good();
    const { index } = decodeFooter(file.subarray(file.length - 48));
    const indexCopy = file.slice();
    indexCopy[index.offset + 1]! ^= 1;
    assert.throws(
      () => TableReader.fromBytes(indexCopy, "x.index"),
      expectDataLoss(/x\.index: index block at offset \d+ .*checksum mismatch/),
    );
    const trailerCopy = file.slice();
    trailerCopy[index.offset + index.size + 2]! ^= 1;
    assert.throws(() => TableReader.fromBytes(trailerCopy, "x.index"), expectDataLoss(/checksum mismatch/));
  });

  it("reports a bad magic number, a truncated file and handles past the end", () => {
    const file = good();
    const badMagic = file.slice();
    badMagic[file.length - 1]! ^= 0xff;
    assert.throws(
      () => TableReader.fromBytes(badMagic, "x.index"),
      expectDataLoss(/^x\.index: bad magic number in footer$/),
    );
    assert.throws(
      () => TableReader.fromBytes(file.subarray(0, 40), "x.index"),
      expectDataLoss(/^x\.index: truncated file \(40 bytes, footer needs 48\)$/),
    );
    // Dropping bytes before an intact footer leaves handles pointing past the blocks.
    const shortened = new Uint8Array([...file.subarray(0, 20), ...file.subarray(file.length - 48)]);
    assert.throws(
      () => TableReader.fromBytes(shortened, "x.index"),
      expectDataLoss(/extends past the end of the blocks/),
    );
  });
});
