import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import { Code, ServingError } from "../errors.js";
import { DataType } from "./dtype.js";
import { floatToHalf } from "./half.js";
import { readNpy, writeNpy } from "./npy.js";
import { Tensor } from "./tensor.js";

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("latin1");
const enc = new TextEncoder();

/** The files np.save (NumPy 2.4) writes for these arrays, byte for byte. */
const NUMPY_FILES: [name: string, tensor: Tensor, file: string][] = [
  [
    "np.array([[1, 2], [3, 4]], dtype=np.float32)",
    new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array([1, 2, 3, 4])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AAAAQAAAQEAAAIBA",
  ],
  [
    "np.array([0.5, -1, 1e300])",
    new Tensor(DataType.DT_DOUBLE, [3], new Float64Array([0.5, -1, 1e300])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADgPwAAAAAAAPC/nHUAiDzkN34=",
  ],
  [
    "np.array([1, -2, 65504], dtype=np.float16)",
    new Tensor(DataType.DT_HALF, [3], new Uint16Array([floatToHalf(1), floatToHalf(-2), floatToHalf(65504)])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGYyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAPADA/3s=",
  ],
  [
    "np.array(-7, dtype=np.int8)",
    new Tensor(DataType.DT_INT8, [], new Int8Array([-7])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfGkxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr5",
  ],
  [
    "np.array([-300, 300], dtype=np.int16)",
    new Tensor(DataType.DT_INT16, [2], new Int16Array([-300, 300])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIArU/iwB",
  ],
  [
    "np.array([[-1], [2147483647]], dtype=np.int32)",
    new Tensor(DataType.DT_INT32, [2, 1], new Int32Array([-1, 2147483647])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDEpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr/////////fw==",
  ],
  [
    "np.array([-2**63, 2**63 - 1], dtype=np.int64)",
    new Tensor(DataType.DT_INT64, [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAgP////////9/",
  ],
  [
    "np.array([0, 255], dtype=np.uint8)",
    new Tensor(DataType.DT_UINT8, [2], new Uint8Array([0, 255])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoA/w==",
  ],
  [
    "np.array([65535], dtype=np.uint16)",
    new Tensor(DataType.DT_UINT16, [1], new Uint16Array([65535])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPHUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr//w==",
  ],
  [
    "np.array([4294967295], dtype=np.uint32)",
    new Tensor(DataType.DT_UINT32, [1], new Uint32Array([4294967295])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPHU0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr/////",
  ],
  [
    "np.array([2**64 - 1], dtype=np.uint64)",
    new Tensor(DataType.DT_UINT64, [1], new BigUint64Array([2n ** 64n - 1n])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPHU4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr//////////w==",
  ],
  [
    "np.array([True, False, True])",
    new Tensor(DataType.DT_BOOL, [3], new Uint8Array([1, 0, 1])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=",
  ],
  [
    "np.array([1+2j], dtype=np.complex64)",
    new Tensor(DataType.DT_COMPLEX64, [1], new Float32Array([1, 2])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGM4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIA/AAAAQA==",
  ],
  [
    "np.array([1-2j, 3.5j])",
    new Tensor(DataType.DT_COMPLEX128, [2], new Float64Array([1, -2, 0, 3.5])),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGMxNicsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAADwPwAAAAAAAADAAAAAAAAAAAAAAAAAAAAMQA==",
  ],
  [
    "np.array([b'a', b'', b'xyz'])",
    Tensor.fromStrings([3], ["a", "", "xyz"]),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfFMzJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAphAAAAAAB4eXo=",
  ],
  [
    "np.zeros((2, 0), dtype=np.float32)",
    new Tensor(DataType.DT_FLOAT, [2, 0], new Float32Array(0)),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDApLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=",
  ],
  [
    "np.zeros((0,), dtype=np.uint8)",
    new Tensor(DataType.DT_UINT8, [0], new Uint8Array(0)),
    "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDAsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=",
  ],
];

function assertTensorEqual(actual: Tensor, expected: Tensor): void {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual(actual.shape, expected.shape);
  if (expected.dtype === DataType.DT_STRING) {
    assert.deepEqual(
      actual.strings.map((s) => Buffer.from(s).toString("hex")),
      expected.strings.map((s) => Buffer.from(s).toString("hex")),
    );
  } else {
    assert.deepEqual([...actual.values], [...expected.values]);
  }
}

function assertInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ServingError);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("writeNpy", () => {
  it("writes the header np.save writes for a float32 (2, 2) array, byte for byte", () => {
    const bytes = writeNpy(new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array([1, 2, 3, 4])));
    const header = `\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }${" ".repeat(58)}\n`;
    assert.equal(header.length, 128);
    assert.equal(text(bytes.subarray(0, 128)), header);
    assert.deepEqual([...new Float32Array(bytes.slice(128).buffer)], [1, 2, 3, 4]);
  });

  it("writes a scalar's shape as () and a vector's as (3,)", () => {
    const scalar = text(writeNpy(new Tensor(DataType.DT_INT8, [], new Int8Array([-7]))));
    assert.ok(scalar.includes("'shape': (), }"));
    const vector = text(writeNpy(new Tensor(DataType.DT_DOUBLE, [3], new Float64Array(3))));
    assert.ok(vector.includes("'shape': (3,), }"));
  });

  for (const [name, tensor, file] of NUMPY_FILES) {
    it(`writes exactly what np.save writes for ${name}`, () => {
      assert.equal(Buffer.from(writeNpy(tensor)).toString("base64"), file);
    });
  }

  it("pads DT_STRING values to the longest with NULs; all-empty strings are |S1", () => {
    const bytes = writeNpy(Tensor.fromStrings([2], ["", ""]));
    assert.ok(text(bytes).includes("'descr': '|S1'"));
    assert.deepEqual([...bytes.subarray(128)], [0, 0]);
  });

  it("keeps the data 64-byte aligned for long shapes", () => {
    const bytes = writeNpy(
      new Tensor(
        DataType.DT_FLOAT,
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
        new Float32Array([5]),
      ),
    );
    assert.equal((bytes.byteLength - 4) % 64, 0);
    assert.equal(readNpy(bytes).values[0], 5);
  });

  it("switches to format 2.0 when the header does not fit in 65535 bytes", () => {
    const shape = [...new Array<number>(30000).fill(1), 0];
    const bytes = writeNpy(new Tensor(DataType.DT_UINT8, shape, new Uint8Array(0)));
    assert.equal(bytes[6], 2);
    assert.equal(bytes.byteLength % 64, 0);
    assert.deepEqual(readNpy(bytes).shape, shape);
  });

  it("rejects dtypes NumPy has no type for", () => {
    assertInvalid(
      () => writeNpy(new Tensor(DataType.DT_BFLOAT16, [1], new Uint16Array(1))),
      /DT_BFLOAT16.*NumPy has no such dtype/,
    );
  });
});

describe("readNpy", () => {
  for (const [name, tensor, file] of NUMPY_FILES) {
    it(`reads np.save's ${name}`, () => {
      assertTensorEqual(readNpy(b64(file)), tensor);
    });
  }

  it("round-trips every writable dtype, scalars and empty arrays", () => {
    const cases = [
      new Tensor(DataType.DT_FLOAT, [], new Float32Array([Number.NaN])),
      new Tensor(DataType.DT_DOUBLE, [0, 3], new Float64Array(0)),
      new Tensor(DataType.DT_INT64, [3], new BigInt64Array([1n, -2n, 3n])),
      new Tensor(DataType.DT_BOOL, [], new Uint8Array([1])),
      new Tensor(DataType.DT_STRING, [2, 1], [enc.encode("héllo"), new Uint8Array([0xff, 0x00, 0x01])]),
      Tensor.fromStrings([0], []),
      ...NUMPY_FILES.map(([, t]) => t),
    ];
    for (const t of cases) assertTensorEqual(readNpy(writeNpy(t)), t);
  });

  it("transposes Fortran-order data to row-major", () => {
    // np.save(f, np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)))
    const t = readNpy(
      b64(
        "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk0JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAwAAAAEAAAAEAAAAAgAAAAUAAAA=",
      ),
    );
    assertTensorEqual(t, new Tensor(DataType.DT_INT32, [2, 3], new Int32Array([0, 1, 2, 3, 4, 5])));
  });

  it("transposes rank-3 Fortran-order data", () => {
    const bytes = writeNpy(new Tensor(DataType.DT_INT16, [2, 3, 2], new Int16Array(12)));
    // Column-major values of arange(12).reshape(2, 3, 2): element (i, j, k) at i + 2j + 6k.
    const fortran = new Int16Array(12);
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) fortran[i + 2 * j + 6 * k] = i * 6 + j * 2 + k;
    const header = text(bytes.subarray(0, 128)).replace("'fortran_order': False", "'fortran_order': True ");
    const file = new Uint8Array([...Buffer.from(header, "latin1"), ...new Uint8Array(fortran.buffer)]);
    assert.deepEqual([...readNpy(file).values], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("byte-swaps big-endian data", () => {
    // np.array([[1, 2], [3, 4]], dtype='>f8')
    assertTensorEqual(
      readNpy(
        b64(
          "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/8AAAAAAAAEAAAAAAAAAAQAgAAAAAAABAEAAAAAAAAA==",
        ),
      ),
      new Tensor(DataType.DT_DOUBLE, [2, 2], new Float64Array([1, 2, 3, 4])),
    );
    // np.array([1+2j, -3.5-0.25j], dtype='>c8'): each float of the pair is swapped on its own.
    assertTensorEqual(
      readNpy(
        b64(
          "k05VTVBZAQB2AHsnZGVzY3InOiAnPmM4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo/gAAAQAAAAMBgAAC+gAAA",
        ),
      ),
      new Tensor(DataType.DT_COMPLEX64, [2], new Float32Array([1, 2, -3.5, -0.25])),
    );
  });

  it("reads <U and >U unicode arrays as UTF-8 DT_STRING", () => {
    // np.array(['ab', 'é😀'], dtype='>U2')
    const t = readNpy(
      b64(
        "k05VTVBZAQB2AHsnZGVzY3InOiAnPlUyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAABhAAAAYgAAAOkAAfYA",
      ),
    );
    assertTensorEqual(t, Tensor.fromStrings([2], ["ab", "é😀"]));
    const little = text(writeNpy(Tensor.fromStrings([1], ["x"]))).replace("'|S1'", "'<U1'");
    const bytes = new Uint8Array([...Buffer.from(little.slice(0, 128), "latin1"), 0x41, 0, 0, 0]);
    assertTensorEqual(readNpy(bytes), Tensor.fromStrings([1], ["A"]));
  });

  it("strips trailing NULs of |S values, as numpy does", () => {
    const file = writeNpy(new Tensor(DataType.DT_STRING, [1], [new Uint8Array([0x61, 0, 0x62])]));
    assert.deepEqual([...readNpy(file).strings[0]!], [0x61, 0, 0x62]);
    const padded = writeNpy(
      new Tensor(DataType.DT_STRING, [2], [new Uint8Array([0x61, 0, 0]), new Uint8Array([1])]),
    );
    assert.deepEqual(
      readNpy(padded).strings.map((s) => [...s]),
      [[0x61], [1]],
    );
  });

  it("reads format 2.0 and 3.0 headers", () => {
    // numpy.lib.format.write_array(f, np.array([1, 2, 3], dtype=np.uint16), version=(2, 0))
    assertTensorEqual(
      readNpy(
        b64(
          "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8dTInLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAIAAwA=",
        ),
      ),
      new Tensor(DataType.DT_UINT16, [3], new Uint16Array([1, 2, 3])),
    );
    // ... np.array([1.5], dtype=np.float32), version=(3, 0)
    assertTensorEqual(
      readNpy(
        b64(
          "k05VTVBZAwB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMSwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/",
        ),
      ),
      new Tensor(DataType.DT_FLOAT, [1], new Float32Array([1.5])),
    );
  });

  it("accepts headers written with double quotes, other key orders and no trailing comma", () => {
    const header = `{"shape": (2,), "fortran_order": False, "descr": "<i2"}`;
    const padded = `${header}${" ".repeat(64 - ((10 + header.length + 1) % 64))}\n`;
    const file = new Uint8Array([
      ...Buffer.from(`\x93NUMPY\x01\x00`, "latin1"),
      padded.length & 0xff,
      padded.length >> 8,
      ...Buffer.from(padded, "latin1"),
      1,
      0,
      2,
      0,
    ]);
    assertTensorEqual(readNpy(file), new Tensor(DataType.DT_INT16, [2], new Int16Array([1, 2])));
  });

  it("rejects object arrays, structured arrays, .npz archives and malformed files", () => {
    // np.save(f, np.array([1, 'a'], dtype=object), allow_pickle=True), header only
    assertInvalid(
      () =>
        readNpy(
          b64(
            "k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=",
          ),
        ),
      /object array/,
    );
    // np.save(f, np.zeros(2, dtype=[('a', '<i4')]))
    assertInvalid(
      () =>
        readNpy(
          b64(
            "k05VTVBZAQB2AHsnZGVzY3InOiBbKCdhJywgJzxpNCcpXSwgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAA==",
          ),
        ),
      /structured arrays are not supported/,
    );
    assertInvalid(() => readNpy(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0])), /\.npz archive/);
    assertInvalid(() => readNpy(enc.encode("hello world, not numpy")), /not a \.npy file/);
    const good = writeNpy(new Tensor(DataType.DT_FLOAT, [2, 2], new Float32Array(4)));
    assertInvalid(() => readNpy(good.subarray(0, good.byteLength - 1)), /truncated/);
    assertInvalid(() => readNpy(good.subarray(0, 40)), /header is truncated/);
    const datetime = text(good).replace("'<f4'", "'<M8'");
    assertInvalid(() => readNpy(Buffer.from(datetime, "latin1")), /datetime/);
    const badVersion = good.slice();
    badVersion[6] = 4;
    assertInvalid(() => readNpy(badVersion), /version 4\.0/);
  });

  it("reads real NumPy files from the keras_mnist_mlp fixture", needsFixtures, async () => {
    const dir = savedModelFixture("keras_mnist_mlp");
    const bias = readNpy(await readFile(join(dir, "bias0.npy")));
    assert.equal(bias.dtype, DataType.DT_FLOAT);
    assert.deepEqual(bias.shape, [100]);
    assert.deepEqual(
      [...bias.values.slice(0, 3)],
      [0.08347001671791077, 0.07402898371219635, 0.022620318457484245],
    );
    assert.equal(bias.values[99], 0.04364849627017975);

    const kernel = readNpy(await readFile(join(dir, "kernel1.npy")));
    assert.equal(kernel.dtype, DataType.DT_FLOAT);
    assert.deepEqual(kernel.shape, [100, 10]);
    assert.deepEqual(
      [...kernel.values.slice(0, 3)],
      [-0.17666904628276825, 0.1871311068534851, -0.01935177855193615],
    );
    assert.equal(kernel.values[999], -0.13068222999572754);
  });
});
