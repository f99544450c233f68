import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ServingError } from "../errors.js";
import { type TensorProto, TensorProtoSchema } from "../proto/gen/tensorflow/core/framework/tensor_pb.js";
import { DataType, dtypeName, fixedDType, TENSOR_DTYPES } from "./dtype.js";
import { shapeToProto } from "./shape.js";
import { numElements, Tensor, tensorToBytes } from "./tensor.js";
import { type TensorProtoEncoding, tensorFromProto, tensorToProto } from "./tensor-proto.js";

const bytes = (...values: number[]) => new Uint8Array(values);

/** Six interesting elements per dtype: extremes, signed zeros, NaN/±Inf, arbitrary string bytes. */
function sixValues(dtype: DataType): Tensor["data"] {
  const info = fixedDType(dtype);
  switch (dtype) {
    case DataType.DT_FLOAT:
      return new Float32Array([-0, 1.5, Number.NaN, Infinity, -Infinity, 3.4028234663852886e38]);
    case DataType.DT_DOUBLE:
      return new Float64Array([-0, 0.1, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE]);
    case DataType.DT_HALF:
      return new Uint16Array([0x3c00, 0x8000, 0x7e00, 0x7c00, 0xfc00, 0x0001]);
    case DataType.DT_BFLOAT16:
      return new Uint16Array([0x3f80, 0x8000, 0x7fc0, 0x7f80, 0xff80, 0x0001]);
    case DataType.DT_COMPLEX64:
      return new Float32Array([1, -2, 0.5, Number.NaN, Infinity, -0, 3, 4, -Infinity, 5, 6, 7]);
    case DataType.DT_COMPLEX128:
      return new Float64Array([1, -2, 0.1, Number.NaN, Infinity, -0, 3, 4, -Infinity, 5, 6, 7]);
    case DataType.DT_INT64:
      return new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, 7n]);
    case DataType.DT_UINT64:
      return new BigUint64Array([0n, 2n ** 64n - 1n, 2n ** 63n, 1n, 2n ** 53n + 1n, 7n]);
    case DataType.DT_BOOL:
      return bytes(1, 0, 1, 1, 0, 0);
    case DataType.DT_STRING:
      return [
        bytes(),
        bytes(0x00),
        bytes(0xff, 0xfe),
        bytes(0xc3, 0x28), // invalid UTF-8
        new TextEncoder().encode("héllo ✓"),
        bytes(0x00, 0xff, 0x80, 0x0a),
      ];
    default: {
      // Integer types (plain and quantized) and float8: their storage type's extremes.
      if (!info) throw new Error(`no sample values for ${dtypeName(dtype)}`);
      const bits = info.array.BYTES_PER_ELEMENT * 8;
      const signed = [Int8Array, Int16Array, Int32Array].some((c) => c === info.array);
      const min = signed ? -(2 ** (bits - 1)) : 0;
      const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      return new info.array([min, max, 0, 1, max - 1, signed ? -1 : 2] as never);
    }
  }
}

/** A tensor of `shape` filled with the dtype's sample values (cycled). */
function sample(dtype: DataType, shape: number[]): Tensor {
  const six = sixValues(dtype);
  const n = numElements(shape);
  if (Array.isArray(six))
    return new Tensor(
      dtype,
      shape,
      Array.from({ length: n }, (_, i) => six[i % 6]!),
    );
  const lanes = fixedDType(dtype)!.lanes;
  const data = new (six.constructor as new (n: number) => typeof six)(n * lanes);
  for (let i = 0; i < n * lanes; i++) data[i] = six[i % (6 * lanes)]!;
  return new Tensor(dtype, shape, data);
}

/** Equal dtype, shape, and values compared as bytes (so NaN payloads and -0 count). */
function assertSameTensor(actual: Tensor, expected: Tensor): void {
  assert.equal(dtypeName(actual.dtype), dtypeName(expected.dtype));
  assert.deepEqual(actual.shape, expected.shape);
  if (expected.dtype === DataType.DT_STRING) {
    assert.deepEqual(
      actual.strings.map((s) => [...s]),
      expected.strings.map((s) => [...s]),
    );
  } else {
    assert.deepEqual([...tensorToBytes(actual)], [...tensorToBytes(expected)]);
  }
}

function assertServingError(fn: () => unknown, code: Code, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServingError, `expected a ServingError, got ${e}`);
    assert.equal(e.codeName, Code[code], e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

const proto = (init: MessageInitShape<typeof TensorProtoSchema>): TensorProto =>
  create(TensorProtoSchema, init);
const throughWire = (p: TensorProto): TensorProto =>
  fromBinary(TensorProtoSchema, toBinary(TensorProtoSchema, p));

const SHAPES: number[][] = [[2, 3], [], [6], [0], [2, 0, 3], [1, 2, 1, 3]];
const ENCODINGS: TensorProtoEncoding[] = ["content", "typed"];

describe("tensorToProto ⇄ tensorFromProto round trips", () => {
  for (const dtype of TENSOR_DTYPES) {
    for (const encoding of ENCODINGS) {
      it(`${dtypeName(dtype)} via ${encoding}, directly and through the wire`, () => {
        for (const shape of SHAPES) {
          const tensor = sample(dtype, shape);
          const p = tensorToProto(tensor, encoding);
          assert.equal(p.dtype, dtype);
          assertSameTensor(tensorFromProto(p), tensor);
          assertSameTensor(tensorFromProto(throughWire(p)), tensor);
        }
      });
    }
  }

  it("the sample values cover every dtype a Tensor can hold", () => {
    assert.equal(TENSOR_DTYPES.length, 26);
    for (const dtype of TENSOR_DTYPES) assert.equal(sample(dtype, [6]).size, 6);
  });
});

describe("tensorToProto encodings", () => {
  it("content: raw little-endian bytes, no typed values", () => {
    const p = tensorToProto(new Tensor(DataType.DT_INT32, [2], new Int32Array([1, -2])));
    assert.deepEqual([...p.tensorContent], [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    assert.deepEqual(p.intVal, []);
    assert.deepEqual(
      p.tensorShape?.dim.map((d) => d.size),
      [2n],
    );
  });

  it("typed: every value written out, even repeated ones", () => {
    const p = tensorToProto(new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array([7, 7, 7, 7])), "typed");
    assert.deepEqual(p.floatVal, [7, 7, 7, 7]);
    assert.equal(p.tensorContent.byteLength, 0);
  });

  it("typed: each dtype uses its own field", () => {
    const fieldOf = (dtype: DataType): string[] => {
      const p = tensorToProto(sample(dtype, [6]), "typed");
      const fields: [string, number][] = [
        ["float_val", p.floatVal.length],
        ["double_val", p.doubleVal.length],
        ["int_val", p.intVal.length],
        ["half_val", p.halfVal.length],
        ["string_val", p.stringVal.length],
        ["scomplex_val", p.scomplexVal.length],
        ["dcomplex_val", p.dcomplexVal.length],
        ["int64_val", p.int64Val.length],
        ["uint64_val", p.uint64Val.length],
        ["uint32_val", p.uint32Val.length],
        ["bool_val", p.boolVal.length],
        ["float8_val", p.float8Val.length],
        ["tensor_content", p.tensorContent.length],
      ];
      return fields.filter(([, n]) => n > 0).map(([name, n]) => `${name}:${n}`);
    };
    assert.deepEqual(fieldOf(DataType.DT_FLOAT), ["float_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_DOUBLE), ["double_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_INT8), ["int_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_UINT16), ["int_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_QUINT8), ["int_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_HALF), ["half_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_BFLOAT16), ["half_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_COMPLEX64), ["scomplex_val:12"]);
    assert.deepEqual(fieldOf(DataType.DT_COMPLEX128), ["dcomplex_val:12"]);
    assert.deepEqual(fieldOf(DataType.DT_INT64), ["int64_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_UINT64), ["uint64_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_UINT32), ["uint32_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_BOOL), ["bool_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_FLOAT8_E4M3FN), ["float8_val:6"]);
    assert.deepEqual(fieldOf(DataType.DT_STRING), ["string_val:6"]);
  });

  it("DT_STRING uses string_val even when content is asked for", () => {
    const p = tensorToProto(Tensor.fromStrings([2], ["a", "bc"]), "content");
    assert.equal(p.tensorContent.byteLength, 0);
    assert.deepEqual(
      p.stringVal.map((s) => new TextDecoder().decode(s)),
      ["a", "bc"],
    );
  });

  it("int64 and uint64 extremes stay exact as bigints on the wire", () => {
    const t = new Tensor(DataType.DT_INT64, [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]));
    assert.deepEqual(throughWire(tensorToProto(t, "typed")).int64Val, [-(2n ** 63n), 2n ** 63n - 1n]);
    const u = new Tensor(DataType.DT_UINT64, [1], new BigUint64Array([2n ** 64n - 1n]));
    assert.deepEqual(throughWire(tensorToProto(u, "typed")).uint64Val, [2n ** 64n - 1n]);
  });

  it("bool typed values are booleans", () => {
    const p = tensorToProto(new Tensor(DataType.DT_BOOL, [3], bytes(1, 0, 1)), "typed");
    assert.deepEqual(p.boolVal, [true, false, true]);
  });
});

describe("tensorFromProto typed fields", () => {
  it("float_val [0] fills a 3×4 tensor with zeros", () => {
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([3, 4]), floatVal: [0] }),
    );
    assert.deepEqual(t.shape, [3, 4]);
    assert.deepEqual([...t.values], new Array(12).fill(0));
  });

  it("a short int_val repeats its last value", () => {
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_INT32, tensorShape: shapeToProto([4]), intVal: [1, 2] }),
    );
    assert.deepEqual([...t.values], [1, 2, 2, 2]);
  });

  it("a short list repeats for every dtype family", () => {
    const shape = shapeToProto([3]);
    const read = (init: MessageInitShape<typeof TensorProtoSchema>) =>
      tensorFromProto(proto({ ...init, tensorShape: shape }));
    assert.deepEqual([...read({ dtype: DataType.DT_INT64, int64Val: [-5n] }).values], [-5n, -5n, -5n]);
    assert.deepEqual(
      [...read({ dtype: DataType.DT_UINT64, uint64Val: [1n, 2n ** 64n - 1n] }).values],
      [1n, 2n ** 64n - 1n, 2n ** 64n - 1n],
    );
    assert.deepEqual([...read({ dtype: DataType.DT_BOOL, boolVal: [false, true] }).values], [0, 1, 1]);
    assert.deepEqual(
      [...read({ dtype: DataType.DT_COMPLEX64, scomplexVal: [1, 2, 3, 4] }).values],
      [1, 2, 3, 4, 3, 4],
    );
    assert.deepEqual(
      [...read({ dtype: DataType.DT_COMPLEX128, dcomplexVal: [0.5, -1] }).values],
      [0.5, -1, 0.5, -1, 0.5, -1],
    );
    assert.deepEqual(
      [...read({ dtype: DataType.DT_HALF, halfVal: [0x3c00] }).values],
      [0x3c00, 0x3c00, 0x3c00],
    );
    assert.deepEqual(
      [...read({ dtype: DataType.DT_UINT32, uint32Val: [2 ** 32 - 1] }).values],
      [2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1],
    );
    assert.deepEqual(
      [...read({ dtype: DataType.DT_FLOAT8_E5M2, float8Val: bytes(0x3c) }).values],
      [0x3c, 0x3c, 0x3c],
    );
    assert.deepEqual(
      read({ dtype: DataType.DT_STRING, stringVal: [bytes(1), bytes(0xff)] }).strings.map((s) => [...s]),
      [[1], [0xff], [0xff]],
    );
  });

  it("no values at all mean zeros or empty strings", () => {
    const zeros = tensorFromProto(proto({ dtype: DataType.DT_DOUBLE, tensorShape: shapeToProto([2, 2]) }));
    assert.deepEqual([...zeros.values], [0, 0, 0, 0]);
    const empty = tensorFromProto(proto({ dtype: DataType.DT_STRING, tensorShape: shapeToProto([2]) }));
    assert.deepEqual(
      empty.strings.map((s) => s.length),
      [0, 0],
    );
    const none = tensorFromProto(proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([0]) }));
    assert.deepEqual(none.shape, [0]);
    assert.equal(none.values.length, 0);
  });

  it("a proto without tensor_shape is a scalar, as Python writes scalars", () => {
    const t = tensorFromProto(proto({ dtype: DataType.DT_FLOAT, floatVal: [3.5] }));
    assert.deepEqual(t.shape, []);
    assert.deepEqual([...t.values], [3.5]);
  });

  it("half_val accepts sign-extended 16-bit patterns", () => {
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_BFLOAT16, tensorShape: shapeToProto([1]), halfVal: [-1] }),
    );
    assert.deepEqual([...t.values], [0xffff]);
  });
});

describe("tensorFromProto tensor_content", () => {
  it("views aligned content in place instead of copying it", () => {
    const content = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([2, 2]), tensorContent: content }),
    );
    assert.equal(t.values.buffer, content.buffer);
    assert.deepEqual([...t.values], [1, 2, 3, 4]);
  });

  it("reads unaligned content (a slice of a wire buffer)", () => {
    const wire = new Uint8Array(9);
    wire.set(new Uint8Array(new Float64Array([-2.5]).buffer), 1);
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_DOUBLE, tensorShape: shapeToProto([1]), tensorContent: wire.subarray(1) }),
    );
    assert.deepEqual([...t.values], [-2.5]);
  });

  it("content wins over typed values", () => {
    const t = tensorFromProto(
      proto({
        dtype: DataType.DT_INT8,
        tensorShape: shapeToProto([2]),
        tensorContent: bytes(0xff, 5),
        intVal: [9],
      }),
    );
    assert.deepEqual([...t.values], [-1, 5]);
  });

  it("bool content holds one byte per element", () => {
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_BOOL, tensorShape: shapeToProto([3]), tensorContent: bytes(1, 0, 1) }),
    );
    assert.deepEqual([...t.values], [1, 0, 1]);
  });

  it("reads TF's DT_STRING content encoding (varint lengths, then the bytes)", () => {
    const content = bytes(1, 0, 3, 0x41, 0xff, 0x00, 0x80);
    const t = tensorFromProto(
      proto({ dtype: DataType.DT_STRING, tensorShape: shapeToProto([3]), tensorContent: content }),
    );
    assert.deepEqual(
      t.strings.map((s) => [...s]),
      [[0x41], [], [0xff, 0x00, 0x80]],
    );
    const long = new Uint8Array([0x80, 0x01, ...new Uint8Array(128).fill(7)]);
    const one = tensorFromProto(proto({ dtype: DataType.DT_STRING, tensorContent: long }));
    assert.equal(one.strings[0]!.length, 128);
  });
});

describe("tensorFromProto errors", () => {
  it("tensor_content of the wrong length", () => {
    assertServingError(
      () =>
        tensorFromProto(
          proto({
            dtype: DataType.DT_FLOAT,
            tensorShape: shapeToProto([2, 3]),
            tensorContent: new Uint8Array(20),
          }),
        ),
      Code.INVALID_ARGUMENT,
      "DT_FLOAT",
      "[2,3]",
      "24 bytes",
      "got 20",
    );
    assertServingError(
      () =>
        tensorFromProto(
          proto({
            dtype: DataType.DT_COMPLEX128,
            tensorShape: shapeToProto([1]),
            tensorContent: new Uint8Array(8),
          }),
        ),
      Code.INVALID_ARGUMENT,
      "16 bytes",
      "got 8",
    );
  });

  it("malformed DT_STRING content", () => {
    assertServingError(
      () =>
        tensorFromProto(
          proto({
            dtype: DataType.DT_STRING,
            tensorShape: shapeToProto([2]),
            tensorContent: bytes(1, 1, 0x41),
          }),
        ),
      Code.INVALID_ARGUMENT,
      "DT_STRING tensor_content",
    );
    assertServingError(
      () =>
        tensorFromProto(
          proto({ dtype: DataType.DT_STRING, tensorShape: shapeToProto([2]), tensorContent: bytes(0x80) }),
        ),
      Code.INVALID_ARGUMENT,
      "varint",
    );
  });

  it("more values than elements", () => {
    assertServingError(
      () =>
        tensorFromProto(
          proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([2]), floatVal: [1, 2, 3] }),
        ),
      Code.INVALID_ARGUMENT,
      "float_val has 3 values",
      "[2]",
    );
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_STRING, stringVal: [bytes(), bytes()] })),
      Code.INVALID_ARGUMENT,
      "string_val has 2 values",
    );
  });

  it("int_val values out of the dtype's range", () => {
    const read = (dtype: DataType, intVal: number[]) => () =>
      tensorFromProto(proto({ dtype, tensorShape: shapeToProto([intVal.length]), intVal }));
    assertServingError(read(DataType.DT_INT8, [1, 128]), Code.INVALID_ARGUMENT, "128", "DT_INT8");
    assertServingError(read(DataType.DT_INT8, [-129]), Code.INVALID_ARGUMENT, "-129", "DT_INT8");
    assertServingError(read(DataType.DT_UINT8, [256]), Code.INVALID_ARGUMENT, "256", "DT_UINT8");
    assertServingError(read(DataType.DT_UINT8, [-1]), Code.INVALID_ARGUMENT, "-1", "DT_UINT8");
    assertServingError(read(DataType.DT_UINT16, [65536]), Code.INVALID_ARGUMENT, "DT_UINT16");
    assertServingError(read(DataType.DT_QINT16, [40000]), Code.INVALID_ARGUMENT, "DT_QINT16");
    assertServingError(read(DataType.DT_INT32, [1.5]), Code.INVALID_ARGUMENT, "1.5");
    assert.deepEqual(
      [
        ...tensorFromProto(
          proto({ dtype: DataType.DT_INT8, tensorShape: shapeToProto([2]), intVal: [-128, 127] }),
        ).values,
      ],
      [-128, 127],
    );
    assert.deepEqual(
      [
        ...tensorFromProto(
          proto({ dtype: DataType.DT_UINT8, tensorShape: shapeToProto([2]), intVal: [0, 255] }),
        ).values,
      ],
      [0, 255],
    );
  });

  it("other typed fields out of range", () => {
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_HALF, halfVal: [65536] })),
      Code.INVALID_ARGUMENT,
      "half_val",
    );
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_INT64, int64Val: [2n ** 63n] })),
      Code.INVALID_ARGUMENT,
      "int64_val",
    );
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_UINT32, uint32Val: [-1] })),
      Code.INVALID_ARGUMENT,
      "uint32_val",
    );
  });

  it("complex values not in pairs", () => {
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_COMPLEX64, scomplexVal: [1, 2, 3] })),
      Code.INVALID_ARGUMENT,
      "pairs",
    );
  });

  it("unknown rank or unknown dimensions", () => {
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto(null) })),
      Code.INVALID_ARGUMENT,
      "unknown rank",
    );
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([-1, 2]) })),
      Code.INVALID_ARGUMENT,
      "(-1, 2)",
    );
  });

  it("dtypes a tensor cannot be made of", () => {
    for (const dtype of [
      DataType.DT_RESOURCE,
      DataType.DT_VARIANT,
      DataType.DT_INVALID,
      DataType.DT_FLOAT_REF,
    ]) {
      assertServingError(() => tensorFromProto(proto({ dtype })), Code.INVALID_ARGUMENT, dtypeName(dtype));
    }
    assertServingError(
      () => tensorFromProto(proto({ dtype: DataType.DT_INT4 })),
      Code.UNIMPLEMENTED,
      "DT_INT4",
    );
  });

  it("a short list claiming a huge tensor", () => {
    assertServingError(
      () =>
        tensorFromProto(
          proto({ dtype: DataType.DT_FLOAT, tensorShape: shapeToProto([2 ** 20, 2 ** 20]), floatVal: [1] }),
        ),
      Code.INVALID_ARGUMENT,
      "too large",
    );
  });
});
