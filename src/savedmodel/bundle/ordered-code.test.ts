import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeTensorNameSlice,
  encodeTensorNameSlice,
  readNumIncreasing,
  readSignedNumIncreasing,
  readString,
  writeNumIncreasing,
  writeSignedNumIncreasing,
  writeString,
} from "./ordered-code.js";

const hex = (bytes: number[] | Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("OrderedCode", () => {
  it("encodes unsigned numbers as length byte + big-endian value", () => {
    const cases: [bigint, string][] = [
      [0n, "00"],
      [1n, "0101"],
      [255n, "01ff"],
      [256n, "020100"],
      [0xffff_ffff_ffff_ffffn, "08ffffffffffffffff"],
    ];
    for (const [value, expected] of cases) {
      const out: number[] = [];
      writeNumIncreasing(out, value);
      assert.equal(hex(out), expected);
      assert.deepEqual(readNumIncreasing(Uint8Array.from(out), 0), [value, out.length]);
    }
  });

  it("encodes signed numbers as in ordered_code.cc's examples", () => {
    const cases: [bigint, string][] = [
      [0n, "80"],
      [1n, "81"],
      [-1n, "7f"],
      [63n, "bf"],
      [-64n, "40"],
      [64n, "c040"],
      [-65n, "3fbf"],
      [0x424242n, "f0424242"], // "Example 1" in ordered_code.cc
      [-0x800n, "3800"], // "Example 2"
      [(1n << 63n) - 1n, "ffc07fffffffffffffff"],
      [-(1n << 63n), "003f8000000000000000"],
    ];
    for (const [value, expected] of cases) {
      const out: number[] = [];
      writeSignedNumIncreasing(out, value);
      assert.equal(hex(out), expected, `${value}`);
      assert.deepEqual(readSignedNumIncreasing(Uint8Array.from(out), 0), [value, out.length], `${value}`);
    }
  });

  it("keeps the order of signed numbers in the byte order of their encodings", () => {
    const values = [
      -(1n << 62n),
      -100000n,
      -8193n,
      -8192n,
      -65n,
      -64n,
      -1n,
      0n,
      1n,
      63n,
      64n,
      8191n,
      8192n,
      1n << 40n,
    ];
    const encoded = values.map((v) => {
      const out: number[] = [];
      writeSignedNumIncreasing(out, v);
      return Buffer.from(out);
    });
    for (let i = 1; i < encoded.length; i++)
      assert.ok(Buffer.compare(encoded[i - 1]!, encoded[i]!) < 0, `${values[i]}`);
    for (const [i, v] of values.entries()) assert.equal(readSignedNumIncreasing(encoded[i]!, 0)![0], v);
  });

  it("escapes 0x00 and 0xff in strings and ends them with 00 01", () => {
    const out: number[] = [];
    writeString(out, Uint8Array.of(0x00, 0x13, 0xff));
    assert.equal(hex(out), "00ff13ff000001"); // F(x) in ordered_code.cc's comment
    assert.deepEqual(readString(Uint8Array.from(out), 0), [Uint8Array.of(0x00, 0x13, 0xff), out.length]);
  });

  it("builds EncodeTensorNameSlice keys and decodes them", () => {
    const key = encodeTensorNameSlice("w", [
      { start: 0, length: 2 },
      { start: 0, length: -1 },
    ]);
    // 0 · "w" 00 01 · rank 2 · (0, 2) · (0, -1 = whole dimension)
    assert.equal(hex(key), "00" + "770001" + "0102" + "8082" + "807f");
    assert.deepEqual(decodeTensorNameSlice(key), {
      name: Uint8Array.of(0x77),
      extents: [
        { start: 0, length: 2 },
        { start: 0, length: -1 },
      ],
    });
    const big = encodeTensorNameSlice("layer/kernel", [
      { start: 100000, length: 5000 },
      { start: 3, length: 1 },
    ]);
    assert.deepEqual(decodeTensorNameSlice(big)?.extents, [
      { start: 100000, length: 5000 },
      { start: 3, length: 1 },
    ]);
    assert.equal(decodeTensorNameSlice(new TextEncoder().encode("a/b")), undefined);
  });
});
