import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { DataType } from "../tensor/dtype.js";
import { floatToBfloat16, floatToHalf } from "../tensor/half.js";
import { readNpy } from "../tensor/npy.js";
import { Tensor } from "../tensor/tensor.js";
import { bytesRepr, formatNumpy, formatRunOutputs, saveRunOutputs } from "./run-output.js";

const f32 = (shape: number[], values: number[]) =>
  new Tensor(DataType.DT_FLOAT, shape, new Float32Array(values));
const f64 = (shape: number[], values: number[]) =>
  new Tensor(DataType.DT_DOUBLE, shape, new Float64Array(values));
const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));
const bytes = (...values: number[][]) => values.map((v) => new Uint8Array(v));

/** str(array) as NumPy 2.4 prints it with the default print options, for the equivalent array. */
const NUMPY_STR: [numpy: string, tensor: Tensor, expected: string][] = [
  ["np.array([[2.5], [3.0]], np.float32)", f32([2, 1], [2.5, 3]), "[[2.5]\n [3. ]]"],
  ["np.array([1, 0.5, 100], np.float32)", f32([3], [1, 0.5, 100]), "[  1.    0.5 100. ]"],
  [
    "np.array([1/3, 2/3, 0.1], np.float32)",
    f32([3], [1 / 3, 2 / 3, 0.1]),
    "[0.33333334 0.6666667  0.1       ]",
  ],
  ["np.array([1/3, 2/3, 0.1])", f64([3], [1 / 3, 2 / 3, 0.1]), "[0.33333333 0.66666667 0.1       ]"],
  [
    "np.array([1e-5, 1, 123456], np.float32)",
    f32([3], [1e-5, 1, 123456]),
    "[1.00000e-05 1.00000e+00 1.23456e+05]",
  ],
  ["np.array([1e8, 1.5])", f64([2], [1e8, 1.5]), "[1.0e+08 1.5e+00]"],
  [
    "np.array([1.5, np.nan, -np.inf, 0], np.float32)",
    f32([4], [1.5, Number.NaN, -Infinity, 0]),
    "[ 1.5  nan -inf  0. ]",
  ],
  ["np.array([-0.0, 2], np.float32)", f32([2], [-0, 2]), "[-0.  2.]"],
  [
    "np.array([0.1, 1000, -2.5], np.float16)",
    new Tensor(DataType.DT_HALF, [3], Uint16Array.from([0.1, 1000, -2.5], floatToHalf)),
    "[ 1.0e-01  1.0e+03 -2.5e+00]",
  ],
  [
    "np.arange(30, dtype=np.float32) * 1.25",
    f32(
      [30],
      range(30, (i) => i * 1.25),
    ),
    "[ 0.    1.25  2.5   3.75  5.    6.25  7.5   8.75 10.   11.25 12.5  13.75\n 15.   16.25 17.5  18.75 20.   21.25 22.5  23.75 25.   26.25 27.5  28.75\n 30.   31.25 32.5  33.75 35.   36.25]",
  ],
  [
    "np.arange(-20, 20, dtype=np.int32) * 1000",
    new Tensor(DataType.DT_INT32, [40], Int32Array.from(range(40, (i) => (i - 20) * 1000))),
    "[-20000 -19000 -18000 -17000 -16000 -15000 -14000 -13000 -12000 -11000\n -10000  -9000  -8000  -7000  -6000  -5000  -4000  -3000  -2000  -1000\n      0   1000   2000   3000   4000   5000   6000   7000   8000   9000\n  10000  11000  12000  13000  14000  15000  16000  17000  18000  19000]",
  ],
  [
    "np.array([-2**63, 2**63 - 1])",
    new Tensor(DataType.DT_INT64, [2], new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n])),
    "[-9223372036854775808  9223372036854775807]",
  ],
  [
    "np.array([2**64 - 1, 0], np.uint64)",
    new Tensor(DataType.DT_UINT64, [2], new BigUint64Array([2n ** 64n - 1n, 0n])),
    "[18446744073709551615                    0]",
  ],
  [
    "np.array([[True, False], [False, True]])",
    new Tensor(DataType.DT_BOOL, [2, 2], new Uint8Array([1, 0, 0, 1])),
    "[[ True False]\n [False  True]]",
  ],
  [
    "np.array([b'a', b\"it's\", b'\\x00\\xff\\n'], dtype=object)",
    new Tensor(DataType.DT_STRING, [3], bytes([0x61], [0x69, 0x74, 0x27, 0x73], [0, 0xff, 0x0a])),
    "[b'a' b\"it's\" b'\\x00\\xff\\n']",
  ],
  [
    "np.array([1+2j, 3-4.5j], np.complex64)",
    new Tensor(DataType.DT_COMPLEX64, [2], new Float32Array([1, 2, 3, -4.5])),
    "[1.+2.j  3.-4.5j]",
  ],
  [
    "np.arange(2000, dtype=np.float32) / 7",
    f32(
      [2000],
      range(2000, (i) => Math.fround(i) / 7),
    ),
    "[0.0000000e+00 1.4285715e-01 2.8571430e-01 ... 2.8528571e+02 2.8542856e+02\n 2.8557144e+02]",
  ],
  [
    "np.arange(1200).reshape(2, 3, 200)",
    new Tensor(DataType.DT_INT64, [2, 3, 200], BigInt64Array.from(range(1200), BigInt)),
    "[[[   0    1    2 ...  197  198  199]\n  [ 200  201  202 ...  397  398  399]\n  [ 400  401  402 ...  597  598  599]]\n\n [[ 600  601  602 ...  797  798  799]\n  [ 800  801  802 ...  997  998  999]\n  [1000 1001 1002 ... 1197 1198 1199]]]",
  ],
  [
    "(np.arange(2500.).reshape(50, 50) - 1000) / 3",
    f64(
      [50, 50],
      range(2500, (i) => (i - 1000) / 3),
    ),
    "[[-333.33333333 -333.         -332.66666667 ... -317.66666667\n  -317.33333333 -317.        ]\n [-316.66666667 -316.33333333 -316.         ... -301.\n  -300.66666667 -300.33333333]\n [-300.         -299.66666667 -299.33333333 ... -284.33333333\n  -284.         -283.66666667]\n ...\n [ 450.          450.33333333  450.66666667 ...  465.66666667\n   466.          466.33333333]\n [ 466.66666667  467.          467.33333333 ...  482.33333333\n   482.66666667  483.        ]\n [ 483.33333333  483.66666667  484.         ...  499.\n   499.33333333  499.66666667]]",
  ],
  [
    "np.arange(8, dtype=np.int8).reshape(2, 2, 2)",
    new Tensor(DataType.DT_INT8, [2, 2, 2], Int8Array.from(range(8))),
    "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]",
  ],
  [
    "np.arange(16.).reshape(2, 2, 2, 2) / 4",
    f64(
      [2, 2, 2, 2],
      range(16, (i) => i / 4),
    ),
    "[[[[0.   0.25]\n   [0.5  0.75]]\n\n  [[1.   1.25]\n   [1.5  1.75]]]\n\n\n [[[2.   2.25]\n   [2.5  2.75]]\n\n  [[3.   3.25]\n   [3.5  3.75]]]]",
  ],
  // 0-d arrays print as their scalar's str().
  ["np.array(0.1, np.float32)", f32([], [0.1]), "0.1"],
  ["np.array(1e20)", f64([], [1e20]), "1e+20"],
  ["np.array(1e-5, np.float32)", f32([], [1e-5]), "1e-05"],
  ["np.array(-0.0, np.float32)", f32([], [-0]), "-0.0"],
  [
    "np.array(1000, np.float16)",
    new Tensor(DataType.DT_HALF, [], new Uint16Array([floatToHalf(1000)])),
    "1e+03",
  ],
  ["np.array(3, np.int16)", new Tensor(DataType.DT_INT16, [], new Int16Array([3])), "3"],
  ["np.array(True)", new Tensor(DataType.DT_BOOL, [], new Uint8Array([1])), "True"],
  ["np.array(b'x', dtype=object)", Tensor.fromStrings([], ["x"]), "b'x'"],
  ["np.array(1+2j, np.complex64)", new Tensor(DataType.DT_COMPLEX64, [], new Float32Array([1, 2])), "(1+2j)"],
  ["np.zeros((2, 0), np.float32)", f32([2, 0], []), "[]"],
];

describe("formatNumpy", () => {
  for (const [numpy, tensor, expected] of NUMPY_STR) {
    it(`prints str(${numpy})`, () => {
      assert.equal(formatNumpy(tensor), expected);
    });
  }

  it("prints bfloat16 values like floats", () => {
    const t = new Tensor(DataType.DT_BFLOAT16, [2], Uint16Array.from([1.5, -2], floatToBfloat16));
    assert.equal(formatNumpy(t), "[ 1.5 -2. ]");
  });

  it("escapes bytes as Python's repr does", () => {
    assert.equal(bytesRepr(new Uint8Array([0x5c, 0x09, 0x0d, 0x7f, 0x22])), "b'\\\\\\t\\r\\x7f\"'");
    assert.equal(bytesRepr(new TextEncoder().encode(`a'b"c`)), `b'a\\'b"c'`);
  });
});

describe("formatRunOutputs", () => {
  it("prints each output under saved_model_cli's heading, keys sorted", () => {
    const outputs = new Map([
      ["y", f32([2, 1], [2.5, 3])],
      ["classes", Tensor.fromStrings([2], ["a", "b"])],
    ]);
    assert.equal(
      formatRunOutputs(outputs),
      "Result for output key classes:\n[b'a' b'b']\nResult for output key y:\n[[2.5]\n [3. ]]\n",
    );
  });
});

describe("saveRunOutputs", () => {
  const freshDir = useScratchDir("run-output");

  it("writes <key>.npy per output, creating the directory", async () => {
    const outdir = join(freshDir(), "nested", "out");
    const text = await saveRunOutputs(
      new Map([
        ["y", f32([2], [1, 2])],
        ["b", new Tensor(DataType.DT_BFLOAT16, [1], new Uint16Array([floatToBfloat16(0.5)]))],
      ]),
      outdir,
    );
    assert.equal(
      text,
      `Output b is saved to ${join(outdir, "b.npy")}\nOutput y is saved to ${join(outdir, "y.npy")}\n`,
    );
    const y = readNpy(await readFile(join(outdir, "y.npy")));
    assert.deepEqual([...y.values], [1, 2]);
    const b = readNpy(await readFile(join(outdir, "b.npy")));
    assert.equal(b.dtype, DataType.DT_FLOAT);
    assert.deepEqual([...b.values], [0.5]);
  });

  it("refuses to overwrite without overwrite, before writing anything", async () => {
    const outdir = freshDir();
    await mkdir(outdir);
    await writeFile(join(outdir, "z.npy"), "old");
    const outputs = new Map([
      ["a", f32([1], [1])],
      ["z", f32([1], [2])],
    ]);
    await assert.rejects(saveRunOutputs(outputs, outdir), (error: unknown) => {
      assert.ok(error instanceof ServingError);
      assert.equal(error.code, Code.INVALID_ARGUMENT);
      assert.match(error.message, /z\.npy already exists\. Add "--overwrite"/);
      return true;
    });
    await assert.rejects(readFile(join(outdir, "a.npy")), { code: "ENOENT" });
    await saveRunOutputs(outputs, outdir, { overwrite: true });
    assert.deepEqual([...readNpy(await readFile(join(outdir, "z.npy"))).values], [2]);
  });

  it("rejects output keys that are not file names", async () => {
    await assert.rejects(
      saveRunOutputs(new Map([["../x", f32([1], [1])]]), freshDir()),
      /cannot be used as a file name/,
    );
  });
});
