// The engine's overhead over raw onnxruntime: an MLP 256→512→512→1 exported as a TF SavedModel by our
// writer and compiled by ts-serving, against the same network built directly as an ONNX model and run
// by onnxruntime-node, in the same process. Also load times: the MLP and every fixture model.
// Run: npm run bench:engine
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { mlpSavedModel } from "../src/export/mlp.js";
import { loadServable } from "../src/runtime/servable.js";
import { listVersionDirs } from "../src/savedmodel/model-dir.js";
import { writeSavedModel } from "../src/savedmodel/saved-model-writer.js";
import { DataType } from "../src/tensor/dtype.js";
import { Tensor } from "../src/tensor/tensor.js";
import { SAVEDMODEL_FIXTURES, TFSERVING_FIXTURES } from "../test/fixtures.js";
import { onnxMlp } from "./onnx-mlp.js";

const WIDTHS = [256, 512, 512, 1];
const BATCHES = [1, 32, 256];
const ROUNDS = 41;
/** Each side of a round runs about this long: rounds much shorter than a scheduler slice are mostly noise. */
const ROUND_MS = 10;
/** Warm-up per side and batch size, long enough for V8 to optimise both call paths fully. */
const WARMUP_MS = 500;

async function timePerCall(calls: number, call: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1e6 / calls;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const dir = await mkdtemp(join(tmpdir(), "bench-engine-"));
try {
  const model = mlpSavedModel({ widths: WIDTHS, input: "x", output: "y", seed: 7 });
  await writeSavedModel(join(dir, "1"), model);
  let start = process.hrtime.bigint();
  const servable = await loadServable(join(dir, "1"));
  const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
  const runner = servable.signatures.get("serving_default");
  if (!runner) throw new Error("no serving_default");
  start = process.hrtime.bigint();
  const raw = await InferenceSession.create(onnxMlp(model.layers), { graphOptimizationLevel: "all" });
  const rawLoadMs = Number(process.hrtime.bigint() - start) / 1e6;

  console.log(
    `MLP ${WIDTHS.join("→")} float32; ${ROUNDS} alternating rounds, median of the per-round ratios`,
  );
  console.log(
    `load: ts-serving ${loadMs.toFixed(1)} ms (SavedModel → compiled plan), raw ONNX session ${rawLoadMs.toFixed(1)} ms`,
  );
  console.log("batch | raw onnxruntime | ts-serving | ratio (median of rounds) | ratio (best round each)");
  for (const batch of BATCHES) {
    const values = new Float32Array(batch * (WIDTHS[0] ?? 0)).map((_, i) => Math.sin(i));
    const input = new Tensor(DataType.DT_FLOAT, [batch, WIDTHS[0] ?? 0], values);
    const ours = () => runner.run(new Map([["x", input]]));
    const theirs = () => raw.run({ x: new OrtTensor("float32", values, [batch, WIDTHS[0] ?? 0]) });
    const a = (await ours()).get("y")?.values[0];
    const b = (await theirs()).y?.data[0];
    if (Math.abs(Number(a) - Number(b)) > 1e-4) throw new Error(`outputs differ: ${a} vs ${b}`);
    const calls = Math.max(3, Math.round(ROUND_MS / (await timePerCall(20, theirs))));
    for (let w = 0; w < WARMUP_MS / ROUND_MS; w++) {
      await timePerCall(calls, ours);
      await timePerCall(calls, theirs);
    }
    // Short alternating rounds, the ratio taken per round: a noisy neighbour slows both sides of a round alike.
    const rawTimes: number[] = [];
    const ourTimes: number[] = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const first = r % 2 === 0;
      const a = await timePerCall(calls, first ? theirs : ours);
      const b = await timePerCall(calls, first ? ours : theirs);
      const [rawMs, ourMs] = first ? [a, b] : [b, a];
      rawTimes.push(rawMs);
      ourTimes.push(ourMs);
      ratios.push(ourMs / rawMs);
    }
    console.log(
      `${String(batch).padStart(5)} | ${median(rawTimes).toFixed(3).padStart(12)} ms | ${median(ourTimes).toFixed(3).padStart(7)} ms | ${median(ratios).toFixed(3).padStart(5)} | ${(Math.min(...ourTimes) / Math.min(...rawTimes)).toFixed(3)}`,
    );
  }
  await servable.close();
  await raw.release();

  if (existsSync(TFSERVING_FIXTURES)) {
    console.log("\nload time of every fixture (loadServable: read, compile every signature, run init ops):");
    const dirs: string[] = [];
    for (const name of readdirSync(TFSERVING_FIXTURES).sort()) {
      const base = join(TFSERVING_FIXTURES, name);
      if (name.includes(".")) continue;
      for (const v of await listVersionDirs(base)) dirs.push(v.dir);
    }
    for (const name of readdirSync(SAVEDMODEL_FIXTURES).sort())
      if (!name.includes(".")) dirs.push(join(SAVEDMODEL_FIXTURES, name));
    for (const fixture of dirs) {
      const label = fixture.slice(fixture.indexOf("fixtures/") + 9);
      start = process.hrtime.bigint();
      try {
        const tags = fixture.endsWith("tf1_linear_regression") ? ["serve", "train"] : ["serve"];
        const loaded = await loadServable(fixture, { tags });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        console.log(`  ${ms.toFixed(1).padStart(7)} ms  ${label} (${loaded.signatures.size} signatures)`);
        await loaded.close();
      } catch (error) {
        console.log(
          `        —    ${label}: ${(error as Error).message.split(":").slice(0, 2).join(":").slice(0, 90)}`,
        );
      }
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
