import assert from "node:assert/strict";
import { cp, mkdir, readdir, readFile, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { equals, toBinary } from "@bufbuild/protobuf";
import {
  needsFixtures,
  SAVEDMODEL_FIXTURES,
  savedModelFixture,
  TFSERVING_FIXTURES,
  tfServingModel,
} from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { rankingModel } from "../export/ranking-model.js";
import { SavedModelSchema } from "../proto/gen/tensorflow/core/protobuf/saved_model_pb.js";
import { printTextProto } from "../proto/text-format.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { BundleReader } from "./bundle/index.js";
import { listVersionDirs } from "./model-dir.js";
import { openSavedModel, readVariables, type SavedModelBundle } from "./saved-model.js";
import { writeSavedModel } from "./saved-model-writer.js";
import { TableReader } from "./table/table-reader.js";

/** Version directories of every SavedModel fixture, with the tag set each is loaded with. */
async function savedModelFixtureDirs(): Promise<{ dir: string; tags: string[] }[]> {
  const dirs: { dir: string; tags: string[] }[] = [];
  for (const name of (await readdir(TFSERVING_FIXTURES)).sort()) {
    if (NOT_SAVED_MODELS.has(name) || name.endsWith(".json") || name.endsWith(".txt")) continue;
    for (const { dir } of await listVersionDirs(join(TFSERVING_FIXTURES, name)))
      dirs.push({ dir, tags: ["serve"] });
  }
  for (const name of (await readdir(SAVEDMODEL_FIXTURES)).sort()) {
    if (name.endsWith(".md")) continue;
    dirs.push({
      dir: join(SAVEDMODEL_FIXTURES, name),
      tags: name === "tf1_linear_regression" ? ["serve", "train"] : ["serve"],
    });
  }
  return dirs;
}

const NOT_SAVED_MODELS = new Map([
  ["bad_half_plus_two", /legacy TF Serving SessionBundle/],
  ["parse_example_tflite", /TensorFlow Lite model/],
  ["saved_model_half_plus_two_tflite", /TensorFlow Lite model/],
  ["saved_model_half_plus_two_tflite_with_sigdef", /TensorFlow Lite model/],
]);

/** A variable's value by its TF1 name (`a`) or its TF2 object path (`a/.ATTRIBUTES/VARIABLE_VALUE`). */
function variable(values: Map<string, Tensor>, name: string): Tensor {
  const found = values.get(name) ?? values.get(`${name}/.ATTRIBUTES/VARIABLE_VALUE`);
  assert.ok(found, `variable ${name} not among ${[...values.keys()].join(", ")}`);
  return found;
}

const scalar = (t: Tensor): number => Number(t.values[0]);

describe("SavedModel fixtures", needsFixtures, () => {
  it("opens every SavedModel fixture, lists its signatures and reads every variable with verified checksums", async () => {
    const dirs = await savedModelFixtureDirs();
    assert.ok(dirs.length >= 28, `found ${dirs.length} fixture versions`);
    for (const { dir, tags } of dirs) {
      const bundle = await openSavedModel(dir, { tags });
      assert.ok(bundle.signatures.size > 0, `${dir} has signatures`);
      for (const [key, sig] of bundle.signatures) {
        if (key === "__saved_model_init_op") continue;
        assert.ok(Object.keys(sig.outputs).length > 0, `${dir} ${key} has outputs`);
      }
      const values = await readVariables(bundle);
      if (bundle.variablesPrefix) assert.ok(values.size > 0, `${dir} has variables`);
    }
  });

  it("holds the values the half_plus_N models are named after", async () => {
    const expectations: [string, number, number][] = [
      ["saved_model_half_plus_two_cpu", 0.5, 2],
      ["saved_model_half_plus_two_gpu", 0.5, 2],
      ["saved_model_half_plus_two_mkl", 0.5, 2],
      ["saved_model_half_plus_two_mlmd", 0.5, 2],
      ["saved_model_half_plus_two_tf2_cpu", 0.5, 2],
      ["saved_model_half_plus_two_gpu_trt", 0.5, 2],
      ["saved_model_half_plus_two_cpu_with_saved_model_config", 0.5, 2],
      ["saved_model_half_plus_three", 0.5, 3],
    ];
    for (const [name, a, b] of expectations) {
      const values = await readVariables(await openSavedModel(tfServingModel(name)));
      assert.equal(scalar(variable(values, "a")), a, `${name}: a`);
      assert.equal(scalar(variable(values, "b")), b, `${name}: b`);
      assert.equal(variable(values, "a").dtype, DataType.DT_FLOAT);
    }
    for (const version of ["00000123", "00000124"]) {
      const values = await readVariables(
        await openSavedModel(tfServingModel("saved_model_half_plus_two_2_versions", version)),
      );
      assert.equal(scalar(variable(values, "a")), 0.5);
      assert.equal(scalar(variable(values, "b")), 2);
    }
  });

  it("reads the real models' variables: dtypes, shapes and known values", async () => {
    const uint8 = await readVariables(await openSavedModel(savedModelFixture("tfjs_uint8_multiply")));
    assert.deepEqual(
      [...uint8.values()]
        .filter((t) => t.dtype === DataType.DT_INT32)
        .map(scalar)
        .sort(),
      [2, 3],
    );
    const twoSigs = await readVariables(await openSavedModel(savedModelFixture("tfjs_multiple_signatures")));
    assert.deepEqual(
      [...twoSigs.values()]
        .filter((t) => t.dtype === DataType.DT_FLOAT)
        .map(scalar)
        .sort(),
      [2, 3],
    );
    const conv = await readVariables(await openSavedModel(savedModelFixture("tf1_mnist_conv")));
    const kernels = [...conv.entries()]
      .filter(([, t]) => t.shape.length === 4)
      .map(([, t]) => t.shape.join("x"));
    assert.ok(
      kernels.includes("6x6x1x6") && kernels.includes("5x5x6x12") && kernels.includes("4x4x12x24"),
      kernels.join(),
    );
  });

  it("resolves assets (TF2 asset_file_def and the TF1 saved_model_assets collection), assets.extra and fingerprint.pb", async () => {
    const tf2 = await openSavedModel(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    assert.deepEqual(
      tf2.assets.map((a) => [a.filename, a.tensorName, a.exists]),
      [["foo.txt", "asset_path_initializer:0", true]],
    );
    assert.equal((await readFile(tf2.assets[0]?.path ?? "", "utf8")).length > 0, true);
    assert.ok(
      tf2.fingerprint && tf2.fingerprint.savedModelChecksum > 2n ** 53n,
      "fingerprint uint64 is exact",
    );
    const tf1 = await openSavedModel(tfServingModel("saved_model_half_plus_two_cpu"));
    assert.deepEqual(
      tf1.assets.map((a) => a.filename),
      ["foo.txt"],
    );
    assert.equal(tf1.fingerprint, undefined);
    const mlmd = await openSavedModel(tfServingModel("saved_model_half_plus_two_mlmd"));
    assert.deepEqual(mlmd.assetsExtra, ["mlmd_uuid"]);
    const taxi = await openSavedModel(savedModelFixture("tft_taxi_transform_vocab"));
    assert.equal(taxi.assets.length, 4);
  });

  it("selects MetaGraphDefs by exact tag set and says which tag sets exist", async () => {
    const dir = savedModelFixture("tf1_linear_regression");
    await assert.rejects(openSavedModel(dir), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, Code.NOT_FOUND);
      assert.match(
        e.message,
        /no MetaGraphDef with tag set \{serve\}; available tag sets: \{(train,serve|serve,train)\}/,
      );
      return true;
    });
    const bundle = await openSavedModel(dir, { tags: ["train", "serve"] });
    assert.ok(bundle.signatures.has("tensorflow/serving/regress"));
  });

  it("rejects directories that are not SavedModels, saying what was found instead", async () => {
    for (const [name, what] of NOT_SAVED_MODELS) {
      await assert.rejects(openSavedModel(tfServingModel(name)), (e: unknown) => {
        assert.ok(e instanceof ServingError);
        assert.match(e.message, /is not a SavedModel/);
        assert.match(e.message, what);
        return true;
      });
    }
  });
});

describe("SavedModel write → read", needsFixtures, () => {
  const scratchDir = useScratchDir("sm");

  it("re-writes every fixture and reads back the same protos, variables, assets and extras", async () => {
    for (const { dir, tags } of await savedModelFixtureDirs()) {
      const original = await openSavedModel(dir, { tags });
      const variables = await readVariables(original);
      const copy = join(scratchDir("copy"), "1");
      await writeSavedModel(copy, {
        savedModel: original.savedModel,
        variables,
        assets: await readFiles(
          join(dir, "assets"),
          original.assets.filter((a) => a.exists).map((a) => a.filename),
        ),
        assetsExtra: await readFiles(join(dir, "assets.extra"), original.assetsExtra),
        ...(original.fingerprint ? { fingerprint: original.fingerprint } : {}),
      });
      const reread = await openSavedModel(copy, { tags });
      assert.ok(equals(SavedModelSchema, reread.savedModel, original.savedModel), `${dir}: SavedModel proto`);
      assert.deepEqual(
        toBinary(SavedModelSchema, reread.savedModel),
        toBinary(SavedModelSchema, original.savedModel),
      );
      assert.deepEqual(await readVariables(reread), variables, `${dir}: variables`);
      assert.deepEqual(reread.assetsExtra, original.assetsExtra);
      assert.deepEqual(reread.fingerprint, original.fingerprint);
    }
  });
});

async function readFiles(dir: string, names: readonly string[]): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of new Set(names)) files.set(name, await readFile(join(dir, name)));
  return files;
}

describe("saved_model.pbtxt", needsFixtures, () => {
  const scratchDir = useScratchDir("pbtxt");

  it("reads a SavedModel stored in text format, as TF's loader does when saved_model.pb is absent", async () => {
    const original = await openSavedModel(tfServingModel("saved_model_half_plus_two_tf2_cpu"));
    const dir = scratchDir("text");
    await cp(original.dir, dir, { recursive: true });
    await unlink(join(dir, "saved_model.pb"));
    await writeFile(join(dir, "saved_model.pbtxt"), printTextProto(SavedModelSchema, original.savedModel));
    const fromText = await openSavedModel(dir);
    assert.ok(equals(SavedModelSchema, fromText.savedModel, original.savedModel));
    assert.equal(scalar(variable(await readVariables(fromText), "b")), 2);
  });

  it("reports a malformed saved_model.pbtxt with the file name", async () => {
    const dir = scratchDir("bad-text");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "saved_model.pbtxt"), 'meta_graphs { meta_info_def { tagz: "serve" } }');
    await assert.rejects(openSavedModel(dir), /saved_model\.pbtxt: unknown field "tagz".*\(line 1\)/);
  });
});

describe("corrupt SavedModel directories", needsFixtures, () => {
  const scratchDir = useScratchDir("corrupt");

  /** A fresh copy of the TF2 half_plus_two fixture to damage. */
  async function copyOfFixture(label: string): Promise<string> {
    const dir = scratchDir(label);
    await cp(tfServingModel("saved_model_half_plus_two_tf2_cpu"), dir, { recursive: true });
    return dir;
  }

  async function load(dir: string): Promise<Map<string, Tensor>> {
    const bundle: SavedModelBundle = await openSavedModel(dir);
    return readVariables(bundle);
  }

  async function flipByte(path: string, offset: number): Promise<void> {
    const bytes = await readFile(path);
    const at = offset < 0 ? bytes.length + offset : offset;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    await writeFile(path, bytes);
  }

  function expectError(pattern: RegExp, code?: Code): (e: unknown) => boolean {
    return (e: unknown) => {
      assert.ok(e instanceof ServingError, `expected a ServingError, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /\n/, "one line");
      if (code !== undefined) assert.equal(e.codeName, Code[code]);
      return true;
    };
  }

  it("a flipped byte in saved_model.pb names the file, the byte and the field", async () => {
    const dir = await copyOfFixture("pb-flip");
    await flipByte(join(dir, "saved_model.pb"), 2); // the length of meta_graphs[0]
    await assert.rejects(
      load(dir),
      expectError(/saved_model\.pb: corrupt protobuf at byte \d+/, Code.DATA_LOSS),
    );
  });

  it("a truncated saved_model.pb names the file and says it is truncated", async () => {
    const dir = await copyOfFixture("pb-truncate");
    const path = join(dir, "saved_model.pb");
    await truncate(path, 1000);
    await assert.rejects(
      load(dir),
      expectError(/saved_model\.pb: corrupt protobuf at byte \d+ \(meta_graphs\[0\].*truncated/),
    );
  });

  it("a flipped byte in variables.index is a checksum error naming the file", async () => {
    const dir = await copyOfFixture("index-flip");
    await flipByte(join(dir, "variables/variables.index"), 20);
    await assert.rejects(load(dir), expectError(/variables\.index.*(checksum|crc)/i, Code.DATA_LOSS));
  });

  it("a truncated variables.index names the file", async () => {
    const dir = await copyOfFixture("index-truncate");
    await truncate(join(dir, "variables/variables.index"), 100);
    await assert.rejects(load(dir), expectError(/variables\.index.*(truncated|footer|magic)/i));
  });

  it("a flipped byte in the data shard is a checksum error naming the shard and the entry", async () => {
    const dir = await copyOfFixture("data-flip");
    await flipByte(join(dir, "variables/variables.data-00000-of-00001"), 1);
    await assert.rejects(
      load(dir),
      expectError(
        /variables\.data-00000-of-00001.*a\/\.ATTRIBUTES\/VARIABLE_VALUE.*checksum/,
        Code.DATA_LOSS,
      ),
    );
  });

  it("a truncated data shard names the shard", async () => {
    const dir = await copyOfFixture("data-truncate");
    await truncate(join(dir, "variables/variables.data-00000-of-00001"), 6);
    await assert.rejects(load(dir), expectError(/variables\.data-00000-of-00001.*(truncated|short|beyond)/i));
  });

  it("a deleted data shard names the missing shard", async () => {
    const dir = await copyOfFixture("data-missing");
    await unlink(join(dir, "variables/variables.data-00000-of-00001"));
    await assert.rejects(load(dir), expectError(/variables\.data-00000-of-00001.*missing/i));
  });

  it("a missing asset file is reported on the bundle, not a load failure (TF1 exports often never open it)", async () => {
    const dir = await copyOfFixture("asset-missing");
    await unlink(join(dir, "assets/foo.txt"));
    const bundle = await openSavedModel(dir);
    assert.deepEqual(
      bundle.assets.map((a) => [a.filename, a.exists]),
      [["foo.txt", false]],
    );
  });

  it("the undamaged copy still loads (the damage, not the copy, causes the errors)", async () => {
    const values = await load(await copyOfFixture("intact"));
    assert.equal(scalar(variable(values, "a")), 0.5);
    const reader = await BundleReader.open(join(await copyOfFixture("intact2"), "variables/variables"));
    assert.ok(reader.keys().length >= 4);
    await reader.close();
  });
});

describe("writeSavedModel → openSavedModel", () => {
  const scratchDir = useScratchDir("write");

  it("writes > 16 MB of variables of several dtypes over several shards, with a many-block index, and reads them back equal", async () => {
    const { savedModel } = rankingModel();
    const variables = new Map<string, Tensor>([
      [
        "embedding/table",
        new Tensor(
          DataType.DT_FLOAT,
          [4096, 1024],
          new Float32Array(4096 * 1024).map((_, i) => Math.sin(i)),
        ),
      ],
      ["counts", new Tensor(DataType.DT_INT64, [3], new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]))],
      ["mask", new Tensor(DataType.DT_BOOL, [4], new Uint8Array([1, 0, 0, 1]))],
      ["scale", new Tensor(DataType.DT_DOUBLE, [2], new Float64Array([Math.PI, -0]))],
      ["vocab", Tensor.fromStrings([4], ["", "ünïcödé", "a\u0000b", "x".repeat(70000)])],
    ]);
    // Thousands of small entries so that even at TF's 256 KiB block size the index has several data blocks.
    for (let i = 0; i < 6000; i++) {
      variables.set(
        `layer_${String(i).padStart(5, "0")}/bias/.ATTRIBUTES/VARIABLE_VALUE`,
        new Tensor(DataType.DT_INT32, [2], new Int32Array([i, -i])),
      );
    }
    const dir = join(scratchDir("big"), "1");
    await writeSavedModel(
      dir,
      { savedModel, variables, assets: new Map([["vocab.txt", new TextEncoder().encode("a\nb\n")]]) },
      { maxShardBytes: 6 << 20 },
    );

    const bundle = await openSavedModel(dir);
    assert.ok(equals(SavedModelSchema, bundle.savedModel, savedModel));
    const reader = await BundleReader.open(bundle.variablesPrefix ?? "");
    assert.ok(reader.header.numShards >= 3, `${reader.header.numShards} shards`);
    await reader.close();
    assert.ok(
      (await TableReader.open(`${bundle.variablesPrefix}.index`)).blockCount > 1,
      "several index data blocks",
    );
    assert.deepEqual(await readVariables(bundle), variables);
    assert.deepEqual(bundle.assets, []); // assets/ holds files, but no AssetFileDef names them
  });

  it("refuses to overwrite a non-empty directory unless asked, and never leaves a partial directory behind", async () => {
    const parent = scratchDir("twice");
    const dir = join(parent, "1");
    const { savedModel, variables } = rankingModel();
    await writeSavedModel(dir, { savedModel, variables });
    await assert.rejects(
      writeSavedModel(dir, { savedModel, variables }),
      (e: unknown) => e instanceof ServingError && e.code === Code.ALREADY_EXISTS,
    );
    await writeSavedModel(dir, { savedModel, variables }, { overwrite: true });
    assert.deepEqual((await readdir(parent)).sort(), ["1"]);
    const badParent = scratchDir("bad");
    await assert.rejects(
      writeSavedModel(join(badParent, "1"), {
        savedModel,
        assets: new Map([["../escape", new Uint8Array(1)]]),
      }),
      /plain file name/,
    );
    assert.deepEqual(await readdir(badParent), []);
  });
});
