// The benchmarks' baseline model: an MLP built directly as ONNX (MatMul + Add (+ Relu)), weights as
// initializers — what a hand-written onnxruntime server would run.
import { buildOnnxModel, type OnnxNode } from "../src/compiler/onnx/model-builder.js";
import type { DenseLayer } from "../src/export/mlp.js";
import { DataType } from "../src/tensor/dtype.js";
import type { Tensor } from "../src/tensor/tensor.js";

/** The same network as `mlpSavedModel(...)` with these layers, as an ONNX model with input `x` and output `y`. */
export function onnxMlp(layers: readonly DenseLayer[]): Uint8Array {
  const initializers = new Map<string, Tensor>();
  const nodes: OnnxNode[] = [];
  let x = "x";
  for (const [i, layer] of layers.entries()) {
    initializers.set(`w${i}`, layer.kernel);
    initializers.set(`b${i}`, layer.bias);
    const last = i === layers.length - 1;
    nodes.push({ opType: "MatMul", name: `mm${i}`, inputs: [x, `w${i}`], outputs: [`mm${i}`], attrs: {} });
    nodes.push({
      opType: "Add",
      name: `add${i}`,
      inputs: [`mm${i}`, `b${i}`],
      outputs: [last ? "y" : `add${i}`],
      attrs: {},
    });
    x = `add${i}`;
    if (!last) {
      nodes.push({ opType: "Relu", name: `relu${i}`, inputs: [x], outputs: [`relu${i}`], attrs: {} });
      x = `relu${i}`;
    }
  }
  const inputWidth = layers[0]?.kernel.shape[0] ?? 0;
  const outputWidth = layers.at(-1)?.kernel.shape[1] ?? 0;
  return buildOnnxModel({
    name: "mlp",
    inputs: [{ name: "x", dtype: DataType.DT_FLOAT, shape: [-1, inputWidth] }],
    outputs: [{ name: "y", dtype: DataType.DT_FLOAT, shape: [-1, outputWidth] }],
    initializers,
    nodes,
  });
}
