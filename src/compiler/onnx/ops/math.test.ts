import { describe, it } from "node:test";
import {
  assertClose,
  assertTensorEqual,
  attr,
  bool,
  compileSegment,
  DataType,
  f32,
  f64,
  i32,
  node,
  numbers,
  randomF32,
  runOnce,
  type Tensor,
} from "../onnx.test-helpers.js";

/** erf by its Maclaurin series (|x| ≤ 3) or 1 − erfc's asymptotic tail: exact to double for our ranges. */
function erf(x: number): number {
  if (Math.abs(x) > 3) return Math.sign(x) * (1 - Math.exp(-x * x) / (Math.abs(x) * Math.sqrt(Math.PI)));
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** TF op, reference, input range. */
const UNARY: [string, (x: number) => number, number, number][] = [
  ["Relu", (x) => Math.max(x, 0), -2, 2],
  ["Relu6", (x) => Math.min(Math.max(x, 0), 6), -3, 9],
  ["Elu", (x) => (x < 0 ? Math.expm1(x) : x), -3, 3],
  ["Selu", (x) => SELU_SCALE * (x < 0 ? SELU_ALPHA * Math.expm1(x) : x), -3, 3],
  ["Softplus", (x) => Math.log1p(Math.exp(x)), -5, 5],
  ["Softsign", (x) => x / (1 + Math.abs(x)), -5, 5],
  ["Sigmoid", (x) => 1 / (1 + Math.exp(-x)), -6, 6],
  ["Tanh", Math.tanh, -3, 3],
  ["Exp", Math.exp, -4, 4],
  ["Log", Math.log, 0.01, 10],
  ["Log1p", Math.log1p, -0.9, 5],
  ["Sqrt", Math.sqrt, 0, 9],
  ["Rsqrt", (x) => 1 / Math.sqrt(x), 0.1, 9],
  ["Square", (x) => x * x, -3, 3],
  ["Abs", Math.abs, -3, 3],
  ["Neg", (x) => -x, -3, 3],
  ["Floor", Math.floor, -3, 3],
  ["Ceil", Math.ceil, -3, 3],
  ["Sign", Math.sign, -3, 3],
  ["Reciprocal", (x) => 1 / x, 0.5, 3],
  ["Inv", (x) => 1 / x, -3, -0.5],
  ["Erf", erf, -3.5, 3.5],
  ["Sin", Math.sin, -3, 3],
  ["Cos", Math.cos, -3, 3],
  ["Tan", Math.tan, -1, 1],
  ["Asin", Math.asin, -0.9, 0.9],
  ["Acos", Math.acos, -0.9, 0.9],
  ["Atan", Math.atan, -3, 3],
  ["Sinh", Math.sinh, -2, 2],
  ["Cosh", Math.cosh, -2, 2],
  ["Asinh", Math.asinh, -3, 3],
  ["Acosh", Math.acosh, 1.1, 4],
  ["Atanh", Math.atanh, -0.9, 0.9],
];

const map = (x: Tensor, f: (v: number) => number): Tensor => f32(x.shape, numbers(x).map(f));

describe("unary math ops (float32 vs double-precision reference)", () => {
  UNARY.forEach(([op, reference, lo, hi], k) => {
    it(op, async () => {
      const x = randomF32([2, 3, 4], k + 1, lo, hi);
      const [y] = await runOnce([node(op, "y", ["x"])], { x }, ["y"]);
      assertClose(y!, map(x, reference));
    });
  });

  it("Log1p keeps tiny inputs exact and handles -1 and +inf", async () => {
    const x = f32([5], [1e-7, -1e-8, -1, Number.POSITIVE_INFINITY, 0]);
    const [y] = await runOnce([node("Log1p", "y", ["x"])], { x }, ["y"]);
    assertClose(y!, map(x, Math.log1p));
  });

  it("LeakyRelu with the default and a given alpha", async () => {
    const x = randomF32([6], 3, -2, 2);
    const [a, b] = await runOnce(
      [node("LeakyRelu", "a", ["x"]), node("LeakyRelu", "b", ["x"], { alpha: attr.float(0.01) })],
      { x },
      ["a", "b"],
    );
    assertClose(
      a!,
      map(x, (v) => (v < 0 ? 0.2 * v : v)),
    );
    assertClose(
      b!,
      map(x, (v) => (v < 0 ? 0.01 * v : v)),
    );
  });

  it("Round rounds half to even (TF banker's rounding); ints pass through", async () => {
    const x = f32([8], [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 3]);
    const n = i32([3], [-2, 0, 7]);
    const [y, m] = await runOnce(
      [node("Round", "y", ["x"]), node("Round", "m", ["n"], {}, [DataType.DT_INT32])],
      { x, n },
      ["y", "m"],
    );
    assertTensorEqual(y!, f32([8], [0, 2, 2, -0, -2, 2, -3, 3]));
    assertTensorEqual(m!, n);
  });

  it("Softmax and LogSoftmax normalise the last axis", async () => {
    const x = randomF32([2, 3, 5], 9, -3, 3);
    const [s, l] = await runOnce([node("Softmax", "s", ["x"]), node("LogSoftmax", "l", ["x"])], { x }, [
      "s",
      "l",
    ]);
    const soft: number[] = [];
    const logSoft: number[] = [];
    for (let row = 0; row < 6; row++) {
      const v = numbers(x).slice(row * 5, row * 5 + 5);
      const max = Math.max(...v);
      const sum = v.reduce((acc, e) => acc + Math.exp(e - max), 0);
      for (const e of v) {
        soft.push(Math.exp(e - max) / sum);
        logSoft.push(e - max - Math.log(sum));
      }
    }
    assertClose(s!, f32(x.shape, soft));
    assertClose(l!, f32(x.shape, logSoft));
  });

  it("IsNan, IsInf and IsFinite give bools", async () => {
    const x = f32([5], [0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -3]);
    const b = [DataType.DT_BOOL];
    const [nan, inf, finite] = await runOnce(
      [
        node("IsNan", "nan", ["x"], {}, b),
        node("IsInf", "inf", ["x"], {}, b),
        node("IsFinite", "finite", ["x"], {}, b),
      ],
      { x },
      ["nan", "inf", "finite"],
    );
    assertTensorEqual(nan!, bool([5], [0, 1, 0, 0, 0]));
    assertTensorEqual(inf!, bool([5], [0, 0, 1, 1, 0]));
    assertTensorEqual(finite!, bool([5], [1, 0, 0, 0, 1]));
  });

  it("integer Abs, Neg, Sign, Square and Relu6 stay int32", async () => {
    const x = i32([6], [-7, -1, 0, 1, 5, 9]);
    const t = [DataType.DT_INT32];
    const [abs, neg, sign, square, relu6] = await runOnce(
      [
        node("Abs", "abs", ["x"], {}, t),
        node("Neg", "neg", ["x"], {}, t),
        node("Sign", "sign", ["x"], {}, t),
        node("Square", "square", ["x"], {}, t),
        node("Relu6", "relu6", ["x"], {}, t),
      ],
      { x },
      ["abs", "neg", "sign", "square", "relu6"],
    );
    assertTensorEqual(abs!, i32([6], [7, 1, 0, 1, 5, 9]));
    assertTensorEqual(neg!, i32([6], [7, 1, 0, -1, -5, -9]));
    assertTensorEqual(sign!, i32([6], [-1, -1, 0, 1, 1, 1]));
    assertTensorEqual(square!, i32([6], [49, 1, 0, 1, 25, 81]));
    assertTensorEqual(relu6!, i32([6], [0, 0, 0, 1, 5, 6]));
  });

  it("float64 Exp and Rsqrt keep double precision; Erf goes through float32", async () => {
    const x = f64([3], [0.5, 2, 7]);
    const t = [DataType.DT_DOUBLE];
    const [e, r, erfOut] = await runOnce(
      [node("Exp", "e", ["x"], {}, t), node("Rsqrt", "r", ["x"], {}, t), node("Erf", "erf", ["x"], {}, t)],
      { x },
      ["e", "r", "erf"],
    );
    assertClose(erfOut!, f64([3], [0.5, 2, 7].map(erf)), { rel: 1e-6, abs: 1e-7 });
    assertClose(e!, f64([3], [0.5, 2, 7].map(Math.exp)), { rel: 1e-12, abs: 0 });
    assertClose(
      r!,
      f64(
        [3],
        [0.5, 2, 7].map((v) => 1 / Math.sqrt(v)),
      ),
      { rel: 1e-12, abs: 0 },
    );
  });

  it("a dynamic batch dim runs at two batch sizes", async () => {
    const compiled = await compileSegment({
      nodes: [node("Sigmoid", "s", ["x"]), node("Tanh", "t", ["s"])],
      inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, 3] }],
      outputs: ["t"],
    });
    try {
      for (const batch of [1, 4]) {
        const x = randomF32([batch, 3], batch);
        const [t] = await compiled.run(x);
        assertClose(
          t!,
          map(x, (v) => Math.tanh(1 / (1 + Math.exp(-v)))),
        );
      }
    } finally {
      await compiled.session.release();
    }
  });
});
