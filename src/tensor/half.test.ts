import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bfloat16ToFloat, floatToBfloat16, floatToHalf, halfToFloat } from "./half.js";

/** Checks a 16-bit format exhaustively: every pattern round-trips, and every midpoint rounds to even. */
function checkFormat(
  toFloat: (bits: number) => number,
  fromFloat: (x: number) => number,
  infinityBits: number,
): void {
  for (let bits = 0; bits < 0x10000; bits++) {
    const x = toFloat(bits);
    const isNaNPattern = (bits & 0x7fff) > infinityBits;
    if (isNaNPattern) {
      assert.ok(Number.isNaN(x), `0x${bits.toString(16)} should be NaN`);
      continue;
    }
    assert.equal(fromFloat(x), bits, `round trip of 0x${bits.toString(16)} (${x})`);
  }
  // Between each pair of neighbouring positive finite values: the midpoint ties to the even pattern,
  // and anything off the midpoint goes to the nearer value. Negative values mirror with the sign bit.
  // (Above the largest finite value, rounding to Infinity is checked in the encode tests.)
  for (let low = 0; low < infinityBits - 1; low++) {
    const a = toFloat(low);
    const b = toFloat(low + 1);
    const mid = (a + b) / 2;
    const even = low % 2 === 0 ? low : low + 1;
    assert.equal(fromFloat(mid), even, `midpoint above 0x${low.toString(16)}`);
    assert.equal(fromFloat(-mid), even | 0x8000, `negative midpoint above 0x${low.toString(16)}`);
    const nudge = (b - a) / 1024;
    assert.equal(fromFloat(mid - nudge), low);
    assert.equal(fromFloat(mid + nudge), low + 1);
  }
}

describe("half (binary16)", () => {
  it("decodes known patterns", () => {
    assert.equal(halfToFloat(0x3c00), 1);
    assert.equal(halfToFloat(0xc000), -2);
    assert.equal(halfToFloat(0x3555), 0.333251953125);
    assert.equal(halfToFloat(0x7bff), 65504);
    assert.equal(halfToFloat(0x0400), 2 ** -14);
    assert.equal(halfToFloat(0x03ff), 1023 * 2 ** -24);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.ok(Object.is(halfToFloat(0x8000), -0));
    assert.equal(halfToFloat(0x7c00), Infinity);
    assert.equal(halfToFloat(0xfc00), -Infinity);
    assert.ok(Number.isNaN(halfToFloat(0x7e00)));
    assert.ok(Number.isNaN(halfToFloat(0xfc01)));
  });

  it("encodes with round-to-nearest-even, overflow, underflow and NaN", () => {
    assert.equal(floatToHalf(1), 0x3c00);
    assert.equal(floatToHalf(0.1), 0x2e66);
    assert.equal(floatToHalf(65504), 0x7bff);
    assert.equal(floatToHalf(65519.99), 0x7bff);
    assert.equal(floatToHalf(65520), 0x7c00);
    assert.equal(floatToHalf(1e10), 0x7c00);
    assert.equal(floatToHalf(-Infinity), 0xfc00);
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie → even
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie → even (up)
    assert.equal(floatToHalf(2 ** -25), 0x0000); // tie between 0 and the smallest subnormal
    assert.equal(floatToHalf(1.5 * 2 ** -25), 0x0001);
    assert.equal(floatToHalf(1023.5 * 2 ** -24), 0x0400); // subnormal rounds up into the normals
    assert.equal(floatToHalf(1e-30), 0x0000);
    assert.equal(floatToHalf(-1e-30), 0x8000);
    assert.equal(floatToHalf(-0), 0x8000);
    assert.equal(floatToHalf(Number.MIN_VALUE), 0x0000);
    assert.equal(floatToHalf(Number.NaN), 0x7e00);
    assert.equal(floatToHalf(Number.MAX_VALUE), 0x7c00);
  });

  it("round-trips all 65536 patterns and rounds every midpoint to even", () => {
    checkFormat(halfToFloat, floatToHalf, 0x7c00);
  });
});

describe("bfloat16", () => {
  it("decodes known patterns", () => {
    assert.equal(bfloat16ToFloat(0x3f80), 1);
    assert.equal(bfloat16ToFloat(0xc040), -3);
    assert.equal(bfloat16ToFloat(0x7f7f), 3.3895313892515355e38);
    assert.equal(bfloat16ToFloat(0x0001), 2 ** -133);
    assert.equal(bfloat16ToFloat(0x7f80), Infinity);
    assert.equal(bfloat16ToFloat(0xff80), -Infinity);
    assert.ok(Number.isNaN(bfloat16ToFloat(0x7fc0)));
  });

  it("encodes with round-to-nearest-even, overflow and NaN", () => {
    assert.equal(floatToBfloat16(1), 0x3f80);
    assert.equal(floatToBfloat16(1 + 2 ** -8), 0x3f80); // tie → even
    assert.equal(floatToBfloat16(1 + 3 * 2 ** -8), 0x3f82);
    assert.equal(floatToBfloat16(0.1), 0x3dcd);
    assert.equal(floatToBfloat16(3.4e38), 0x7f80); // above the largest bfloat16 by more than half a step
    assert.equal(floatToBfloat16(-0), 0x8000);
    assert.equal(floatToBfloat16(Number.NaN), 0x7fc0);
  });

  it("matches rounding the float32 bit pattern for float32 inputs", () => {
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    let seed = 12345;
    for (let i = 0; i < 20000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      u32[0] = seed;
      if (Number.isNaN(f32[0]!)) continue;
      const bits = u32[0]!;
      const expected = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16; // TF's float → bfloat16 RNE
      assert.equal(floatToBfloat16(f32[0]!), expected & 0xffff, `0x${bits.toString(16)}`);
    }
  });

  it("round-trips all 65536 patterns and rounds every midpoint to even", () => {
    checkFormat(bfloat16ToFloat, floatToBfloat16, 0x7f80);
  });
});
