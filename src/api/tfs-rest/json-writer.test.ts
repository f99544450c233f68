import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ByteSink,
  formatFloat32,
  formatFloat64,
  isValidUtf8,
  PrettyJsonWriter,
  writeJsonString,
} from "./json-writer.js";

// An independent, slow reference for TF Serving's WriteDecimal: exact decimal expansions with BigInt,
// printf's round-half-even, "%g" layout, and correctly rounded read-back.

const view = new DataView(new ArrayBuffer(8));

/** mant·2^exp of a positive finite double. */
function bits(x: number): { mant: bigint; exp: bigint } {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  return biased === 0
    ? { mant: frac, exp: -1074n }
    : { mant: frac | (1n << 52n), exp: BigInt(biased - 1075) };
}

/** The exact decimal digits of a positive finite double, and its decimal exponent. */
function exactDecimal(x: number): { digits: string; exp: number } {
  const { mant, exp } = bits(x);
  let s: string;
  let point: number; // digits after the decimal point
  if (exp >= 0n) {
    s = (mant << exp).toString();
    point = 0;
  } else {
    s = (mant * 5n ** -exp).toString();
    point = Number(-exp);
  }
  const lead = s.match(/^0*/)![0].length;
  const digits = s.slice(lead).replace(/0+$/, "") || "0";
  return { digits, exp: s.length - lead - 1 - point };
}

/** Rounds exact digits to p significant digits, ties to even. */
function roundHalfEven(d: { digits: string; exp: number }, p: number): { digits: string; exp: number } {
  if (d.digits.length <= p) return { digits: d.digits.padEnd(p, "0"), exp: d.exp };
  let head = BigInt(d.digits.slice(0, p));
  const rest = d.digits.slice(p);
  const up = rest[0]! > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || head % 2n === 1n));
  if (up) head += 1n;
  let digits = head.toString();
  let exp = d.exp;
  if (digits.length > p) {
    digits = digits.slice(0, p);
    exp++;
  }
  return { digits, exp };
}

/** printf "%.{p}g" from rounded digits. */
function g(d: { digits: string; exp: number }, p: number): string {
  const digits = d.digits.replace(/0+$/, "") || "0";
  if (d.exp < -4 || d.exp >= p) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(d.exp);
    return `${mantissa}e${d.exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  if (d.exp >= 0) {
    const int = digits.slice(0, d.exp + 1).padEnd(d.exp + 1, "0");
    const frac = digits.slice(d.exp + 1);
    return frac ? `${int}.${frac}` : int;
  }
  return `0.${"0".repeat(-d.exp - 1)}${digits}`;
}

/** Exact sign of (decimal text) − x. */
function compare(text: string, x: number): number {
  const [mantissa, e = "0"] = text.split("e");
  const [int, frac = ""] = mantissa!.split(".");
  let num = BigInt(int! + frac);
  let den = 1n;
  const exp10 = Number(e) - frac.length;
  if (exp10 >= 0) num *= 10n ** BigInt(exp10);
  else den = 10n ** BigInt(-exp10);
  const { mant, exp } = bits(x);
  let left = num;
  let right = mant * den;
  if (exp >= 0n) right <<= exp;
  else left <<= -exp;
  return left > right ? 1 : left < right ? -1 : 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 nearest to a positive decimal text (ties to even), by exact comparison. */
function nearestFloat32(text: string): number {
  f32[0] = Number(text);
  const base = u32[0]!;
  let best = -1;
  let bestBits = 0;
  for (const b of [base - 1, base, base + 1]) {
    u32[0] = b;
    const c = f32[0]!;
    if (!Number.isFinite(c)) continue;
    if (best < 0) {
      best = c;
      bestBits = b;
      continue;
    }
    // Compare distances exactly: |t − c| vs |t − best| via the midpoint.
    const mid = (c + best) / 2; // exact in double for adjacent floats
    const side = compare(text, mid);
    const cIsAbove = c > best;
    if (side === 0 ? b % 2 === 0 : side > 0 === cIsAbove) {
      best = c;
      bestBits = b;
    }
  }
  void bestBits;
  return best;
}

function withDotZero(s: string): string {
  return s.includes(".") || s.includes("e") ? s : `${s}.0`;
}

function refFloat32(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const sign = v < 0 ? "-" : "";
  const a = Math.abs(v);
  const exact = exactDecimal(a);
  const six = g(roundHalfEven(exact, 6), 6);
  const text = nearestFloat32(six) === a ? six : g(roundHalfEven(exact, 9), 9);
  return sign + withDotZero(text);
}

function refFloat64(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const sign = v < 0 ? "-" : "";
  const a = Math.abs(v);
  const exact = exactDecimal(a);
  const six = g(roundHalfEven(exact, 6), 6);
  const text = Number(six) === a ? six : g(roundHalfEven(exact, 17), 17);
  return sign + withDotZero(text);
}

let seed = 12345;
function rnd32(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed;
}

describe("float text as TF Serving's WriteDecimal", () => {
  it("matches json_tensor_test.cc's expectations", () => {
    const cases: [number, string][] = [
      [9000000, "9e+06"],
      [999999, "999999.0"],
      [0.5, "0.5"],
      [0.0003, "0.0003"],
      [0.00003, "3e-05"],
      [555557.5, "555557.5"],
      [3, "3.0"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [Number.NEGATIVE_INFINITY, "-Infinity"],
    ];
    for (const [v, text] of cases) assert.equal(formatFloat32(v), text, String(v));
    assert.equal(formatFloat64(8), "8.0");
    assert.equal(formatFloat64(0.2), "0.2");
  });

  it("writes float32 values with %g when they read back, else %.9g", () => {
    assert.equal(formatFloat32(0.1), "0.1");
    assert.equal(formatFloat32(1 / 3), "0.333333343");
    assert.equal(formatFloat32(2.5), "2.5");
    assert.equal(formatFloat32(-0), "-0.0");
    assert.equal(formatFloat32(16777216), "16777216.0");
    assert.equal(formatFloat32(1234567), "1234567.0");
    assert.equal(formatFloat32(1e10), "1e+10");
    assert.equal(formatFloat32(3.4028234663852886e38), "3.40282347e+38");
    assert.equal(formatFloat32(1e-45), "1.4013e-45");
    assert.equal(formatFloat32(123456.7), "123456.703");
    // An exact tie at the 9th digit rounds to even, as printf does (toPrecision would give ...063).
    assert.equal(formatFloat32(524288.0625), "524288.062");
    assert.equal(formatFloat32(524288.1875), "524288.188");
  });

  it("writes doubles with %g when they read back, else %.17g", () => {
    assert.equal(formatFloat64(0.1 + 0.2), "0.30000000000000004");
    assert.equal(formatFloat64(1 / 3), "0.33333333333333331");
    assert.equal(formatFloat64(1e300), "1e+300");
    assert.equal(formatFloat64(5e-324), "4.94066e-324");
    assert.equal(formatFloat64(123456789), "123456789.0");
    assert.equal(formatFloat64(2 ** 60), "1.152921504606847e+18");
    assert.equal(formatFloat64(125000000000000 + 0.125), "125000000000000.12"); // a tie: to even
    assert.equal(formatFloat64(-1.7976931348623157e308), "-1.7976931348623157e+308");
  });

  it("agrees with an exact reference on random float32 bit patterns", () => {
    for (let i = 0; i < 3000; i++) {
      u32[0] = rnd32();
      const v = f32[0]!;
      assert.equal(formatFloat32(v), refFloat32(v), `bits 0x${u32[0]!.toString(16)}`);
    }
  });

  it("agrees with the reference on round decimals, integers, ties and subnormals", () => {
    const values: number[] = [];
    for (let k = -45; k <= 38; k++) values.push(10 ** k, 1.5 * 10 ** k, 9.999995 * 10 ** k);
    for (let i = 0; i < 500; i++)
      values.push((rnd32() % 2000000) / 1000, rnd32() % 100000000, (rnd32() % 65536) / 16);
    for (let e = 1; e < 40; e++) values.push(2 ** 19 + 2 ** -e, 2 ** 23 - 2 ** -e, 2 ** -e * 3);
    for (const x of values) {
      const v = Math.fround(x);
      assert.equal(formatFloat32(v), refFloat32(v), String(v));
      assert.equal(formatFloat32(-v), refFloat32(-v), String(-v));
    }
  });

  it("agrees with the reference on random doubles", () => {
    const f64 = new Float64Array(1);
    const words = new Uint32Array(f64.buffer);
    for (let i = 0; i < 1500; i++) {
      words[0] = rnd32();
      words[1] = rnd32();
      const v = f64[0]!;
      if (Number.isNaN(v)) continue;
      assert.equal(formatFloat64(v), refFloat64(v), String(v));
    }
    for (const v of [0.1, 1e21, 1e22, 1e23, 123456.75, 0.000123456, 2 ** 51 + 0.5, 2 ** 53 + 2]) {
      assert.equal(formatFloat64(v), refFloat64(v), String(v));
    }
  });
});

describe("strings", () => {
  const str = (bytes: Uint8Array) => {
    const sink = new ByteSink();
    writeJsonString(sink, bytes);
    return sink.toString();
  };

  it("escapes as rapidjson does (upper-case \\u00XX), other bytes raw", () => {
    assert.equal(str(Buffer.from('a"b\\c/d\x7f')), '"a\\"b\\\\c/d\x7f"');
    assert.equal(str(Buffer.from("\b\f\n\r\t\x00\x01\x1f")), '"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001F"');
    assert.equal(str(Buffer.from("héllo 😀")), '"héllo 😀"');
  });

  it("validates UTF-8 strictly", () => {
    assert.equal(isValidUtf8(Buffer.from("héllo 😀 ✓")), true);
    for (const bad of [
      [0xff],
      [0xc0, 0x80],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      assert.equal(isValidUtf8(new Uint8Array(bad)), false, String(bad));
    }
  });
});

describe("PrettyJsonWriter", () => {
  it("lays out like rapidjson's PrettyWriter, with single-line arrays on demand", () => {
    const w = new PrettyJsonWriter();
    w.startObject();
    w.key("a");
    w.startArray();
    w.raw("1");
    w.startArray();
    w.endArray();
    w.singleLineArrays = true;
    w.startArray();
    w.raw("2");
    w.raw("3");
    w.endArray();
    w.singleLineArrays = false;
    w.endArray();
    w.key("b");
    w.startObject();
    w.endObject();
    w.endObject();
    assert.equal(w.toString(), '{\n    "a": [\n        1,\n        [], [2, 3]\n    ],\n    "b": {}\n}');
  });
});
