// A SavedModel for the batching tests, written by our exporter: several signatures with float,
// int64, string and bool inputs, each output a simple function of its own row.
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { savedModelFromGraph } from "../export/signature-model.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";

const spec = (dtype: DataType, shape: readonly number[]) => ({ dtype, shape });

/**
 * Signatures:
 * - `serving_default`: x float [-1,3], k int64 [-1] → y = 2x + 1, k_out = k + 7
 * - `strings`: text string [-1], flag bool [-1] → text_out = text, flag_out = !flag
 * - `seq`: tokens float [-1,-1] → tokens_out = tokens (for pad_variable_length_inputs)
 */
export async function writeBatchingModel(dir: string): Promise<void> {
  const g = new GraphBuilder();
  const float = attr.type(DataType.DT_FLOAT);
  const x = g.placeholder("x", DataType.DT_FLOAT, [-1, 3]);
  const two = g.constant("two", new Tensor(DataType.DT_FLOAT, [], new Float32Array([2])));
  const one = g.constant("one", new Tensor(DataType.DT_FLOAT, [], new Float32Array([1])));
  const doubled = g.op("Mul", "doubled", [x, two], { T: float });
  g.op("AddV2", "y", [doubled, one], { T: float });
  const k = g.placeholder("k", DataType.DT_INT64, [-1]);
  const seven = g.constant("seven", new Tensor(DataType.DT_INT64, [], new BigInt64Array([7n])));
  g.op("AddV2", "k_out", [k, seven], { T: attr.type(DataType.DT_INT64) });
  const text = g.placeholder("text", DataType.DT_STRING, [-1]);
  g.op("Identity", "text_out", [text], { T: attr.type(DataType.DT_STRING) });
  const flag = g.placeholder("flag", DataType.DT_BOOL, [-1]);
  g.op("LogicalNot", "flag_out", [flag]);
  const tokens = g.placeholder("tokens", DataType.DT_FLOAT, [-1, -1]);
  g.op("Identity", "tokens_out", [tokens], { T: float });
  const savedModel = savedModelFromGraph(g.build(), {
    serving_default: {
      inputs: { x: spec(DataType.DT_FLOAT, [-1, 3]), k: spec(DataType.DT_INT64, [-1]) },
      outputs: { y: spec(DataType.DT_FLOAT, [-1, 3]), k_out: spec(DataType.DT_INT64, [-1]) },
    },
    strings: {
      inputs: { text: spec(DataType.DT_STRING, [-1]), flag: spec(DataType.DT_BOOL, [-1]) },
      outputs: { text_out: spec(DataType.DT_STRING, [-1]), flag_out: spec(DataType.DT_BOOL, [-1]) },
    },
    seq: {
      inputs: { tokens: spec(DataType.DT_FLOAT, [-1, -1]) },
      outputs: { tokens_out: spec(DataType.DT_FLOAT, [-1, -1]) },
    },
  });
  await writeSavedModel(dir, { savedModel });
}
