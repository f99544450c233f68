import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { needsFixtures, REPO_ROOT, savedModelFixture, tfServingModel } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { DataType } from "../tensor/dtype.js";
import { readNpy, writeNpy } from "../tensor/npy.js";
import { Tensor } from "../tensor/tensor.js";

const execute = promisify(execFile);

/** The real CLI, as a user runs it. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await execute(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args],
      { cwd: REPO_ROOT },
    );
    return { stdout, stderr, code: 0 };
  } catch (error: unknown) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("ts-serving run", needsFixtures, () => {
  const scratchDir = useScratchDir("run");

  it("runs a signature on --input_exprs and prints NumPy-style results like saved_model_cli", async () => {
    const result = await cli(
      "run",
      "--dir",
      tfServingModel("saved_model_half_plus_two_cpu"),
      "--tag_set",
      "serve",
      "--signature_def",
      "serving_default",
      "--input_exprs",
      "x=[[1.0], [2.0], [5.0]]",
    );
    assert.equal(result.stderr.replace(/.*Unknown.*\n/g, ""), "");
    assert.equal(result.stdout, "Result for output key y:\n[[2.5]\n [3. ]\n [4.5]]\n");
  });

  it("feeds serialized tf.Examples from --input_examples to a classify signature", async () => {
    const result = await cli(
      "run",
      "--dir",
      tfServingModel("saved_model_half_plus_two_tf2_cpu"),
      "--signature_def",
      "classify_x_to_y",
      "--input_examples",
      'inputs=[{"x": [1.0]}, {"x": [3.0]}]',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "Result for output key scores:\n[[2.5]\n [3.5]]\n");
  });

  it("reads --inputs .npy files with the 'a=x.npy;b=y.npy' form and --tag_set serve,train, and writes --outdir", async () => {
    const dir = scratchDir("npy");
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, "x.npy"),
      writeNpy(new Tensor(DataType.DT_FLOAT, [3], new Float32Array([1, 2, 3]))),
    );
    await writeFile(
      join(dir, "y.npy"),
      writeNpy(new Tensor(DataType.DT_FLOAT, [3], new Float32Array([0, 0, 0]))),
    );
    const outdir = join(dir, "out");
    const args = [
      "run",
      "--dir",
      savedModelFixture("tf1_linear_regression"),
      "--tag_set",
      "serve,train",
      "--signature_def",
      "tensorflow/serving/regress",
      "--inputs",
      `x=${join(dir, "x.npy")};y=${join(dir, "y.npy")}`,
      "--outdir",
      outdir,
    ];
    const result = await cli(...args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Output out is saved to .*out\.npy/);
    const saved = readNpy(await readFile(join(outdir, "out.npy")));
    assert.deepEqual(saved.shape, [3]);
    // y_hat = w*x + b: three points on one line.
    const [a = 0, b = 0, c = 0] = Array.from(saved.values as Float32Array);
    assert.ok(Math.abs(c - b - (b - a)) < 1e-5, `collinear: ${a}, ${b}, ${c}`);
    const again = await cli(...args);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /overwrite/);
  });

  it("fails with one line for an unknown signature or input name", async () => {
    const sig = await cli(
      "run",
      "--dir",
      tfServingModel("saved_model_half_plus_two_cpu"),
      "--signature_def",
      "nope",
      "--input_exprs",
      "x=[1.0]",
    );
    assert.equal(sig.code, 1);
    assert.match(sig.stderr, /ts-serving: error: .*no SignatureDef "nope".*available: classify_x_to_y/);
    const input = await cli(
      "run",
      "--dir",
      tfServingModel("saved_model_half_plus_two_cpu"),
      "--input_exprs",
      "z=[1.0]",
    );
    assert.equal(input.code, 1);
    assert.match(input.stderr, /z/);
  });
});
