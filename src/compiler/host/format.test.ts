import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DataType } from "../../tensor/dtype.js";
import { Tensor } from "../../tensor/tensor.js";
import { parseTfFloat, parseTfInt } from "./format.js";
import {
  attr,
  f32,
  f64,
  i32,
  i64,
  makeNode,
  nums,
  runTensors,
  shapeOf,
  str,
  texts,
} from "./host.test-helpers.js";

type AsStringAttrs = {
  precision?: number;
  scientific?: boolean;
  shortest?: boolean;
  width?: number;
  fill?: string;
};

function asString(t: Tensor, a: AsStringAttrs = {}): string[] {
  const node = makeNode("AsString", {
    T: attr.type(t.dtype),
    precision: attr.int(a.precision ?? -1),
    scientific: attr.bool(a.scientific ?? false),
    shortest: attr.bool(a.shortest ?? false),
    width: attr.int(a.width ?? -1),
    fill: attr.string(a.fill ?? ""),
  });
  return texts(runTensors(node, [t])[0]);
}

describe("AsString", () => {
  it("matches the documented examples", () => {
    // tf.strings.as_string([3, 2]) → [b'3', b'2']
    assert.deepEqual(asString(i32([3, 2])), ["3", "2"]);
    // tf.strings.as_string([3.1415926, 2.71828], precision=2) → [b'3.14', b'2.72']
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the documented example's own values
    const docValues = [3.1415926, 2.71828];
    assert.deepEqual(asString(f32(docValues), { precision: 2 }), ["3.14", "2.72"]);
  });

  it("formats floats as printf's %f by default (six decimals), %g when shortest, %e when scientific", () => {
    assert.deepEqual(asString(f32([3.5, -0, 1e10])), ["3.500000", "-0.000000", "10000000000.000000"]);
    assert.deepEqual(
      asString(f32([3.5, 0.1, 1e10, 123456789, 0.0001, 0.00001, 100000, 1000000]), { shortest: true }),
      ["3.5", "0.1", "1e+10", "1.23457e+08", "0.0001", "1e-05", "100000", "1e+06"],
    );
    assert.deepEqual(asString(f64([1234.5, 0]), { scientific: true }), ["1.234500e+03", "0.000000e+00"]);
    assert.deepEqual(asString(f32([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])), [
      "nan",
      "inf",
      "-inf",
    ]);
  });

  it("rounds the exact binary value half to even, as glibc does", () => {
    // 0.125 and 2.5 are exact ties (to even); 0.375 rounds up; 0.0009995 is just below its tie.
    assert.deepEqual(asString(f64([0.125, 0.375]), { precision: 2 }), ["0.12", "0.38"]);
    assert.deepEqual(asString(f64([2.5, 3.5]), { precision: 0 }), ["2", "4"]);
    assert.deepEqual(asString(f64([0.0009995]), { precision: 3, shortest: true }), ["0.000999"]);
    // float32 0.1 is 0.100000001490116...
    assert.deepEqual(asString(f32([0.1]), { precision: 10 }), ["0.1000000015"]);
  });

  it("pads to width with the fill flag", () => {
    assert.deepEqual(asString(i32([7, -7]), { width: 3, fill: "0" }), ["007", "-07"]);
    assert.deepEqual(asString(i64([42]), { width: 5 }), ["   42"]);
    assert.deepEqual(asString(i64([42]), { width: 5, fill: "-" }), ["42   "]);
    assert.deepEqual(asString(f32([1.5]), { width: 10, precision: 1, fill: "0" }), ["00000001.5"]);
  });

  it("writes bools as true/false and keeps the shape", () => {
    const t = new Tensor(DataType.DT_BOOL, [2, 1], Uint8Array.from([1, 0]));
    const node = makeNode("AsString", { T: attr.type(DataType.DT_BOOL) });
    const [out] = runTensors(node, [t]);
    assert.deepEqual(texts(out), ["true", "false"]);
    assert.deepEqual(shapeOf(out), [2, 1]);
  });

  it("rejects float-only attrs on integers, as TF does", () => {
    assert.throws(() => asString(i32([1]), { precision: 2 }), {
      message: "precision not supported for datatype int32",
    });
    assert.throws(() => asString(i32([1]), { shortest: true }), {
      message: "scientific and shortest format not supported for datatype int32",
    });
    assert.throws(() => asString(f32([1]), { shortest: true, scientific: true }), {
      message: "Cannot select both scientific and shortest notation",
    });
  });
});

describe("StringToNumber", () => {
  const toNumber = (values: string[], outType: DataType) =>
    runTensors(makeNode("StringToNumber", { out_type: attr.type(outType) }), [str(values)])[0]!;

  it("parses floats, doubles and integers with surrounding spaces", () => {
    const f = toNumber(["3.14", " -2.5e3 ", "inf", "1e40", "0x10"], DataType.DT_FLOAT);
    assert.equal(f.dtype, DataType.DT_FLOAT);
    assert.deepEqual(nums(f), [
      Math.fround(3.14),
      -2500,
      Number.POSITIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      16,
    ]);
    assert.deepEqual(nums(toNumber(["0.1"], DataType.DT_DOUBLE)), [0.1]);
    assert.deepEqual(nums(toNumber([" 12 ", "-2147483648"], DataType.DT_INT32)), [12, -2147483648]);
    assert.deepEqual(nums(toNumber(["9007199254740993"], DataType.DT_INT64)), [9007199254740992]);
    assert.equal(
      (toNumber(["9007199254740993"], DataType.DT_INT64).values as BigInt64Array)[0],
      9007199254740993n,
    );
  });

  it("rounds decimal strings to float32 directly, without double rounding", () => {
    // 1 + 2^-24 (the float32 midpoint above 1) plus a hair: the nearest double is the midpoint itself,
    // which would round to 1 (even); the exact value rounds up.
    assert.equal(parseTfFloat("1.00000005960464477550", true), 1.0000001192092896);
    assert.equal(parseTfFloat("1.000000059604644775390625", true), 1); // exact tie → even
    assert.equal(parseTfFloat("1.00000005960464477500", true), 1);
  });

  it("rejects what TF's safe_strto* reject", () => {
    assert.throws(() => toNumber(["abc"], DataType.DT_FLOAT), {
      message: "StringToNumberOp could not correctly convert string: abc",
    });
    assert.throws(() => toNumber(["2147483648"], DataType.DT_INT32), {
      message: "StringToNumberOp could not correctly convert string: 2147483648",
    });
    assert.equal(parseTfInt("1.5", 64), undefined);
    assert.equal(parseTfInt("", 64), undefined);
    assert.equal(parseTfFloat("", true), undefined);
    assert.equal(parseTfFloat("1.5x", true), undefined);
  });
});
