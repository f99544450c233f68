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
import { loadServable, type Servable } from "../src/runtime/servable.js";
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
/**
 * Sessions per side, used in turn. Two onnxruntime sessions of the same model in one process differ by
 * up to ~10% in speed, consistently for their lifetime (where their buffers landed); one session per
 * side made that a per-run bias of ±6% even raw against raw.
 */
const SESSIONS = 4;

type Call = () => Promise<unknown>;

async function timePerCall(calls: number, call: Call): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  return Number(process.hrtime.bigint() - start) / 1e6 / calls;
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Comparison {
  baselineMs: number;
  candidateMs: number;
  /** Median of the per-round ratios candidate / baseline. */
  ratio: number;
}

/**
 * Alternating rounds of ~ROUND_MS per side, each side cycling through its sessions (the pairings rotate
 * too); the ratio is taken per round, so a noisy neighbour slows both sides of a round alike.
 */
async function compare(baseline: readonly Call[], candidate: readonly Call[]): Promise<Comparison> {
  const first = baseline[0];
  if (!first) throw new Error("no sessions");
  const calls = Math.max(3, Math.round(ROUND_MS / (await timePerCall(20, first))));
  for (let w = 0; w < WARMUP_MS / ROUND_MS; w++) {
    await timePerCall(calls, candidate[w % candidate.length] as Call);
    await timePerCall(calls, baseline[w % baseline.length] as Call);
  }
  const baseTimes: number[] = [];
  const candidateTimes: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const base = baseline[(r + Math.floor(r / baseline.length)) % baseline.length] as Call;
    const cand = candidate[r % candidate.length] as Call;
    const baseFirst = r % 2 === 0;
    const a = await timePerCall(calls, baseFirst ? base : cand);
    const b = await timePerCall(calls, baseFirst ? cand : base);
    const [baseMs, candMs] = baseFirst ? [a, b] : [b, a];
    baseTimes.push(baseMs);
    candidateTimes.push(candMs);
    ratios.push(candMs / baseMs);
  }
  return {
    baselineMs: median(baseTimes),
    candidateMs: median(candidateTimes),
    ratio: median(ratios),
  };
}

const dir = await mkdtemp(join(tmpdir(), "bench-engine-"));
try {
  const model = mlpSavedModel({ widths: WIDTHS, input: "x", output: "y", seed: 7 });
  await writeSavedModel(join(dir, "1"), model);
  const servables: Servable[] = [];
  const loadTimes: number[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const start = process.hrtime.bigint();
    servables.push(await loadServable(join(dir, "1")));
    loadTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  // Twice as many raw sessions: the second half is the other side of the raw-vs-raw noise check.
  const rawModel = onnxMlp(model.layers);
  const rawSessions: InferenceSession[] = [];
  const rawLoadTimes: number[] = [];
  for (let i = 0; i < 2 * SESSIONS; i++) {
    const start = process.hrtime.bigint();
    rawSessions.push(await InferenceSession.create(rawModel, { graphOptimizationLevel: "all" }));
    rawLoadTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const runners = servables.map((servable) => {
    const runner = servable.signatures.get("serving_default");
    if (!runner) throw new Error("no serving_default");
    return runner;
  });

  console.log(
    `MLP ${WIDTHS.join("→")} float32; ${ROUNDS} alternating rounds over ${SESSIONS} sessions a side, median of the per-round ratios`,
  );
  console.log(
    `load: ts-serving ${median(loadTimes).toFixed(1)} ms (SavedModel → compiled plan), raw ONNX session ${median(rawLoadTimes).toFixed(1)} ms (medians)`,
  );
  console.log("batch | raw onnxruntime | ts-serving | ratio (median of rounds)");
  const row = (label: string, c: Comparison): string =>
    `${label.padStart(5)} | ${c.baselineMs.toFixed(3).padStart(12)} ms | ${c.candidateMs.toFixed(3).padStart(7)} ms | ${c.ratio.toFixed(3).padStart(5)}`;
  const width = WIDTHS[0] ?? 0;
  for (const batch of BATCHES) {
    const values = new Float32Array(batch * width).map((_, i) => Math.sin(i));
    const input = new Tensor(DataType.DT_FLOAT, [batch, width], values);
    const ours = runners.map((runner) => () => runner.run(new Map([["x", input]])));
    const raw = rawSessions.map(
      (session) => () => session.run({ x: new OrtTensor("float32", values, [batch, width]) }),
    );
    const a = (await runners[0]?.run(new Map([["x", input]])))?.get("y")?.values[0];
    const b = (await raw[0]?.())?.y?.data[0];
    if (Math.abs(Number(a) - Number(b)) > 1e-4) throw new Error(`outputs differ: ${a} vs ${b}`);
    console.log(row(String(batch), await compare(raw.slice(0, SESSIONS), ours)));
    // The method's own noise floor: the same comparison with raw onnxruntime on both sides.
    if (batch === 1) console.log(row("1 A/A", await compare(raw.slice(0, SESSIONS), raw.slice(SESSIONS))));
  }
  for (const servable of servables) await servable.close();
  for (const session of rawSessions) await session.release();

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
      const start = process.hrtime.bigint();
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
