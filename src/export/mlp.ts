import { seededRandom } from "../compiler/host/random.js";
import { DataType } from "../proto/gen/tensorflow/core/framework/types_pb.js";
import { SaverDef_CheckpointFormatVersion } from "../proto/gen/tensorflow/core/protobuf/saver_pb.js";
import type { SavedModelContents } from "../savedmodel/saved-model-writer.js";
import { Tensor } from "../tensor/tensor.js";
import { attr, GraphBuilder } from "./graph-builder.js";
import { savedModelFromGraph } from "./signature-model.js";

/** One dense layer's weights. */
export interface DenseLayer {
  readonly name: string;
  readonly kernel: Tensor;
  readonly bias: Tensor;
}

export interface MlpSpec {
  /** Layer widths, input first: [256, 512, 512, 1] is 256 → 512 → 512 → 1. */
  readonly widths: readonly number[];
  readonly input: string;
  readonly output: string;
  readonly seed: number;
  /** Layer names (default dense_1, dense_2, ... and "logits" for the last). */
  readonly layerNames?: readonly string[];
}

/**
 * Deterministic He-style uniform weights in [-limit, limit], limit = sqrt(6 / fan_in), the same on
 * every machine (seededRandom).
 */
export function mlpWeights(spec: MlpSpec): DenseLayer[] {
  const next = seededRandom(spec.seed);
  return spec.widths.slice(1).map((fanOut, i) => {
    const fanIn = spec.widths[i] ?? 0;
    const limit = Math.sqrt(6 / fanIn);
    const last = i === spec.widths.length - 2;
    return {
      name: spec.layerNames?.[i] ?? (last ? "logits" : `dense_${i + 1}`),
      kernel: new Tensor(
        DataType.DT_FLOAT,
        [fanIn, fanOut],
        new Float32Array(fanIn * fanOut).map(() => (next() * 2 - 1) * limit),
      ),
      bias: new Tensor(
        DataType.DT_FLOAT,
        [fanOut],
        new Float32Array(fanOut).map(() => (next() * 2 - 1) * 0.1),
      ),
    };
  });
}

/**
 * A dense MLP (MatMul + BiasAdd + Relu, no activation on the last layer) as a SavedModel: a TF1-style
 * graph with VariableV2 weights and a Saver, which TensorFlow Serving itself can load, and one
 * `serving_default` predict signature `input` float32 [-1, widths[0]] → `output` [-1, widths.at(-1)].
 *
 * @example
 * const { savedModel, variables } = mlpSavedModel({ widths: [256, 512, 1], input: "x", output: "y", seed: 1 });
 */
export function mlpSavedModel(spec: MlpSpec): SavedModelContents & { layers: DenseLayer[] } {
  const layers = mlpWeights(spec);
  const g = new GraphBuilder();
  const float = attr.type(DataType.DT_FLOAT);
  let activation = g.placeholder(spec.input, DataType.DT_FLOAT, [-1, spec.widths[0] ?? 0]);
  const variables = new Map<string, Tensor>();
  layers.forEach((layer, i) => {
    variables.set(`${layer.name}/kernel`, layer.kernel);
    variables.set(`${layer.name}/bias`, layer.bias);
    const kernel = g.variable(`${layer.name}/kernel`, DataType.DT_FLOAT, layer.kernel.shape);
    const bias = g.variable(`${layer.name}/bias`, DataType.DT_FLOAT, layer.bias.shape);
    const matmul = g.op("MatMul", `${layer.name}/MatMul`, [activation, kernel], {
      T: float,
      transpose_a: attr.bool(false),
      transpose_b: attr.bool(false),
    });
    activation = g.op("BiasAdd", `${layer.name}/BiasAdd`, [matmul, bias], {
      T: float,
      data_format: attr.string("NHWC"),
    });
    if (i < layers.length - 1) activation = g.op("Relu", `${layer.name}/Relu`, [activation], { T: float });
  });
  g.op("Identity", spec.output, [activation], { T: float });

  const saver = g.saver([...variables.keys()].map((name) => ({ name, dtype: DataType.DT_FLOAT })));
  const features = (width: number) => ({ dtype: DataType.DT_FLOAT, shape: [-1, width] });
  const savedModel = savedModelFromGraph(
    g.build(),
    {
      serving_default: {
        inputs: { [spec.input]: features(spec.widths[0] ?? 0) },
        outputs: { [spec.output]: features(spec.widths.at(-1) ?? 0) },
      },
    },
    {
      metaInfoDef: { tensorflowVersion: "2.15.0", metaGraphVersion: "ts-serving" },
      saverDef: {
        filenameTensorName: saver.filenameTensor,
        saveTensorName: saver.saveTensor,
        restoreOpName: saver.restoreOp,
        maxToKeep: 5,
        keepCheckpointEveryNHours: 10000,
        version: SaverDef_CheckpointFormatVersion.V2,
      },
    },
  );
  return { savedModel, variables, layers };
}

/** The MLP's output for one input row, computed directly from its weights: the reference for tests. */
export function mlpReference(layers: readonly DenseLayer[], row: Float32Array): number[] {
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
  return activation;
}
