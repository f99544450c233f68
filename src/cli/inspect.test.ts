import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import {
  needsFixtures,
  REPO_ROOT,
  savedModelFixture,
  TFSERVING_FIXTURES,
  tfServingModel,
} from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { rankingModel } from "../export/ranking-model.js";
import { openSavedModel, readVariables } from "../savedmodel/saved-model.js";
import { ensureDefaultModel } from "./default-model.js";
import { inspect } from "./inspect.js";

const run = promisify(execFile);

/** Runs the real CLI entry point the way a user does, returning stdout, stderr and the exit code. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "src/cli/main.ts"), ...args],
      {
        cwd: REPO_ROOT,
      },
    );
    return { stdout, stderr, code: 0 };
  } catch (error: unknown) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/**
 * Which fixture each expected metadata JSON belongs to. The TF2 one predates SignatureDef.defaults:
 * the real TF 2.14 fixture stores serving_default's PlaceholderWithDefault value there (field 4), so
 * `defaults` is compared apart for it.
 */
const METADATA_FIXTURES: [json: string, dir: string, defaultsPredateFixture: boolean][] = [
  ["half_plus_two_model_metadata.json", tfServingModel("saved_model_half_plus_two_cpu"), false],
  [
    "saved_model_half_plus_two_2_versions_metadata.json",
    tfServingModel("saved_model_half_plus_two_2_versions"),
    false,
  ],
  [
    "saved_model_half_plus_two_tf2_2_versions_metadata.json",
    tfServingModel("saved_model_half_plus_two_tf2_cpu"),
    true,
  ],
];

type SignatureJson = Record<string, { defaults?: unknown }>;

function withoutDefaults(signatures: SignatureJson): SignatureJson {
  return Object.fromEntries(Object.entries(signatures).map(([key, { defaults: _, ...rest }]) => [key, rest]));
}

describe("inspect", needsFixtures, () => {
  it("prints a signature map equal to TF Serving's expected metadata JSON for each fixture that has one", async () => {
    for (const [jsonFile, dir, defaultsPredateFixture] of METADATA_FIXTURES) {
      const expected = JSON.parse(await readFile(join(TFSERVING_FIXTURES, jsonFile), "utf8"));
      const actual = JSON.parse(await inspect({ dir, json: true, modelName: expected.model_spec.name }));
      assert.deepEqual(actual.model_spec, expected.model_spec, jsonFile);
      const expectedSignatures: SignatureJson = expected.metadata.signature_def.signature_def;
      const actualSignatures: SignatureJson = actual.metadata.signature_def.signature_def;
      if (!defaultsPredateFixture) {
        assert.deepEqual(actualSignatures, expectedSignatures, jsonFile);
        continue;
      }
      assert.deepEqual(withoutDefaults(actualSignatures), withoutDefaults(expectedSignatures), jsonFile);
      const defaults = actualSignatures.serving_default?.defaults as Record<string, { float_val: number[] }>;
      assert.deepEqual(defaults.x?.float_val, [0]);
    }
  });

  it("lists tag sets, signature keys and one signature like saved_model_cli show", async () => {
    const dir = tfServingModel("saved_model_half_plus_two_cpu");
    assert.equal(await inspect({ dir }), "The given SavedModel contains the following tag-sets:\n'serve'\n");
    assert.match(
      await inspect({ dir, tagSet: "serve" }),
      /SignatureDef key: "classify_x_to_y"\nSignatureDef key: "regress_x2_to_y3"/,
    );
    assert.equal(
      await inspect({ dir, tagSet: "serve", signatureDef: "serving_default" }),
      [
        "The given SavedModel SignatureDef contains the following input(s):",
        "  inputs['x'] tensor_info:",
        "      dtype: DT_FLOAT",
        "      shape: (-1, 1)",
        "      name: x:0",
        "The given SavedModel SignatureDef contains the following output(s):",
        "  outputs['y'] tensor_info:",
        "      dtype: DT_FLOAT",
        "      shape: (-1, 1)",
        "      name: y:0",
        "Method name is: tensorflow/serving/predict",
        "",
      ].join("\n"),
    );
    const all = await inspect({ dir: savedModelFixture("tf1_linear_regression"), all: true });
    assert.match(all, /MetaGraphDef with tag-set: 'serve, train' contains the following SignatureDefs:/);
    assert.match(all, /shape: unknown_rank/);
  });

  it("lists variables with dtype, shape and size", async () => {
    const text = await inspect({ dir: tfServingModel("saved_model_half_plus_two_tf2_cpu"), variables: true });
    assert.match(text, /a\/\.ATTRIBUTES\/VARIABLE_VALUE\s+DT_FLOAT\s+\(\)\s+4 bytes/);
    assert.match(text, /_CHECKPOINTABLE_OBJECT_GRAPH\s+DT_STRING/);
  });

  it("exits non-zero with one line naming the problem for non-SavedModels and unknown tag sets", async () => {
    const bad = await cli("inspect", "--dir", tfServingModel("bad_half_plus_two"));
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^ts-serving: error: .*is not a SavedModel: it holds a legacy TF Serving SessionBundle.*\n$/,
    );
    const tags = await cli(
      "inspect",
      "--dir",
      tfServingModel("saved_model_half_plus_two_cpu"),
      "--tag_set",
      "gpu",
    );
    assert.equal(tags.code, 1);
    assert.match(tags.stderr, /no MetaGraphDef with tag set \{gpu\}; available tag sets: \{serve\}/);
    const sig = await cli(
      "show",
      "--dir",
      tfServingModel("saved_model_half_plus_two_cpu"),
      "--tag_set",
      "serve",
      "--signature_def",
      "nope",
    );
    assert.match(sig.stderr, /no SignatureDef "nope".*known: classify_x_to_y/);
  });

  it("accepts a model base path and inspects its highest version", async () => {
    const result = await cli(
      "inspect",
      "--dir",
      join(TFSERVING_FIXTURES, "saved_model_half_plus_two_2_versions"),
      "--json",
    );
    assert.equal(result.code, 0);
    assert.equal(JSON.parse(result.stdout).model_spec.version, "124");
    assert.match(result.stderr, /highest version 124/);
  });
});

describe("default model", () => {
  const scratchDir = useScratchDir("default");

  it("is written once as a SavedModel with the documented signature and reused afterwards", async () => {
    const modelsDir = scratchDir("models");
    const first = await ensureDefaultModel(modelsDir);
    assert.equal(first.created, true);
    const again = await ensureDefaultModel(modelsDir);
    assert.equal(again.created, false);
    const text = await inspect({
      dir: join(first.basePath, "1"),
      tagSet: "serve",
      signatureDef: "serving_default",
    });
    assert.match(text, /inputs\['input_features'\] tensor_info:\n\s+dtype: DT_FLOAT\n\s+shape: \(-1, 32\)/);
    assert.match(text, /outputs\['output_logits'\] tensor_info:\n\s+dtype: DT_FLOAT\n\s+shape: \(-1, 1\)/);
    const variables = await inspect({ dir: join(first.basePath, "1"), variables: true });
    assert.match(variables, /dense_1\/kernel\s+DT_FLOAT\s+\(32, 64\)\s+8192 bytes/);
    assert.match(variables, /6 variables/);
    const written = await readVariables(await openSavedModel(join(first.basePath, "1")));
    assert.deepEqual(written, rankingModel().variables, "the weights are deterministic and stored exactly");
  });
});
