import { create } from "@bufbuild/protobuf";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { type SavedModel, SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import { SaverDef_CheckpointFormatVersion } from "../proto/gen/tensorflow/core/protobuf/saver_pb.js";
import type { SavedModelContents } from "../savedmodel/saved-model-writer.js";
import { shapeToProto } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import { attr, GraphBuilder } from "./graph-builder.js";

/** The embedded default model's serving interface. */
export const RANKING_MODEL = {
  name: "ranking_model",
  input: "input_features",
  output: "output_logits",
  features: 32,
  hidden: [64, 32] as const,
} as const;

/** A small deterministic PRNG (mulberry32) so the demo model's weights are the same on every machine. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** He-style uniform weights in [-limit, limit], limit = sqrt(6 / fan_in). */
function denseWeights(next: () => number, fanIn: number, fanOut: number): { kernel: Tensor; bias: Tensor } {
  const limit = Math.sqrt(6 / fanIn);
  const kernel = new Float32Array(fanIn * fanOut).map(() => (next() * 2 - 1) * limit);
  const bias = new Float32Array(fanOut).map(() => (next() * 2 - 1) * 0.1);
  return {
    kernel: new Tensor(DataType.DT_FLOAT, [fanIn, fanOut], kernel),
    bias: new Tensor(DataType.DT_FLOAT, [fanOut], bias),
  };
}

/**
 * The ranking MLP served by default: input_features float32 [-1, 32] → Dense(64, relu) → Dense(32, relu)
 * → Dense(1) → output_logits float32 [-1, 1]. Written as a TF1-style graph (VariableV2 + Saver restore),
 * which TensorFlow Serving itself can load.
 *
 * @example
 * await writeSavedModel("models/ranking_model/1", rankingModel());
 */
export function rankingModel(
  seed = 20261128,
): SavedModelContents & { layers: { kernel: Tensor; bias: Tensor }[] } {
  const next = random(seed);
  const g = new GraphBuilder();
  const widths = [RANKING_MODEL.features, ...RANKING_MODEL.hidden, 1];
  const layerNames = ["dense_1", "dense_2", "logits"];
  const float = attr.type(DataType.DT_FLOAT);

  let activation = g.placeholder(RANKING_MODEL.input, DataType.DT_FLOAT, [-1, RANKING_MODEL.features]);
  const variables = new Map<string, Tensor>();
  const layers: { kernel: Tensor; bias: Tensor }[] = [];
  layerNames.forEach((layer, i) => {
    const weights = denseWeights(next, widths[i] ?? 0, widths[i + 1] ?? 0);
    layers.push(weights);
    variables.set(`${layer}/kernel`, weights.kernel);
    variables.set(`${layer}/bias`, weights.bias);
    const kernel = g.variable(`${layer}/kernel`, DataType.DT_FLOAT, weights.kernel.shape);
    const bias = g.variable(`${layer}/bias`, DataType.DT_FLOAT, weights.bias.shape);
    const matmul = g.op("MatMul", `${layer}/MatMul`, [activation, kernel], {
      T: float,
      transpose_a: attr.bool(false),
      transpose_b: attr.bool(false),
    });
    activation = g.op("BiasAdd", `${layer}/BiasAdd`, [matmul, bias], {
      T: float,
      data_format: attr.string("NHWC"),
    });
    if (i < layerNames.length - 1) activation = g.op("Relu", `${layer}/Relu`, [activation], { T: float });
  });
  g.op("Identity", RANKING_MODEL.output, [activation], { T: float });

  const saver = g.saver([...variables.keys()].map((name) => ({ name, dtype: DataType.DT_FLOAT })));
  const tensorInfo = (name: string, dims: number[]) => ({
    encoding: { case: "name" as const, value: `${name}:0` },
    dtype: DataType.DT_FLOAT,
    tensorShape: shapeToProto(dims),
  });
  const savedModel: SavedModel = create(SavedModelSchema, {
    savedModelSchemaVersion: 1n,
    metaGraphs: [
      {
        metaInfoDef: { tags: ["serve"], tensorflowVersion: "2.15.0", metaGraphVersion: "ts-serving" },
        graphDef: g.build(),
        saverDef: {
          filenameTensorName: saver.filenameTensor,
          saveTensorName: saver.saveTensor,
          restoreOpName: saver.restoreOp,
          maxToKeep: 5,
          keepCheckpointEveryNHours: 10000,
          version: SaverDef_CheckpointFormatVersion.V2,
        },
        signatureDef: {
          serving_default: {
            inputs: { [RANKING_MODEL.input]: tensorInfo(RANKING_MODEL.input, [-1, RANKING_MODEL.features]) },
            outputs: { [RANKING_MODEL.output]: tensorInfo(RANKING_MODEL.output, [-1, 1]) },
            methodName: "tensorflow/serving/predict",
          },
        },
      },
    ],
  });
  return { savedModel, variables, layers };
}

/** The model's answer computed directly from its weights: the reference for tests. */
export function rankingModelReference(
  layers: readonly { kernel: Tensor; bias: Tensor }[],
  row: Float32Array,
): number {
  let activation = Array.from(row);
  layers.forEach((layer, index) => {
    const [fanIn = 0, fanOut = 0] = layer.kernel.shape;
    const kernel = layer.kernel.values as Float32Array;
    const bias = layer.bias.values as Float32Array;
    const out = new Array<number>(fanOut).fill(0);
    for (let j = 0; j < fanOut; j++) {
      let sum = bias[j] ?? 0;
      for (let i = 0; i < fanIn; i++) sum += (activation[i] ?? 0) * (kernel[i * fanOut + j] ?? 0);
      out[j] = index < layers.length - 1 ? Math.max(0, sum) : sum;
    }
    activation = out;
  });
  return activation[0] ?? 0;
}
