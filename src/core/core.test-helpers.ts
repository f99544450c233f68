// Models for the core's tests and bench/hotswap.ts: each version answers y = x * <version>, so a
// response tells which version computed it.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { attr, GraphBuilder } from "../export/graph-builder.js";
import { savedModelFromGraph, type TensorSpec } from "../export/signature-model.js";
import { SaverDef_CheckpointFormatVersion } from "../proto/gen/tensorflow/core/protobuf/saver_pb.js";
import type { Servable } from "../runtime/servable.js";
import { writeSavedModel } from "../savedmodel/saved-model-writer.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import type { ServerCore } from "./server-core.js";

export interface ScaleModelOptions {
  /** Width of x and y (default 4). */
  readonly width?: number;
  /**
   * Columns of a [256, ballast] float variable W (default 0: none) and an extra int32 input `row`
   * [-1] with output z = W[row]: weight bytes (1 MiB per 1024 columns) that make a version's memory
   * visible in RSS, at the cost of one row copy per request.
   */
  readonly ballast?: number;
}

const BALLAST_ROWS = 256;

/**
 * Writes a SavedModel (TF1 style, written with writeSavedModel) whose `serving_default` maps
 * `x` float [-1, width] to `y` = x * `scale` (and `row` to `z`, see `ballast`).
 */
export async function writeScaleModel(
  dir: string,
  scale: number,
  options: ScaleModelOptions = {},
): Promise<void> {
  const width = options.width ?? 4;
  const ballast = options.ballast ?? 0;
  const g = new GraphBuilder();
  const float = attr.type(DataType.DT_FLOAT);
  const x = g.placeholder("x", DataType.DT_FLOAT, [-1, width]);
  const factor = g.constant("scale", new Tensor(DataType.DT_FLOAT, [], new Float32Array([scale])));
  g.op("Mul", "y", [x, factor], { T: float });
  const info = (shape: number[], dtype = DataType.DT_FLOAT): TensorSpec => ({ dtype, shape });
  const inputs: Record<string, TensorSpec> = { x: info([-1, width]) };
  const outputs: Record<string, TensorSpec> = { y: info([-1, width]) };
  const variables = new Map<string, Tensor>();
  let saverDef = {};
  if (ballast > 0) {
    const row = g.placeholder("row", DataType.DT_INT32, [-1]);
    const w = g.variable("w", DataType.DT_FLOAT, [BALLAST_ROWS, ballast]);
    const axis = g.constant("axis", new Tensor(DataType.DT_INT32, [], new Int32Array([0])));
    g.op("GatherV2", "z", [w, row, axis], {
      Tparams: float,
      Tindices: attr.type(DataType.DT_INT32),
      Taxis: attr.type(DataType.DT_INT32),
      batch_dims: attr.int(0),
    });
    inputs.row = info([-1], DataType.DT_INT32);
    outputs.z = info([-1, ballast]);
    const values = new Float32Array(BALLAST_ROWS * ballast).map(
      (_, i) => (((i * 7919) % 1000) / 1000 - 0.5) * scale,
    );
    variables.set("w", new Tensor(DataType.DT_FLOAT, [BALLAST_ROWS, ballast], values));
    const saver = g.saver([{ name: "w", dtype: DataType.DT_FLOAT }]);
    saverDef = {
      filenameTensorName: saver.filenameTensor,
      saveTensorName: saver.saveTensor,
      restoreOpName: saver.restoreOp,
      version: SaverDef_CheckpointFormatVersion.V2,
    };
  }
  const savedModel = savedModelFromGraph(g.build(), { serving_default: { inputs, outputs } }, { saverDef });
  await writeSavedModel(dir, ballast > 0 ? { savedModel, variables } : { savedModel });
}

/** Writes a version directory whose saved_model.pb is garbage: its load fails. */
export async function writeCorruptModel(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "saved_model.pb"), Buffer.from("this is not a SavedModel protobuf \u0000\u00ff"));
}

/**
 * Runs `serving_default` on x = [[1, 2, ..., width]] (and a `row`, if the model has ballast) and
 * returns y[0][0] / x[0][0], i.e. the scale.
 */
export async function askScale(servable: Servable, width = 4): Promise<number> {
  const runner = servable.signatures.get("serving_default");
  if (!runner) throw new Error(`${servable.dir} has no serving_default`);
  const x = new Tensor(
    DataType.DT_FLOAT,
    [1, width],
    Float32Array.from({ length: width }, (_, i) => i + 1),
  );
  const inputs = new Map([["x", x]]);
  if (runner.def.inputs.row)
    inputs.set("row", new Tensor(DataType.DT_INT32, [1], new Int32Array([width % 256])));
  const out = await runner.run(inputs, { outputFilter: ["y"] });
  const y = out.get("y")?.values as Float32Array | undefined;
  if (!y) throw new Error("no y in the outputs");
  for (let i = 1; i < width; i++) {
    if (y[i] !== y[0]! * (i + 1)) throw new Error(`inconsistent y ${Array.from(y)}`);
  }
  return y[0]!;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `done()` holds, checked now and at every state change of `core`; rejects after
 * `timeoutMs` (a guard against a hang, not a timing assertion).
 *
 * @example
 * await waitForState(core, () => core.status("m")[0]?.state === "AVAILABLE");
 */
export function waitForState(core: ServerCore, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error("timed out waiting for a state"));
    }, timeoutMs);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      off();
      resolve();
    };
    const off = core.on("state", check);
    check();
  });
}
