// Coverage of the TF → ONNX lowering: every op the brief and SAVEDMODEL_FORMAT.md §6.2 list is supported,
// and every supported op is exercised by at least one op-level test (ops/*.test.ts run it in onnxruntime),
// on a graph written with GraphBuilder and imported with importGraph like a real model.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { builtinOpDefs } from "../../graph/op-defs.js";
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

/** Every op-level test file (ops/*.test.ts), by name. */
function opTestSources(): Map<string, string> {
  const opsDir = join(here, "ops");
  return new Map(
    readdirSync(opsDir)
      .filter((f) => f.endsWith(".test.ts"))
      .map((f) => [f, readFileSync(join(opsDir, f), "utf8")]),
  );
}

/** The harness, which builds Const nodes (constNode) for the op-level tests. */
const harnessSource = (): string => readFileSync(join(here, "onnx.test-helpers.ts"), "utf8");

/**
 * The supported ops the op-level tests build, all through the harness (node()/constNode() drafts that
 * compileSegment and runOnce write with GraphBuilder, import with importGraph and then lower).
 */
function exercisedOps(): string[] {
  const sources = [...opTestSources().values(), harnessSource()].join("\n");
  return SUPPORTED_ONNX_OPS.filter((op) => sources.includes(`"${op}"`));
}

describe("ONNX lowering coverage", () => {
  it("supports every required op", () => {
    const supported = new Set(SUPPORTED_ONNX_OPS);
    assert.deepEqual(
      REQUIRED.filter((op) => !supported.has(op)),
      [],
    );
  });

  it("op-level tests lower only through the harness (GraphBuilder → MetaGraphDef → importGraph)", () => {
    const bypassing = [...opTestSources()]
      .filter(([, text]) => /\blowerSegment\b|\bimportGraph\b|\boutputDTypes:/.test(text))
      .map(([file]) => file);
    assert.deepEqual(bypassing, []);
    assert.match(harnessSource(), /importGraph\(metaGraph\)/);
  });

  it("exercises every supported op in an op-level test, each with TF's OpDef for the importer", () => {
    const tested = new Set(exercisedOps());
    assert.deepEqual(
      SUPPORTED_ONNX_OPS.filter((op) => !tested.has(op)),
      [],
    );
    assert.deepEqual(
      SUPPORTED_ONNX_OPS.filter((op) => !builtinOpDefs().has(op)),
      [],
    );
  });

  it("counts the supported ops", () => {
    const viaImporter = exercisedOps().filter((op) => builtinOpDefs().has(op));
    console.log(`TF ops supported by ONNX lowering: ${SUPPORTED_ONNX_OPS.length}`);
    console.log(
      `TF ops exercised through GraphBuilder + importGraph in op-level tests: ${viaImporter.length}/${SUPPORTED_ONNX_OPS.length}`,
    );
    assert.ok(SUPPORTED_ONNX_OPS.length >= REQUIRED.length);
  });
});
