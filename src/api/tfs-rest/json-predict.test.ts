import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code, ServingError } from "../../errors.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { floatToBfloat16, floatToHalf } from "../../tensor/half.js";
import { Tensor } from "../../tensor/tensor.js";
import { parsePredictRequest, writePredictResponse } from "./json-predict.js";
import { JsonSyntaxError } from "./json-reader.js";

const {
  DT_FLOAT,
  DT_DOUBLE,
  DT_INT32,
  DT_INT16,
  DT_INT8,
  DT_UINT8,
  DT_UINT16,
  DT_UINT32,
  DT_INT64,
  DT_UINT64,
  DT_BOOL,
  DT_STRING,
  DT_HALF,
  DT_BFLOAT16,
  DT_COMPLEX64,
} = DataType;

function sig(inputs: Record<string, DataType>): SignatureDef {
  return create(SignatureDefSchema, {
    inputs: Object.fromEntries(Object.entries(inputs).map(([name, dtype]) => [name, { dtype }])),
    methodName: "tensorflow/serving/predict",
  });
}

function parseOne(body: string, dtype: DataType): Tensor {
  const { inputs } = parsePredictRequest(body, sig({ x: dtype }));
  return inputs.get("x")!;
}

function rejects(
  body: string,
  signature: SignatureDef,
  message: string | RegExp,
  code = Code.INVALID_ARGUMENT,
): void {
  assert.throws(
    () => parsePredictRequest(body, signature),
    (e: unknown) => {
      assert.ok(e instanceof ServingError, String(e));
      assert.equal(e.code, code, e.message);
      if (typeof message === "string") assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

const text = (t: Tensor) => t.strings.map((b) => Buffer.from(b).toString("latin1"));
const floats = (values: number[]) => new Tensor(DT_FLOAT, [values.length], new Float32Array(values));

describe("predict request: row format (instances)", () => {
  it("reads half_plus_two's request into a batch of 3", () => {
    const { format, inputs, signatureName } = parsePredictRequest(
      '{"instances": [1.0, 2.0, 5.0]}',
      sig({ x: DT_FLOAT }),
    );
    assert.equal(format, "row");
    assert.equal(signatureName, undefined);
    const x = inputs.get("x")!;
    assert.equal(x.dtype, DT_FLOAT);
    assert.deepEqual(x.shape, [3]);
    assert.deepEqual(x.data, new Float32Array([1, 2, 5]));
  });

  it("batches lists: the batch dimension is the instance count", () => {
    const x = parseOne('{"instances": [[1,2],[3,4],[5,6]]}', DT_INT32);
    assert.deepEqual(x.shape, [3, 2]);
    assert.deepEqual(x.data, new Int32Array([1, 2, 3, 4, 5, 6]));
    const y = parseOne('{"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}', DT_FLOAT);
    assert.deepEqual(y.data, new Float32Array([1, 2, 3, 4, 5.003, 0.007, 0]));
  });

  it("reads named multi-input rows (json_tensor_test.cc MultipleNamedTensor)", () => {
    const { inputs } = parsePredictRequest(
      `{"instances": [
        {"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN], "dbl_tensor": [NaN]},
        {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}
      ]}`,
      sig({ int_tensor: DT_INT32, str_tensor: DT_STRING, float_tensor: DT_FLOAT, dbl_tensor: DT_DOUBLE }),
    );
    const ints = inputs.get("int_tensor")!;
    assert.deepEqual(ints.shape, [2, 3, 2]);
    assert.deepEqual(ints.data, new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]));
    const strs = inputs.get("str_tensor")!;
    assert.deepEqual(strs.shape, [2, 2]);
    assert.deepEqual(text(strs), ["foo", "bar", "baz", "bat"]);
    const fl = inputs.get("float_tensor")!;
    assert.deepEqual(fl.shape, [2, 2]);
    assert.deepEqual([...fl.values], [1, Number.NaN, 2, Infinity]);
    const dbl = inputs.get("dbl_tensor")!;
    assert.deepEqual(dbl.shape, [2, 1]);
    assert.ok(dbl.data instanceof Float64Array && Number.isNaN(dbl.data[0]) && dbl.data[1] === 2);
  });

  it("accepts objects keyed by the only input's name", () => {
    const x = parseOne('{"instances": [{"x": [1, 2]}, {"x": [3, 4]}]}', DT_INT64);
    assert.deepEqual(x.shape, [2, 2]);
    assert.deepEqual(x.data, new BigInt64Array([1n, 2n, 3n, 4n]));
  });

  it("rejects ragged rows with TF's messages", () => {
    const s = sig({ x: DT_INT32 });
    rejects(
      '{"instances": [[1,2],[3,4],[5,6,7]]}',
      s,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3",
    );
    rejects(
      '{"instances": [[1,2],[3,4],[[5,6]]]}',
      s,
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]",
    );
    rejects('{"instances": [1, [1]]}', s, /Expecting shape \[\] but got: \[1\]/);
    rejects(
      '{"instances": [[[1,2],[3]]]}',
      s,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: Encountered list at unexpected size: 1 at level: 1 expected size: 2",
    );
    rejects(
      '{"instances": [[[1,2],3]]}',
      s,
      /JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2/,
    );
    rejects('{"instances": [[1,[2]]]}', s, /Encountered list at unexpected level: 1 expected < 1/);
    rejects(
      '{"instances": [[1,2],["a", "b"]]}',
      s,
      /JSON Value: "a" Type: String is not of expected type: int32/,
    );
  });

  it("checks objects against the signature's inputs", () => {
    const s = sig({ a: DT_INT32, b: DT_STRING });
    const ok = parsePredictRequest('{"instances": [{"a": 1, "b": "x"}, {"b": "y", "a": 2}]}', s);
    assert.deepEqual(ok.inputs.get("a")!.data, new Int32Array([1, 2]));
    assert.deepEqual(text(ok.inputs.get("b")!), ["x", "y"]);
    rejects(
      '{"instances": [{"a": 1}]}',
      s,
      `Failed to process element: 0 of 'instances' list. JSON object: {"a": 1} keys must be equal to: a,b`,
    );
    rejects(
      '{"instances": [{"a": 1, "b": "x", "c": 3}]}',
      s,
      "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: c",
    );
    rejects(
      '{"instances": [1, 2]}',
      s,
      "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map",
    );
    rejects(
      '{"instances": [{"a": 1, "b": "x"}, [1, 20]]}',
      s,
      "Expecting object but got list at item 1 of input list",
    );
    rejects(
      '{"instances": [["baz"], {"x": ["baz"]}]}',
      sig({ x: DT_STRING }),
      "Expecting value/list but got object at item 1 of input list",
    );
  });

  it("rejects a non-list or empty instances value", () => {
    const s = sig({ x: DT_FLOAT });
    rejects(
      '{"instances": {"x": 1}}',
      s,
      `JSON Value: {"instances": {"x": 1}} Excepting 'instances' to be an list/array`,
    );
    rejects('{"instances": []}', s, `JSON Value: {"instances": []} No values in 'instances' array`);
  });
});

describe("predict request: columnar format (inputs)", () => {
  it("reads a named map, a bare list and a bare scalar", () => {
    const s = sig({ int_tensor: DT_INT32 });
    for (const body of [
      '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]]}}',
      '{"inputs": [[[1,2],[3,4],[5,6]]]}',
    ]) {
      const { format, inputs } = parsePredictRequest(body, s);
      assert.equal(format, "columnar");
      const t = inputs.get("int_tensor")!;
      assert.deepEqual(t.shape, [1, 3, 2]);
      assert.deepEqual(t.data, new Int32Array([1, 2, 3, 4, 5, 6]));
    }
    const scalar = parseOne('{"inputs": 7.5}', DT_DOUBLE);
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual(scalar.data, new Float64Array([7.5]));
  });

  it("reads several inputs of different leading sizes, b64 scalars and ignores unknown names", () => {
    const { inputs } = parsePredictRequest(
      '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]], "extra": [1], "str_tensor": ["foo", "bar"], "bin_tensor": {"b64": "aGVsbG8="}}}',
      sig({ int_tensor: DT_INT32, str_tensor: DT_STRING, bin_tensor: DT_STRING }),
    );
    assert.deepEqual(inputs.get("int_tensor")!.shape, [1, 3, 2]);
    assert.deepEqual(text(inputs.get("str_tensor")!), ["foo", "bar"]);
    const bin = inputs.get("bin_tensor")!;
    assert.deepEqual(bin.shape, []);
    assert.deepEqual(text(bin), ["hello"]);
  });

  it("rejects a missing input and a plain value for several inputs", () => {
    const s = sig({ a: DT_INT32, b: DT_INT32 });
    rejects('{"inputs": {"a": [1]}}', s, "Missing named input: b in 'inputs' object.");
    rejects(
      '{"inputs": [1, 2]}',
      s,
      "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map",
    );
    rejects(
      '{"inputs": [[1, 2], [3]]}',
      sig({ x: DT_INT32 }),
      "Encountered list at unexpected size: 1 at level: 1 expected size: 2",
    );
    rejects(
      '{"inputs": [[1, 2], [3, 4, 5, 6]]}',
      sig({ x: DT_INT32 }),
      "Encountered list at unexpected size: 4 at level: 1 expected size: 2",
    );
  });

  it("handles empty lists and zero-size batches", () => {
    let t = parseOne('{"inputs": []}', DT_FLOAT);
    assert.deepEqual(t.shape, [0]);
    assert.equal(t.data.length, 0);
    t = parseOne('{"inputs": [[], []]}', DT_INT64);
    assert.deepEqual(t.shape, [2, 0]);
    t = parseOne('{"inputs": [[[]]]}', DT_STRING);
    assert.deepEqual(t.shape, [1, 1, 0]);
    t = parseOne('{"instances": [[], [], []]}', DT_BOOL);
    assert.deepEqual(t.shape, [3, 0]);
    rejects(
      '{"inputs": [[], [1]]}',
      sig({ x: DT_FLOAT }),
      "Encountered list at unexpected size: 1 at level: 1 expected size: 0",
    );
  });
});

describe("predict request: top level", () => {
  it("needs exactly one of instances / inputs", () => {
    const s = sig({ x: DT_INT32 });
    rejects(
      '{"instances": [1], "inputs": [1]}',
      s,
      `JSON Value: {"instances": [1], "inputs": [1]} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist `,
    );
    rejects('{"signature_name": "serving_default"}', s, "Missing 'inputs' or 'instances' key");
    rejects('{"instances": [1], "signature_name": 5}', s, /'signature_name' key must be a string value\.$/);
    rejects("[1, 2]", s, "JSON Value: [1, 2] Is not object");
  });

  it("reports invalid JSON with byte offsets, before any other error", () => {
    const s = sig({ x: DT_INT32 });
    rejects("", s, "JSON Parse error: The document is empty");
    rejects('{"instances": [1, 2,]}', s, "JSON Parse error: Invalid value. at offset: 20");
    rejects('{"instances": [1.5], "x": tru}', s, "JSON Parse error: Invalid value. at offset: 29");
    rejects(
      '{"instances": [1]} []',
      s,
      "JSON Parse error: The document root must not be followed by other values. at offset: 19",
    );
    rejects(
      '{"signature_name": 5, "instances": [1], "inputs": [1], "y": [}',
      s,
      /^JSON Parse error: .* at offset: 61$/,
    );
  });

  it("refuses deep nesting", () => {
    const body = `{"inputs": ${"[".repeat(600)}1${"]".repeat(600)}}`;
    assert.throws(
      () => parsePredictRequest(body, sig({ x: DT_FLOAT })),
      (e: unknown) =>
        e instanceof JsonSyntaxError && /Nesting is deeper than the limit of 512 levels/.test(e.message),
    );
    assert.deepEqual(
      parsePredictRequest(body, sig({ x: DT_FLOAT }), { maxDepth: 1000 }).inputs.get("x")!.rank,
      600,
    );
  });

  it("resolves signature_name wherever it appears, before reading tensors with its dtypes", () => {
    const signatures: Record<string, SignatureDef> = {
      serving_default: sig({ x: DT_FLOAT }),
      ints: sig({ x: DT_INT64 }),
    };
    const resolve = (name: string | undefined) => {
      const found = signatures[name || "serving_default"];
      if (!found)
        throw new ServingError(
          Code.INVALID_ARGUMENT,
          `Serving signature name: "${name}" not found in signature def`,
        );
      return found;
    };
    const before = parsePredictRequest(
      '{"signature_name": "ints", "instances": [9007199254740993]}',
      resolve,
    );
    assert.equal(before.signatureName, "ints");
    assert.deepEqual(before.inputs.get("x")!.data, new BigInt64Array([9007199254740993n]));
    const after = parsePredictRequest('{"instances": [9007199254740993], "signature_name": "ints"}', resolve);
    assert.deepEqual(after.inputs.get("x")!.data, new BigInt64Array([9007199254740993n]));
    const dflt = parsePredictRequest('{"instances": [1.5]}', resolve);
    assert.deepEqual(dflt.inputs.get("x")!.data, new Float32Array([1.5]));
    // A wrong dtype for the default signature is no error when the named one fits.
    const late = parsePredictRequest('{"instances": [1.5], "signature_name": "serving_default"}', resolve);
    assert.deepEqual(late.inputs.get("x")!.data, new Float32Array([1.5]));
    assert.throws(
      () => parsePredictRequest('{"instances": [1], "signature_name": "nope"}', resolve),
      /Serving signature name: "nope" not found in signature def/,
    );
    assert.throws(
      () => parsePredictRequest('{"instances": [1]}', sig({})),
      /Failed to get input map for signature: DEFAULT/,
    );
  });
});

describe("predict request: dtypes", () => {
  it("keeps int64 and uint64 extremes exact", () => {
    const t = parseOne(
      '{"inputs": [-9223372036854775808, 9223372036854775807, -1, 0, 4294967296]}',
      DT_INT64,
    );
    assert.deepEqual(t.data, new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 4294967296n]));
    const u = parseOne('{"inputs": [18446744073709551615, 9223372036854775808, 0, -0]}', DT_UINT64);
    assert.deepEqual(u.data, new BigUint64Array([2n ** 64n - 1n, 2n ** 63n, 0n, 0n]));
  });

  it("rejects values out of each dtype's range, never wrapping or rounding", () => {
    // Integers past the 64-bit ranges are doubles to rapidjson, printed through float in messages.
    const PRINTED: Record<string, string> = {
      "18446744073709551616": "1.84467441e+19",
      "-9223372036854775809": "-9.22337204e+18",
    };
    const cases: [DataType, string, string][] = [
      [DT_INT8, "128", "int8"],
      [DT_INT8, "-129", "int8"],
      [DT_UINT8, "256", "uint8"],
      [DT_UINT8, "-1", "uint8"],
      [DT_INT16, "32768", "int16"],
      [DT_UINT16, "65536", "uint16"],
      [DT_INT32, "2147483648", "int32"],
      [DT_INT32, "-2147483649", "int32"],
      [DT_UINT32, "4294967296", "uint32"],
      [DT_UINT32, "-1", "uint32"],
      [DT_INT64, "9223372036854775808", "int64"],
      [DT_INT64, "-9223372036854775809", "int64"],
      [DT_UINT64, "18446744073709551616", "uint64"],
      [DT_UINT64, "-1", "uint64"],
    ];
    for (const [dtype, value, name] of cases) {
      rejects(
        `{"inputs": [${value}]}`,
        sig({ x: dtype }),
        `JSON Value: ${PRINTED[value] ?? value} Type: Number is not of expected type: ${name}`,
      );
    }
    const lossy: [DataType, string, string][] = [
      [DT_FLOAT, "16777217", "Cannot convert JSON value: 16777217 to float without loss of precision."],
      [DT_FLOAT, "3.5e38", "Cannot convert JSON value: 3.5e+38 to float without loss of precision."],
      [
        DT_DOUBLE,
        "9007199254740993",
        "Cannot convert JSON value: 9007199254740993 to double without loss of precision.",
      ],
      [DT_HALF, "65520.0", "Cannot convert JSON value: 65520.0 to half without loss of precision."],
      [DT_HALF, "2048", "Cannot convert JSON value: 2048 to half without loss of precision."],
      [DT_BFLOAT16, "256", "Cannot convert JSON value: 256 to bfloat16 without loss of precision."],
    ];
    for (const [dtype, value, message] of lossy) rejects(`{"inputs": ${value}}`, sig({ x: dtype }), message);
  });

  it("rejects decimals and other kinds for integer dtypes", () => {
    const s = sig({ x: DT_INT32 });
    rejects('{"inputs": [1.5]}', s, "JSON Value: 1.5 Type: Number is not of expected type: int32");
    rejects('{"inputs": [1.0]}', s, "JSON Value: 1.0 Type: Number is not of expected type: int32");
    rejects('{"inputs": [1e2]}', s, "JSON Value: 100.0 Type: Number is not of expected type: int32");
    rejects('{"inputs": [true]}', s, "JSON Value: true Type: True is not of expected type: int32");
    rejects('{"inputs": [null]}', s, "JSON Value: null Type: Null is not of expected type: int32");
    rejects('{"inputs": [{"b64": "AA=="}]}', s, /Type: Object is not of expected type: int32/);
    rejects(
      '{"instances": [1.5]}',
      s,
      "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: 1.5 Type: Number is not of expected type: int32",
    );
  });

  it("reads bools only from true/false", () => {
    assert.deepEqual(parseOne('{"inputs": [true, false]}', DT_BOOL).data, new Uint8Array([1, 0]));
    rejects(
      '{"inputs": [1]}',
      sig({ x: DT_BOOL }),
      "JSON Value: 1 Type: Number is not of expected type: bool",
    );
  });

  it('reads strings as UTF-8 and {"b64": ...} as bytes', () => {
    const t = parseOne('{"instances": ["h\\u00e9", {"b64": "/w=="}, ""]}', DT_STRING);
    assert.deepEqual(t.strings, [
      new Uint8Array([0x68, 0xc3, 0xa9]),
      new Uint8Array([0xff]),
      new Uint8Array(0),
    ]);
    const nested = parseOne('{"instances": [[{"b64": "aGVsbG8="}], [{"b64": "d29ybGQ="}]]}', DT_STRING);
    assert.deepEqual(nested.shape, [2, 1]);
    assert.deepEqual(text(nested), ["hello", "world"]);
    rejects('{"inputs": [{"b64": "aGVsbG8=="}]}', sig({ x: DT_STRING }), "Unable to base64 decode");
    rejects(
      '{"inputs": [{"b64": "aGk=", "x": 1}]}',
      sig({ x: DT_STRING }),
      `JSON Value: {"b64": "aGk=", "x": 1} not formatted correctly for base64 data`,
    );
    rejects(
      '{"inputs": [5]}',
      sig({ x: DT_STRING }),
      "JSON Value: 5 Type: Number is not of expected type: string",
    );
  });

  it("reads NaN and Infinity into floats and doubles", () => {
    const t = parseOne('{"inputs": [NaN, Infinity, -Infinity, -0.0]}', DT_FLOAT);
    const v = t.data as Float32Array;
    assert.ok(Number.isNaN(v[0]));
    assert.deepEqual([v[1], v[2]], [Infinity, -Infinity]);
    assert.ok(Object.is(v[3], -0));
    rejects(
      '{"inputs": [NaN]}',
      sig({ x: DT_INT64 }),
      "JSON Value: NaN Type: Number is not of expected type: int64",
    );
  });

  it("reads half and bfloat16 from numbers (an extension: TF answers UNIMPLEMENTED)", () => {
    assert.deepEqual(
      parseOne('{"inputs": [1.0, 0.1, -2]}', DT_HALF).data,
      new Uint16Array([0x3c00, floatToHalf(0.1), 0xc000]),
    );
    assert.deepEqual(
      parseOne('{"inputs": [1.0, 0.1]}', DT_BFLOAT16).data,
      new Uint16Array([0x3f80, floatToBfloat16(0.1)]),
    );
  });

  it("answers UNIMPLEMENTED for dtypes JSON cannot carry", () => {
    rejects(
      '{"inputs": [1.0]}',
      sig({ x: DT_COMPLEX64 }),
      "Conversion of JSON Value: 1.0 to type: complex64",
      Code.UNIMPLEMENTED,
    );
  });

  it("reads exactly what JS clients print for float32 data", () => {
    const values = new Float32Array(20000);
    let seed = 99;
    for (let i = 0; i < values.length; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // Below 2^24: JS prints bigger float32 values as integers, which TF refuses for DT_FLOAT.
      values[i] = (seed / 2 ** 32 - 0.5) * 10 ** ((seed % 22) - 15);
    }
    const t = parseOne(`{"inputs": ${JSON.stringify(Array.from(values))}}`, DT_FLOAT);
    assert.deepEqual(t.data, values);
    // Decimals a hair either side of float32 rounding boundaries (where a near-double would mislead).
    const near: string[] = [];
    const expected: number[] = [];
    for (const base of [1, 0.1, 3.3e-5, 7e20]) {
      const f = Math.fround(base);
      const next = f + (Math.fround(f * (1 + 2 ** -23)) - f);
      const mid = (f + next) / 2;
      for (const text of [mid.toPrecision(25), mid.toPrecision(19), (mid * (1 + 2 ** -52)).toPrecision(21)]) {
        near.push(text);
        expected.push(Math.fround(Number(text)));
      }
    }
    assert.deepEqual(parseOne(`{"inputs": [${near.join(",")}]}`, DT_FLOAT).data, new Float32Array(expected));
  });

  it("parses a 1M-element float list straight into a Float32Array", () => {
    const n = 1_000_000;
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = String((i % 1000) / 8 - 60);
    const body = `{"instances": [${parts.join(",")}]}`;
    const x = parseOne(body, DT_FLOAT);
    assert.deepEqual(x.shape, [n]);
    assert.ok(x.data instanceof Float32Array);
    const data = x.data;
    let mismatches = 0;
    for (let i = 0; i < n; i++) if (data[i] !== (i % 1000) / 8 - 60) mismatches++;
    assert.equal(mismatches, 0);
  });
});

describe("predict response", () => {
  it("writes half_plus_two's predictions as TF Serving does, byte for byte", () => {
    assert.equal(
      writePredictResponse(new Map([["y", floats([2.5, 3, 4.5])]]), "row"),
      '{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}',
    );
    assert.equal(
      writePredictResponse(new Map([["y", floats([2.5, 3, 4.5])]]), "columnar"),
      '{\n    "outputs": [\n        2.5,\n        3.0,\n        4.5\n    ]\n}',
    );
  });

  it("formats floats as TF Serving (six digits when exact, else %.9g)", () => {
    const t = new Tensor(
      DT_FLOAT,
      [2, 3],
      new Float32Array([9000000, 999999, 0.5, 0.0003, 0.00003, 555557.5]),
    );
    assert.equal(
      writePredictResponse(new Map([["f", t]]), "row"),
      '{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}',
    );
  });

  it("writes one object per row for several outputs; b64 for _bytes outputs", () => {
    const outputs = new Map([
      ["a", new Tensor(DT_FLOAT, [2, 1], new Float32Array([1, 2]))],
      ["b_bytes", Tensor.fromStrings([2], ["hello", "tf"])],
    ]);
    assert.equal(
      writePredictResponse(outputs, "row"),
      `{
    "predictions": [
        {
            "a": [1.0],
            "b_bytes": {
                "b64": "aGVsbG8="
            }
        },
        {
            "a": [2.0],
            "b_bytes": {
                "b64": "dGY="
            }
        }
    ]
}`,
    );
    assert.equal(
      writePredictResponse(outputs, "columnar"),
      `{
    "outputs": {
        "a": [
            [
                1.0
            ],
            [
                2.0
            ]
        ],
        "b_bytes": [
            {
                "b64": "aGVsbG8="
            },
            {
                "b64": "dGY="
            }
        ]
    }
}`,
    );
  });

  it("matches json_tensor_test.cc FromJsonMultipleNamedTensors (as JSON)", () => {
    const outputs = new Map<string, Tensor>([
      ["int_tensor", new Tensor(DT_INT32, [2, 3, 2], new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]))],
      ["str_tensor", Tensor.fromStrings([2, 2], ["foo", "bar", "baz", "bat"])],
      ["float_tensor", new Tensor(DT_FLOAT, [2, 1], new Float32Array([1, 2]))],
      ["double_scalar_tensor", new Tensor(DT_DOUBLE, [2], new Float64Array([8, 9]))],
      ["str_tensor_bytes", Tensor.fromStrings([2, 2], ["hello", "world", "tf", "serving"])],
    ]);
    assert.deepEqual(JSON.parse(writePredictResponse(outputs, "row")), {
      predictions: [
        {
          double_scalar_tensor: 8,
          float_tensor: [1],
          int_tensor: [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          str_tensor: ["foo", "bar"],
          str_tensor_bytes: [{ b64: "aGVsbG8=" }, { b64: "d29ybGQ=" }],
        },
        {
          double_scalar_tensor: 9,
          float_tensor: [2],
          int_tensor: [
            [7, 8],
            [9, 0],
            [1, 2],
          ],
          str_tensor: ["baz", "bat"],
          str_tensor_bytes: [{ b64: "dGY=" }, { b64: "c2VydmluZw==" }],
        },
      ],
    });
    assert.deepEqual(JSON.parse(writePredictResponse(outputs, "columnar")).outputs.str_tensor_bytes, [
      [{ b64: "aGVsbG8=" }, { b64: "d29ybGQ=" }],
      [{ b64: "dGY=" }, { b64: "c2VydmluZw==" }],
    ]);
  });

  it("writes NaN/Infinity as bare tokens and 64-bit integers exactly", () => {
    const out = new Map<string, Tensor>([
      ["f", floats([Number.NaN, Infinity, 3, -Infinity])],
      [
        "i",
        new Tensor(DT_INT64, [4], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n, 2n ** 53n + 1n])),
      ],
      ["u", new Tensor(DT_UINT64, [4], new BigUint64Array([2n ** 64n - 1n, 0n, 2n ** 32n, 2n ** 53n]))],
    ]);
    const json = writePredictResponse(out, "columnar");
    assert.match(json, /"f": \[\s+NaN,\s+Infinity,\s+3\.0,\s+-Infinity\s+\]/);
    assert.match(
      json,
      /"i": \[\s+-9223372036854775808,\s+9223372036854775807,\s+-1,\s+9007199254740993\s+\]/,
    );
    assert.match(json, /"u": \[\s+18446744073709551615,\s+0,\s+4294967296,\s+9007199254740992\s+\]/);
  });

  it("round-trips int64/uint64 extremes and NaN through request and response", () => {
    const t = parseOne('{"inputs": [-9223372036854775808, 9223372036854775807]}', DT_INT64);
    assert.equal(
      writePredictResponse(new Map([["x", t]]), "row"),
      '{\n    "predictions": [-9223372036854775808, 9223372036854775807\n    ]\n}',
    );
    const u = parseOne('{"inputs": [18446744073709551615]}', DT_UINT64);
    assert.match(writePredictResponse(new Map([["x", u]]), "row"), /\[18446744073709551615\n/);
    const f = parseOne('{"instances": [NaN, -Infinity]}', DT_FLOAT);
    assert.equal(
      writePredictResponse(new Map([["x", f]]), "row"),
      '{\n    "predictions": [NaN, -Infinity\n    ]\n}',
    );
  });

  it("writes bool, small ints, half and bfloat16", () => {
    const out = new Map<string, Tensor>([
      ["b", new Tensor(DT_BOOL, [2], new Uint8Array([1, 0]))],
      ["i8", new Tensor(DT_INT8, [2], new Int8Array([-128, 127]))],
      ["h", new Tensor(DT_HALF, [2], new Uint16Array([0x3555, 0x3c00]))],
      ["bf", new Tensor(DT_BFLOAT16, [2], new Uint16Array([0x3f80, 0x3dcd]))],
    ]);
    assert.deepEqual(JSON.parse(writePredictResponse(out, "row")).predictions, [
      { b: true, i8: -128, h: 0.333251953, bf: 1 },
      { b: false, i8: 127, h: 1, bf: 0.100097656 },
    ]);
  });

  it("writes strings as UTF-8 text, invalid UTF-8 as b64", () => {
    const s = new Tensor(
      DT_STRING,
      [3],
      [Buffer.from("héllo"), new Uint8Array([0xff, 0x00]), Buffer.from('"\n')],
    );
    assert.equal(
      writePredictResponse(new Map([["s", s]]), "row"),
      '{\n    "predictions": ["héllo", {\n            "b64": "/wA="\n        }, "\\"\\n"\n    ]\n}',
    );
  });

  it("writes zero batches and empty tensors", () => {
    const empty = new Tensor(DT_INT32, [0, 2], new Int32Array(0));
    assert.equal(writePredictResponse(new Map([["x", empty]]), "row"), '{\n    "predictions": []\n}');
    assert.equal(writePredictResponse(new Map([["x", empty]]), "columnar"), '{\n    "outputs": []\n}');
    const two = new Map<string, Tensor>([
      ["s", new Tensor(DT_STRING, [0, 1, 2], [])],
      ["f", new Tensor(DT_FLOAT, [0, 3, 4], new Float32Array(0))],
    ]);
    assert.equal(writePredictResponse(two, "row"), '{\n    "predictions": []\n}');
    assert.equal(
      writePredictResponse(new Map([["x", new Tensor(DT_FLOAT, [2, 0], new Float32Array(0))]]), "row"),
      '{\n    "predictions": [[], []\n    ]\n}',
    );
  });

  it("rejects what TF Serving cannot write", () => {
    const check = (outputs: Map<string, Tensor>, format: "row" | "columnar", message: string) =>
      assert.throws(
        () => writePredictResponse(outputs, format),
        (e: unknown) =>
          e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && e.message === message,
      );
    check(new Map(), "row", "Cannot convert empty tensor map to JSON");
    check(
      new Map([["t", new Tensor(DT_INT32, [], new Int32Array([1]))]]),
      "row",
      "Tensor name: t has no shape information ",
    );
    check(
      new Map([
        ["a", new Tensor(DT_INT32, [2, 3], new Int32Array(6))],
        ["b", Tensor.fromStrings([1, 3], ["foo", "bar", "baz"])],
      ]),
      "row",
      "Tensor name: b has inconsistent batch size: 1 expecting: 2",
    );
    check(
      new Map([["t", new Tensor(DT_COMPLEX64, [2], new Float32Array(4))]]),
      "columnar",
      "Failed to write JSON value for tensor type: complex64",
    );
    // A scalar is fine in columnar format.
    assert.equal(
      writePredictResponse(new Map([["t", new Tensor(DT_INT32, [], new Int32Array([1]))]]), "columnar"),
      '{\n    "outputs": 1\n}',
    );
  });
});
