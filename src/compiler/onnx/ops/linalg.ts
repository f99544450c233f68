import { DataType } from "../../../proto/gen/tensorflow/core/framework/types_pb.js";
// Matrix products, Einsum and cumulative sums.
import type { LoweringContext, OpHandler } from "../lowering.js";
import { boolAttr, castTo, op, outputDType, stringAttr, unsupported } from "./util.js";

/** Input i with its last two dims swapped (perm when the rank is known, Einsum otherwise). */
function transposeLastTwo(ctx: LoweringContext, i: number): string {
  const shape = ctx.inputShape(i);
  if (shape === null) return op(ctx, "Einsum", [ctx.input(i)], { equation: "...ij->...ji" });
  const rank = shape.length;
  if (rank < 2) throw unsupported(ctx, `input ${i} must have rank ≥ 2 to be transposed`);
  const perm = [...Array.from({ length: rank - 2 }, (_, k) => k), rank - 1, rank - 2];
  return op(ctx, "Transpose", [ctx.input(i)], { perm });
}

/** MatMul (transpose_a/b) and BatchMatMul V1–V3 (adj_x/adj_y; V3 may widen int8 inputs to Tout). */
const matMul =
  (flagA: string, flagB: string): OpHandler =>
  (ctx) => {
    const out = outputDType(ctx);
    const a = boolAttr(ctx.node, flagA, false) ? transposeLastTwo(ctx, 0) : ctx.input(0);
    const b = boolAttr(ctx.node, flagB, false) ? transposeLastTwo(ctx, 1) : ctx.input(1);
    const product = op(ctx, "MatMul", [
      castTo(ctx, a, ctx.inputDType(0), out),
      castTo(ctx, b, ctx.inputDType(1), out),
    ]);
    ctx.setOutput(0, product);
  };

/**
 * TF MatMul takes matrices only (rank 2, "In[0] is not a matrix" otherwise), unlike ONNX MatMul, which
 * broadcasts batches: floating-point MatMul lowers to Gemm, which enforces rank 2 (and transposes for
 * free); integer types, which Gemm lacks on CPU, keep MatMul.
 */
const matMul2d: OpHandler = (ctx) => {
  const out = outputDType(ctx);
  if (out !== DataType.DT_FLOAT && out !== DataType.DT_DOUBLE)
    return matMul("transpose_a", "transpose_b")(ctx);
  const product = op(ctx, "Gemm", [ctx.input(0), ctx.input(1)], {
    transA: boolAttr(ctx.node, "transpose_a", false) ? 1 : 0,
    transB: boolAttr(ctx.node, "transpose_b", false) ? 1 : 0,
  });
  ctx.setOutput(0, product);
};

const einsum: OpHandler = (ctx) => {
  const equation = stringAttr(ctx.node, "equation", "");
  if (equation === "") throw unsupported(ctx, "empty equation");
  const inputs = ctx.node.inputs.map((_, i) => ctx.input(i));
  ctx.setOutput(0, op(ctx, "Einsum", inputs, { equation: equation.replaceAll(" ", "") }));
};

const cumsum: OpHandler = (ctx) => {
  const attrs = {
    exclusive: boolAttr(ctx.node, "exclusive", false) ? 1 : 0,
    reverse: boolAttr(ctx.node, "reverse", false) ? 1 : 0,
  };
  ctx.setOutput(0, op(ctx, "CumSum", [ctx.input(0), ctx.input(1)], attrs));
};

export const LINALG_OPS: Readonly<Record<string, OpHandler>> = {
  MatMul: matMul2d,
  BatchMatMul: matMul("adj_x", "adj_y"),
  BatchMatMulV2: matMul("adj_x", "adj_y"),
  BatchMatMulV3: matMul("adj_x", "adj_y"),
  Einsum: einsum,
  Cumsum: cumsum,
};
