import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { Code, ServingError } from "../errors.js";
import { ModelProtoSchema, TensorProto_DataType as OnnxDataType } from "../proto/gen/onnx/onnx_pb.js";
import { DataType, dtypeName, fixedDType, TENSOR_DTYPES } from "./dtype.js";
import { fromOrtTensor, onnxDataType, ortTensorType, tfDataTypeFromOnnx, toOrtTensor } from "./ort.js";
import { Tensor, tensorToBytes } from "./tensor.js";

/** dtypes that travel to ORT under their own type and come back unchanged. */
const ORT_ROUND_TRIP: [DataType, string][] = [
  [DataType.DT_FLOAT, "float32"],
  [DataType.DT_DOUBLE, "float64"],
  [DataType.DT_HALF, "float16"],
  [DataType.DT_INT8, "int8"],
  [DataType.DT_UINT8, "uint8"],
  [DataType.DT_INT16, "int16"],
  [DataType.DT_UINT16, "uint16"],
  [DataType.DT_INT32, "int32"],
  [DataType.DT_UINT32, "uint32"],
  [DataType.DT_INT64, "int64"],
  [DataType.DT_UINT64, "uint64"],
  [DataType.DT_BOOL, "bool"],
  [DataType.DT_STRING, "string"],
];

/** Six values per dtype, extremes included; strings are valid UTF-8 (ORT needs text). */
function sample(dtype: DataType, shape: number[] = [2, 3]): Tensor {
  switch (dtype) {
    case DataType.DT_FLOAT:
      return new Tensor(dtype, shape, new Float32Array([-0, 1.5, Number.NaN, Infinity, -Infinity, 3]));
    case DataType.DT_DOUBLE:
      return new Tensor(dtype, shape, new Float64Array([-0, 0.1, Number.NaN, Infinity, -Infinity, 1e308]));
    case DataType.DT_HALF:
      return new Tensor(dtype, shape, new Uint16Array([0x3c00, 0x8000, 0x7e00, 0x7c00, 0xfc00, 0x0001]));
    case DataType.DT_INT64:
      return new Tensor(
        dtype,
        shape,
        new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, 2n ** 53n + 1n]),
      );
    case DataType.DT_UINT64:
      return new Tensor(dtype, shape, new BigUint64Array([0n, 2n ** 64n - 1n, 2n ** 63n, 1n, 2n, 3n]));
    case DataType.DT_BOOL:
      return new Tensor(dtype, shape, new Uint8Array([1, 0, 0, 1, 1, 0]));
    case DataType.DT_STRING:
      return Tensor.fromStrings(shape, ["", "a,b", "héllo", "✓", "🙂", "plain"]);
    default: {
      const info = fixedDType(dtype)!;
      const bits = info.array.BYTES_PER_ELEMENT * 8;
      const signed = [Int8Array, Int16Array, Int32Array].some((c) => c === info.array);
      const min = signed ? -(2 ** (bits - 1)) : 0;
      const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      return new Tensor(dtype, shape, new info.array([min, max, 0, 1, max - 1, 2] as never));
    }
  }
}

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

function assertServingError(fn: () => unknown, code: Code, fragment: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ServingError, `expected a ServingError, got ${e}`);
    assert.equal(e.codeName, Code[code], e.message);
    assert.ok(e.message.includes(fragment), `"${e.message}" lacks "${fragment}"`);
    return true;
  });
}

/** A one-node ONNX model y = Identity(x) for one element type, with any shape. */
function identityModel(elemType: number): Uint8Array {
  const valueInfo = (name: string) => ({
    name,
    type: { value: { case: "tensorType" as const, value: { elemType } } },
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: "", version: 13n }],
    graph: {
      name: "identity",
      node: [{ opType: "Identity", input: ["x"], output: ["y"] }],
      input: [valueInfo("x")],
      output: [valueInfo("y")],
    },
  });
  return toBinary(ModelProtoSchema, model);
}

describe("toOrtTensor / fromOrtTensor", () => {
  for (const [dtype, ortType] of ORT_ROUND_TRIP) {
    it(`${dtypeName(dtype)} ⇄ ort "${ortType}"`, () => {
      for (const shape of [[2, 3], [6], [3, 1, 2]]) {
        const tensor = sample(dtype, shape);
        const o = toOrtTensor(tensor);
        assert.equal(o.type, ortType);
        assert.deepEqual(o.dims, shape);
        if (dtype === DataType.DT_STRING) {
          assert.deepEqual(o.data, ["", "a,b", "héllo", "✓", "🙂", "plain"]);
        } else {
          assert.equal(o.data, tensor.values, "numeric data is passed without a copy");
        }
        const back = fromOrtTensor(o);
        assertSameTensor(back, tensor);
        if (dtype !== DataType.DT_STRING)
          assert.equal(back.values, tensor.values, "and read back without one");
      }
    });
  }

  it("scalars and empty tensors", () => {
    const scalar = new Tensor(DataType.DT_FLOAT, [], new Float32Array([4]));
    assert.deepEqual(toOrtTensor(scalar).dims, []);
    assertSameTensor(fromOrtTensor(toOrtTensor(scalar)), scalar);
    const empty = new Tensor(DataType.DT_INT32, [2, 0], new Int32Array(0));
    assert.deepEqual(toOrtTensor(empty).dims, [2, 0]);
    assertSameTensor(fromOrtTensor(toOrtTensor(empty)), empty);
  });

  it("quantized dtypes go in as their storage integers and come back plain", () => {
    const expected: [DataType, string, DataType][] = [
      [DataType.DT_QINT8, "int8", DataType.DT_INT8],
      [DataType.DT_QUINT8, "uint8", DataType.DT_UINT8],
      [DataType.DT_QINT16, "int16", DataType.DT_INT16],
      [DataType.DT_QUINT16, "uint16", DataType.DT_UINT16],
      [DataType.DT_QINT32, "int32", DataType.DT_INT32],
    ];
    for (const [dtype, ortType, plain] of expected) {
      const tensor = sample(dtype);
      const o = toOrtTensor(tensor);
      assert.equal(o.type, ortType);
      const back = fromOrtTensor(o);
      assert.equal(back.dtype, plain);
      assert.deepEqual([...back.values], [...tensor.values]);
    }
  });

  it("every other dtype is UNIMPLEMENTED, naming it", () => {
    const mapped = new Set<DataType>([...ORT_ROUND_TRIP.map(([d]) => d)]);
    const rest = TENSOR_DTYPES.filter((d) => !mapped.has(d) && !dtypeName(d).startsWith("DT_Q"));
    assert.deepEqual(rest.map(dtypeName).sort(), [
      "DT_BFLOAT16",
      "DT_COMPLEX128",
      "DT_COMPLEX64",
      "DT_FLOAT8_E4M3B11FNUZ",
      "DT_FLOAT8_E4M3FN",
      "DT_FLOAT8_E4M3FNUZ",
      "DT_FLOAT8_E5M2",
      "DT_FLOAT8_E5M2FNUZ",
    ]);
    for (const dtype of rest) {
      const info = fixedDType(dtype)!;
      const tensor = new Tensor(dtype, [1], new info.array(info.lanes));
      assertServingError(() => toOrtTensor(tensor), Code.UNIMPLEMENTED, dtypeName(dtype));
    }
  });

  it("strings that are not UTF-8 cannot become ORT strings", () => {
    const tensor = new Tensor(
      DataType.DT_STRING,
      [2],
      [new Uint8Array([0x61]), new Uint8Array([0xff, 0xfe])],
    );
    assertServingError(() => toOrtTensor(tensor), Code.INVALID_ARGUMENT, "element 1 is not valid UTF-8");
  });

  it("strings with NUL bytes are refused (the native binding would truncate them)", () => {
    const tensor = new Tensor(DataType.DT_STRING, [1], [new Uint8Array([0x61, 0x00, 0x62])]);
    assertServingError(() => toOrtTensor(tensor), Code.INVALID_ARGUMENT, "NUL byte");
  });

  it("ORT's packed int4/uint4 tensors are UNIMPLEMENTED", () => {
    // At run time ORT stores int4 in a Uint8Array, whatever its typings say.
    const o = new OrtTensor("int4", new Uint8Array([0x21]) as unknown as Int8Array, [2]);
    assertServingError(() => fromOrtTensor(o), Code.UNIMPLEMENTED, "int4");
  });

  it("ortTensorType maps _REF dtypes as their base", () => {
    assert.equal(ortTensorType(DataType.DT_FLOAT_REF), "float32");
  });
});

describe("onnxDataType / tfDataTypeFromOnnx", () => {
  it("maps TF dtypes to the ONNX enum (SAVEDMODEL_FORMAT.md §3.8)", () => {
    const table: [DataType, OnnxDataType][] = [
      [DataType.DT_FLOAT, OnnxDataType.FLOAT],
      [DataType.DT_DOUBLE, OnnxDataType.DOUBLE],
      [DataType.DT_INT32, OnnxDataType.INT32],
      [DataType.DT_UINT8, OnnxDataType.UINT8],
      [DataType.DT_INT16, OnnxDataType.INT16],
      [DataType.DT_INT8, OnnxDataType.INT8],
      [DataType.DT_STRING, OnnxDataType.STRING],
      [DataType.DT_COMPLEX64, OnnxDataType.COMPLEX64],
      [DataType.DT_INT64, OnnxDataType.INT64],
      [DataType.DT_BOOL, OnnxDataType.BOOL],
      [DataType.DT_QINT8, OnnxDataType.INT8],
      [DataType.DT_QUINT8, OnnxDataType.UINT8],
      [DataType.DT_QINT32, OnnxDataType.INT32],
      [DataType.DT_BFLOAT16, OnnxDataType.BFLOAT16],
      [DataType.DT_QINT16, OnnxDataType.INT16],
      [DataType.DT_QUINT16, OnnxDataType.UINT16],
      [DataType.DT_UINT16, OnnxDataType.UINT16],
      [DataType.DT_COMPLEX128, OnnxDataType.COMPLEX128],
      [DataType.DT_HALF, OnnxDataType.FLOAT16],
      [DataType.DT_UINT32, OnnxDataType.UINT32],
      [DataType.DT_UINT64, OnnxDataType.UINT64],
      [DataType.DT_FLOAT8_E5M2, OnnxDataType.FLOAT8E5M2],
      [DataType.DT_FLOAT8_E4M3FN, OnnxDataType.FLOAT8E4M3FN],
      [DataType.DT_FLOAT8_E4M3FNUZ, OnnxDataType.FLOAT8E4M3FNUZ],
      [DataType.DT_FLOAT8_E5M2FNUZ, OnnxDataType.FLOAT8E5M2FNUZ],
      [DataType.DT_INT4, OnnxDataType.INT4],
      [DataType.DT_UINT4, OnnxDataType.UINT4],
      [DataType.DT_FLOAT_REF, OnnxDataType.FLOAT],
      [DataType.DT_INT64_REF, OnnxDataType.INT64],
    ];
    for (const [dtype, onnx] of table) assert.equal(onnxDataType(dtype), onnx, dtypeName(dtype));
  });

  it("round-trips every non-quantized dtype ONNX knows", () => {
    for (const onnx of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]) {
      assert.equal(onnxDataType(tfDataTypeFromOnnx(onnx)), onnx);
    }
    assert.equal(tfDataTypeFromOnnx(OnnxDataType.FLOAT16), DataType.DT_HALF);
    assert.equal(tfDataTypeFromOnnx(OnnxDataType.BFLOAT16), DataType.DT_BFLOAT16);
  });

  it("rejects what has no counterpart", () => {
    assertServingError(() => onnxDataType(DataType.DT_RESOURCE), Code.INVALID_ARGUMENT, "DT_RESOURCE");
    assertServingError(() => onnxDataType(DataType.DT_VARIANT), Code.INVALID_ARGUMENT, "DT_VARIANT");
    assertServingError(() => onnxDataType(DataType.DT_INVALID), Code.INVALID_ARGUMENT, "DT_INVALID");
    assertServingError(
      () => onnxDataType(DataType.DT_FLOAT8_E4M3B11FNUZ),
      Code.UNIMPLEMENTED,
      "DT_FLOAT8_E4M3B11FNUZ",
    );
    assertServingError(() => tfDataTypeFromOnnx(OnnxDataType.FLOAT4E2M1), Code.UNIMPLEMENTED, "23");
    assertServingError(() => tfDataTypeFromOnnx(0), Code.INVALID_ARGUMENT, "0");
    assertServingError(() => tfDataTypeFromOnnx(999), Code.INVALID_ARGUMENT, "999");
  });
});

describe("through a real ONNX Runtime session", () => {
  for (const [dtype] of ORT_ROUND_TRIP) {
    it(`Identity returns a ${dtypeName(dtype)} tensor unchanged`, async () => {
      const session = await InferenceSession.create(identityModel(onnxDataType(dtype)));
      try {
        const tensor = sample(dtype);
        const { y } = await session.run({ x: toOrtTensor(tensor) });
        assertSameTensor(fromOrtTensor(y!), tensor);
      } finally {
        await session.release();
      }
    });
  }

  it("feeds a typed array that views the middle of a larger buffer", async () => {
    const session = await InferenceSession.create(identityModel(OnnxDataType.FLOAT));
    try {
      const backing = new Float32Array([99, 1, 2, 3, 99]);
      const tensor = new Tensor(DataType.DT_FLOAT, [3], backing.subarray(1, 4));
      const { y } = await session.run({ x: toOrtTensor(tensor) });
      assert.deepEqual([...fromOrtTensor(y!).values], [1, 2, 3]);
    } finally {
      await session.release();
    }
  });
});
