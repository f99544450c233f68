import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { crc32c, maskCrc } from "./crc32c.js";
import { encodeTFRecord, readTFRecordFile, writeTFRecordFile } from "./tfrecord.js";

const freshDir = useScratchDir("tfrecord");
const bytes = (text: string) => new TextEncoder().encode(text);

async function readAll(path: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const record of readTFRecordFile(path)) out.push(record.slice());
  return out;
}

const dataLossWith = (message: string) => (error: unknown) => {
  assert.ok(error instanceof ServingError, String(error));
  assert.equal(error.code, Code.DATA_LOSS);
  assert.equal(error.message, message);
  return true;
};

describe("TFRecord files", () => {
  it("frames a record as TF does: length, masked crc of the length, payload, masked crc of the payload", () => {
    const framed = encodeTFRecord(bytes("hello"));
    const view = new DataView(framed.buffer);
    assert.equal(framed.byteLength, 12 + 5 + 4);
    assert.equal(view.getBigUint64(0, true), 5n);
    assert.equal(view.getUint32(8, true), maskCrc(crc32c(framed.subarray(0, 8))));
    assert.deepEqual(framed.subarray(12, 17), bytes("hello"));
    assert.equal(view.getUint32(17, true), maskCrc(crc32c(bytes("hello"))));
    assert.equal(view.getUint32(8, true), 0x3e04b2ea); // independent values, as below
    assert.equal(view.getUint32(17, true), 0x191c1fbb);
    // An empty record; the bytes come from an independent bitwise CRC-32C (Python), not from crc32c.ts.
    assert.deepEqual(
      Array.from(encodeTFRecord(new Uint8Array(0))),
      [0, 0, 0, 0, 0, 0, 0, 0, 41, 3, 152, 7, 216, 234, 130, 162],
    );
  });

  it("round-trips empty, small and multi-chunk records through a file", async () => {
    const path = join(freshDir(), "sub", "records.tfrecord");
    const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
    const records = [
      bytes("a"),
      new Uint8Array(0),
      big,
      bytes("last"),
      ...Array.from({ length: 5000 }, (_, i) => bytes(`r${i}`)),
    ];
    await writeTFRecordFile(path, records);
    const read = await readAll(path);
    assert.equal(read.length, records.length);
    for (const [i, record] of read.entries()) assert.deepEqual(record, records[i], `record ${i}`);
  });

  it("reads an empty file as no records", async () => {
    const path = join(freshDir(), "empty");
    await writeTFRecordFile(path, []);
    assert.deepEqual(await readAll(path), []);
  });

  it("reports truncation and checksum mismatches as DATA_LOSS with TF's messages", async () => {
    const dir = freshDir();
    const good = Buffer.concat([encodeTFRecord(bytes("first")), encodeTFRecord(bytes("second"))]);
    const second = encodeTFRecord(bytes("first")).byteLength; // offset of the second record
    const write = async (name: string, content: Uint8Array) => {
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    };
    await writeTFRecordFile(join(dir, "good"), [bytes("first"), bytes("second")]);
    assert.deepEqual(await readFile(join(dir, "good")), good);

    const truncatedHeader = await write("th", good.subarray(0, second + 5));
    await assert.rejects(readAll(truncatedHeader), dataLossWith(`truncated record at ${second}`));
    const truncatedPayload = await write("tp", good.subarray(0, good.byteLength - 1));
    await assert.rejects(readAll(truncatedPayload), dataLossWith(`truncated record at ${second}`));

    const badLength = Buffer.from(good);
    badLength[second] = badLength[second]! ^ 0x01;
    await assert.rejects(
      readAll(await write("bl", badLength)),
      dataLossWith(`corrupted record at ${second}`),
    );
    const badPayload = Buffer.from(good);
    badPayload[second + 13] = badPayload[second + 13]! ^ 0x40;
    await assert.rejects(
      readAll(await write("bp", badPayload)),
      dataLossWith(`corrupted record at ${second + 12}`),
    );

    // A huge (but checksummed) length must not allocate: it is a truncation.
    const huge = new Uint8Array(12);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    new DataView(huge.buffer).setUint32(8, maskCrc(crc32c(huge.subarray(0, 8))), true);
    await assert.rejects(readAll(await write("huge", huge)), dataLossWith("truncated record at 0"));

    // Not a TFRecord file at all (e.g. a bare serialized proto).
    await assert.rejects(
      readAll(await write("text", bytes("this is not a tfrecord file"))),
      dataLossWith("corrupted record at 0"),
    );
  });

  it("yields the records before a fault, and a missing file is NOT_FOUND", async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const path = join(dir, "partial");
    const good = encodeTFRecord(bytes("ok"));
    await writeFile(path, Buffer.concat([good, good.subarray(0, 3)]));
    const seen: string[] = [];
    await assert.rejects(
      async () => {
        for await (const record of readTFRecordFile(path)) seen.push(new TextDecoder().decode(record));
      },
      dataLossWith(`truncated record at ${good.byteLength}`),
    );
    assert.deepEqual(seen, ["ok"]);
    await assert.rejects(readAll(join(dir, "missing")), (error: unknown) => {
      assert.ok(error instanceof ServingError);
      assert.equal(error.code, Code.NOT_FOUND);
      return true;
    });
  });
});
