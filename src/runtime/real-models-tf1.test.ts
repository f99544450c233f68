// Real TF1 graph-mode SavedModels (../shared/fixtures/savedmodels) run end to end, every output checked
// against a plain-loop reference computed here from the checkpoint weights.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { needsFixtures, savedModelFixture } from "../../test/fixtures.js";
import {
  arr,
  assertClose,
  assertExact,
  assertSignatureKeys,
  assertStrings,
  biasAct,
  conv2d,
  dense,
  floats,
  pseudoRandom,
  readVariables,
  relu,
  reshape,
  runSignature,
  softmax,
  variable,
  withServable,
} from "../../test/reference.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { loadServable } from "./servable.js";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("real TF1 SavedModels against reference computations", needsFixtures, () => {
  it("tf1_linear_regression: regress y_hat = w*x + b for scalar, vector and matrix x (tags serve+train)", async () => {
    const dir = savedModelFixture("tf1_linear_regression");
    const vars = await readVariables(dir);
    const w = variable(vars, "w").data[0]!;
    const b = variable(vars, "b").data[0]!;
    await assert.rejects(loadServable(dir), "tf1_linear_regression: tags {serve} alone must not match");
    await withServable(
      dir,
      async (servable) => {
        const sig = "tensorflow/serving/regress";
        assertSignatureKeys(servable, [sig], "tf1_linear_regression");
        const cases: { shape: number[]; x: number[] }[] = [
          { shape: [4], x: [0, 1, -2.5, 100] },
          { shape: [2, 3], x: [0.5, -1, 3, 7, -0.25, 2] },
          { shape: [1], x: [42] },
        ];
        for (const { shape, x } of cases) {
          const out = await runSignature(servable, sig, {
            x: floats(shape, x),
            y: floats(
              shape,
              x.map((v) => -v),
            ), // y is listed in the signature but unused
          });
          assertClose(
            out.get("out"),
            arr(
              shape,
              x.map((v) => w * v + b),
            ),
            `tf1_linear_regression ${sig} out for x [${shape}]`,
          );
        }
        // A scalar x broadcasts against the [1]-shaped variables: y_hat has shape [1].
        const scalar = await runSignature(servable, sig, { x: floats([], [3]), y: floats([], [0]) });
        assertClose(
          scalar.get("out"),
          arr([1], [w * 3 + b]),
          `tf1_linear_regression ${sig} out for scalar x`,
        );
      },
      { tags: ["serve", "train"] },
    );
  });

  it("tf1_mnist_conv: 3 strided SAME convs + relu, dense relu, dense, softmax (dropout keep 1.0), batch 1 and 2", async () => {
    const dir = savedModelFixture("tf1_mnist_conv");
    const vars = await readVariables(dir);
    const v = (i: number) => variable(vars, i === 0 ? "Variable" : `Variable_${i}`);
    const reference = (images: number[], n: number) => {
      let h = arr([n, 28, 28, 1], images);
      h = biasAct(conv2d(h, v(0), [1, 1], "SAME"), v(1), relu);
      h = biasAct(conv2d(h, v(2), [2, 2], "SAME"), v(3), relu);
      h = biasAct(conv2d(h, v(4), [2, 2], "SAME"), v(5), relu);
      assert.deepEqual(h.shape, [n, 7, 7, 24], "reference conv stack shape");
      h = dense(reshape(h, [n, 1176]), v(6), v(7), relu);
      return softmax(dense(h, v(8), v(9)));
    };
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], "tf1_mnist_conv");
      // A digit-like blob and a noise image; then a single image.
      const blob = Array.from({ length: 784 }, (_, i) => {
        const y = Math.floor(i / 28) - 14;
        const x = (i % 28) - 12;
        const r = Math.sqrt(x * x + y * y);
        return r > 5 && r < 9 ? 1 : 0;
      });
      const noise = pseudoRandom(784, 7, 0, 1);
      for (const images of [[blob, noise], [noise]]) {
        const n = images.length;
        const flat = images.flat();
        const out = await runSignature(servable, "serving_default", {
          Features: floats([n, 28, 28, 1], flat),
        });
        assertClose(
          out.get("Prediction"),
          reference(flat, n),
          `tf1_mnist_conv serving_default Prediction batch ${n}`,
        );
      }
    });
  });

  it("tf1_string_split_join: Original_A = A; Joined_Splited_Text = join(split(B, '/'), ' ') as [1,1]", async () => {
    const dir = savedModelFixture("tf1_string_split_join");
    // StringSplit(delimiter "/", skip_empty=true) over all of B, values joined by ReduceJoin(axis 0, " ").
    const splitJoin = (b: string[]) =>
      b
        .flatMap((s) => s.split("/"))
        .filter((t) => t !== "")
        .join(" ");
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], "tf1_string_split_join");
      const arbitrary = [
        Uint8Array.of(0, 1, 2, 0xff, 0xfe),
        new Uint8Array(0),
        utf8("héllo wörld ✓"),
        Uint8Array.of(0x80, 0xc0, 0x2f, 0x00),
      ];
      const cases: { a: Uint8Array[]; b: string[] }[] = [
        { a: arbitrary, b: ["a/b", "c//d/", "", "/e"] },
        { a: [utf8("x"), utf8("y")], b: ["ünï/cödé"] },
        { a: [...arbitrary, utf8("5"), utf8("6")], b: ["no-delimiter", "//", "tail/"] },
        // An empty B: no tokens, ReduceJoin of nothing is "".
        { a: [utf8("p"), utf8("q")], b: [] },
      ];
      for (const { a, b } of cases) {
        const out = await runSignature(servable, "serving_default", {
          A: new Tensor(DataType.DT_STRING, [a.length / 2, 2], a),
          B: Tensor.fromStrings([b.length], b),
        });
        assertStrings(out.get("Original_A"), [a.length / 2, 2], a, `tf1_string_split_join Original_A (${b})`);
        assertStrings(
          out.get("Joined_Splited_Text"),
          [1, 1],
          [utf8(splitJoin(b))],
          `tf1_string_split_join Joined_Splited_Text for B=${JSON.stringify(b)}`,
        );
      }
    });
  });

  it("tf1_dtype_identity: 11 dtypes pass through unchanged, extremes and aliased u8/u16/u32 entries included", async () => {
    const dir = savedModelFixture("tf1_dtype_identity");
    const shape = [3, 2];
    // u8/u16/u32 alias the i8/i16/i32 placeholders (generator bug); both aliases get the same tensor.
    const i8 = Int8Array.of(-128, 127, 0, -1, 1, 42);
    const i16 = Int16Array.of(-32768, 32767, 0, -1, 1, 12345);
    const i32 = Int32Array.of(-2147483648, 2147483647, 0, -1, 1, 123456789);
    const f32 = new Float32Array(
      new Uint32Array([0x7fc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff]).buffer,
    );
    const f64 = Float64Array.of(Number.NaN, -0, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE);
    const inputs: Record<string, Tensor> = {
      b: new Tensor(DataType.DT_BOOL, shape, Uint8Array.of(1, 0, 0, 1, 1, 1)),
      f32: new Tensor(DataType.DT_FLOAT, shape, f32),
      f64: new Tensor(DataType.DT_DOUBLE, shape, f64),
      i8: new Tensor(DataType.DT_INT8, shape, i8),
      u8: new Tensor(DataType.DT_INT8, shape, i8),
      i16: new Tensor(DataType.DT_INT16, shape, i16),
      u16: new Tensor(DataType.DT_INT16, shape, i16),
      i32: new Tensor(DataType.DT_INT32, shape, i32),
      u32: new Tensor(DataType.DT_INT32, shape, i32),
      i64: new Tensor(
        DataType.DT_INT64,
        shape,
        BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n),
      ),
      u64: new Tensor(
        DataType.DT_UINT64,
        shape,
        BigUint64Array.of(0n, 2n ** 64n - 1n, 2n ** 63n, 1n, 2n ** 53n + 1n, 12345678901234567890n),
      ),
    };
    const bytes = (t: Tensor) =>
      Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).toString("hex");
    await withServable(dir, async (servable) => {
      assertSignatureKeys(servable, ["serving_default"], "tf1_dtype_identity");
      const out = await runSignature(servable, "serving_default", inputs);
      assert.deepEqual(
        [...out.keys()].sort(),
        Object.keys(inputs)
          .map((k) => `o_${k}`)
          .sort(),
        "tf1_dtype_identity: output aliases",
      );
      for (const [alias, input] of Object.entries(inputs)) {
        const what = `tf1_dtype_identity serving_default o_${alias}`;
        const actual = out.get(`o_${alias}`);
        assert.ok(actual, `${what}: present`);
        assert.equal(actual.dtype, input.dtype, `${what}: dtype`);
        assert.deepEqual(actual.shape, shape, `${what}: shape`);
        assert.equal(bytes(actual), bytes(input), `${what}: bit-exact values`);
      }
      // Batch 1 through the same graph.
      const one = Object.fromEntries(
        Object.entries(inputs).map(([alias, t]) => [
          alias,
          new Tensor(t.dtype, [1, 2], t.values.slice(0, 2)),
        ]),
      );
      const out1 = await runSignature(servable, "serving_default", one);
      assertExact(
        out1.get("o_i64"),
        DataType.DT_INT64,
        [1, 2],
        [-(2n ** 63n), 2n ** 63n - 1n],
        "tf1_dtype_identity o_i64 batch 1",
      );
      assertExact(
        out1.get("o_u64"),
        DataType.DT_UINT64,
        [1, 2],
        [0n, 2n ** 64n - 1n],
        "tf1_dtype_identity o_u64 batch 1",
      );
      assertExact(out1.get("o_b"), DataType.DT_BOOL, [1, 2], [1, 0], "tf1_dtype_identity o_b batch 1");
    });
  });
});
