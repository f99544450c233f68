import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { seededRandom } from "../../compiler/host/random.js";
import { DataType } from "../../proto/gen/tensorflow/core/framework/types_pb.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { parsePredictRequest, parsePredictRequestExact } from "./json-predict.js";
import { MAX_FAST_BODY_BYTES, parseFloatPredictFast } from "./json-predict-fast.js";

function sig(inputs: Record<string, DataType>): SignatureDef {
  return create(SignatureDefSchema, {
    inputs: Object.fromEntries(Object.entries(inputs).map(([name, dtype]) => [name, { dtype }])),
    methodName: "tensorflow/serving/predict",
  });
}

const FLOAT = sig({ x: DataType.DT_FLOAT });
const DOUBLE = sig({ x: DataType.DT_DOUBLE });
const fast = (body: string | Uint8Array, signature = FLOAT, maxDepth = 512) =>
  parseFloatPredictFast(body, () => signature, maxDepth);

/** The fast path took the body, and its answer is the exact reader's, value for value. */
function agrees(body: string, signature = FLOAT): void {
  const quick = fast(body, signature);
  assert.ok(quick, `fast path declined ${body.slice(0, 80)}`);
  const exact = parsePredictRequestExact(body, signature);
  assert.equal(quick.format, exact.format);
  assert.equal(quick.signatureName, exact.signatureName);
  const [a, b] = [quick.inputs.get("x"), exact.inputs.get("x")];
  assert.ok(a && b);
  assert.equal(a.dtype, b.dtype);
  assert.deepEqual(a.shape, b.shape);
  // Bit for bit, so -0 and every rounding are checked too.
  assert.deepEqual(
    Buffer.from(a.values.buffer, a.values.byteOffset, a.values.byteLength),
    Buffer.from(b.values.buffer, b.values.byteOffset, b.values.byteLength),
  );
}

/** Numbers as clients write them: short, long (float64 repr of a float32), exponents, integers, 0. */
function numberText(random: () => number): string {
  // Below 2^24 in magnitude: larger integral values are left to the exact reader (see "declines").
  const v = (random() - 0.5) * 10 ** Math.floor(random() * 10 - 6);
  switch (Math.floor(random() * 6)) {
    case 0:
      return String(Math.fround(v));
    case 1:
      return v.toPrecision(1 + Math.floor(random() * 20));
    case 2:
      return v.toExponential(Math.floor(random() * 18));
    case 3:
      return String(Math.round(v * 1000));
    case 4:
      return random() < 0.5 ? "0" : "0.0";
    default:
      return String(v);
  }
}

describe("predict request fast path (JSON.parse)", () => {
  it("agrees with the exact reader on 2,000 random float bodies, row and columnar, every rank", () => {
    const random = seededRandom(42);
    for (let n = 0; n < 2000; n++) {
      const shape = Array.from({ length: 1 + Math.floor(random() * 4) }, () => 1 + Math.floor(random() * 4));
      const build = (dim: number): string =>
        dim === shape.length
          ? numberText(random)
          : `[${Array.from({ length: shape[dim] ?? 0 }, () => build(dim + 1)).join(random() < 0.5 ? "," : ", ")}]`;
      const key = random() < 0.5 ? "instances" : "inputs";
      const named = random() < 0.3 ? `"signature_name": "serving_default", ` : "";
      agrees(`{${named}"${key}": ${build(0)}}`, random() < 0.8 ? FLOAT : DOUBLE);
    }
  });

  it("takes scalars in rows, Buffers and the float32 range edges", () => {
    agrees('{"instances": [1.0, 2.0, 5.0]}');
    agrees('{"instances": [16777215, -16777215, 1e7, 0.5e-45, 1e-50]}');
    agrees('{"inputs": [[9007199254740991, 0.1]]}', DOUBLE);
    const buffer = fast(Buffer.from('{"instances": [[1, 2]]}'));
    assert.deepEqual(buffer?.inputs.get("x")?.values, new Float32Array([1, 2]));
  });

  it("declines what only the exact reader can judge", () => {
    const declined: [string, SignatureDef?][] = [
      ['{"instances": [1], "instances": [2]}'], // TF keeps the first; JSON.parse the last
      ['{"signature_name": "a", "signature_name": "b", "instances": [1]}'],
      ['{"instances": [1], "inputs": [1]}'],
      ['{"instances": []}'],
      ['{"instances": [[]]}'],
      ['{"instances": [[1, 2], [3]]}'], // ragged
      ['{"instances": [[1, 2], 3]}'],
      ['{"instances": [NaN]}'],
      ['{"instances": [-0]}'], // TF reads the integer token -0 as 0, and -0.0 as -0
      ['{"instances": [16777216]}'], // an integer token float32 cannot hold: TF's error
      ['{"instances": [3.5e38]}'],
      ['{"instances": [3.4028234663852886e38]}'], // integral and past 2^24: declined, though valid
      ['{"instances": [1e400]}'],
      ['{"instances": ["1"]}'],
      ['{"instances": [{"x": 1}]}'],
      ['{"inputs": {"x": [1]}}'],
      ['{"inputs": 1}'],
      ['{"instances": [1], "other": 1}'],
      ['{"instances": [1], "signature_name": 1}'],
      ['{"instances": [1], "signature_name": "é"}'],
      ['{"instances": [1]'],
      ['{"instances": [9007199254740993]}', DOUBLE],
      ['{"instances": [1]}', sig({ x: DataType.DT_INT32 })],
      ['{"instances": [1]}', sig({ x: DataType.DT_FLOAT, y: DataType.DT_FLOAT })],
      ['{"instances": [[[[[[[[[1]]]]]]]]]}'], // rank 9
    ];
    for (const [body, signature] of declined) assert.equal(fast(body, signature), undefined, body);
    // Large bodies stream through the exact reader instead (no JS array per number).
    const large = `{"instances": [[${Array.from({ length: 30000 }, (_, i) => i % 7).join(", ")}]]}`;
    assert.ok(large.length > MAX_FAST_BODY_BYTES);
    assert.equal(fast(large), undefined);
    assert.equal(parsePredictRequest(large, FLOAT).inputs.get("x")?.values.length, 30000);
    assert.equal(fast('{"instances": [[[1]]]}', FLOAT, 3), undefined, "deeper than maxDepth");
    assert.ok(fast('{"instances": [[1]]}', FLOAT, 3));
  });

  it("leaves TF's answer to declined bodies unchanged", () => {
    const first = parsePredictRequest('{"instances": [1], "instances": [2]}', FLOAT);
    assert.deepEqual(first.inputs.get("x")?.values, new Float32Array([1]));
    assert.throws(
      () => parsePredictRequest('{"instances": [16777217]}', FLOAT),
      /Cannot convert JSON value: 16777217 to float without loss of precision/,
    );
  });

  it("declines, rather than throws, when the signature cannot be resolved", () => {
    const missing = () => {
      throw new Error("no such signature");
    };
    assert.equal(parseFloatPredictFast('{"signature_name": "x", "instances": [1]}', missing, 512), undefined);
  });
});
