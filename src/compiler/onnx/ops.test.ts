// Coverage of the TF → ONNX lowering: every op the brief and SAVEDMODEL_FORMAT.md §6.2 list is supported,
// and every supported op is exercised by at least one op-level test (ops/*.test.ts run it in onnxruntime).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SUPPORTED_ONNX_OPS } from "./segment.js";

/** The ops that must lower (§6.2 minus host-only rows and control flow). */
const REQUIRED = `
Const Identity IdentityN StopGradient CheckNumerics EnsureShape Snapshot
MatMul BatchMatMul BatchMatMulV2 BatchMatMulV3 BiasAdd BiasAddV1 Conv2D Conv3D DepthwiseConv2dNative Conv2DBackpropInput
MaxPool MaxPoolV2 AvgPool FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3
Relu Relu6 LeakyRelu Elu Selu Softplus Softsign Sigmoid Tanh Exp Log Log1p Sqrt Rsqrt Square Abs Neg Floor Ceil
Round Sign Reciprocal Erf Sin Cos Softmax LogSoftmax
Add AddV2 Sub Mul Div RealDiv FloorDiv FloorMod DivNoNan Maximum Minimum Pow SquaredDifference AddN
Mean Sum Max Min Prod All Any ArgMax ArgMin
Reshape Squeeze ExpandDims Transpose ConcatV2 Concat Pack Unpack Split SplitV Slice StridedSlice
GatherV2 Gather ResourceGather GatherNd ScatterNd Tile Pad PadV2 MirrorPad Fill ZerosLike OnesLike Shape Size Rank Cast
Select SelectV2 Where Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot
IsNan IsInf ClipByValue OneHot Range Cumsum TopKV2 Einsum ResizeBilinear ResizeNearestNeighbor
DepthToSpace SpaceToDepth LRN BroadcastTo ReverseV2
`
  .split(/\s+/)
  .filter(Boolean);

const here = dirname(fileURLToPath(import.meta.url));

/** Source of every op-level test file plus the harness (which builds the Const nodes). */
function testSources(): string {
  const opsDir = join(here, "ops");
  const files = readdirSync(opsDir)
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join(opsDir, f));
  return [...files, join(here, "test-harness.ts")].map((f) => readFileSync(f, "utf8")).join("\n");
}

describe("ONNX lowering coverage", () => {
  it("supports every required op", () => {
    const supported = new Set(SUPPORTED_ONNX_OPS);
    assert.deepEqual(
      REQUIRED.filter((op) => !supported.has(op)),
      [],
    );
  });

  it("exercises every supported op in an op-level test", () => {
    const sources = testSources();
    const untested = SUPPORTED_ONNX_OPS.filter((op) => !sources.includes(`"${op}"`));
    assert.deepEqual(untested, []);
  });

  it("counts the supported ops", () => {
    console.log(`TF ops supported by ONNX lowering: ${SUPPORTED_ONNX_OPS.length}`);
    assert.ok(SUPPORTED_ONNX_OPS.length >= REQUIRED.length);
  });
});
