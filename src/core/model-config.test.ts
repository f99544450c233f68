import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { needsFixtures, TFSERVING_FIXTURES } from "../../test/fixtures.js";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import {
  type ModelServerConfig,
  ModelServerConfigSchema,
  ModelType,
} from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";
import {
  checkNoPlatformChanges,
  modelConfigEntries,
  readModelConfigFile,
  singleModelEntry,
  singleModelServerConfig,
} from "./model-config.js";

/** `${NAME}` as written in a config file. */
const env = (name: string): string => `$${"{"}${name}}`;

const parse = (text: string): ModelServerConfig => parseTextProto(ModelServerConfigSchema, text, "test");

function rejects(run: () => unknown, code: Code, message: string): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ServingError, String(e));
    assert.equal(e.codeName, Code[code]);
    assert.equal(e.message, message);
    return true;
  });
}

describe("model config", () => {
  const scratchDir = useScratchDir("model-config");

  it("reads TF Serving's example config: policies, labels, platforms", () => {
    const entries = modelConfigEntries(
      parse(`
        model_config_list {
          config {
            name: "resnet"
            base_path: "/models/resnet"
            model_platform: "tensorflow"
            model_version_policy { specific { versions: 1 versions: 2 } }
            version_labels { key: "stable" value: 1 }
            version_labels { key: "canary" value: 2 }
          }
          config {
            name: "bert"
            base_path: "gs://bucket/bert"
            model_platform: "onnx"
            model_version_policy { latest { num_versions: 2 } }
          }
          config { name: "legacy" base_path: "/models/legacy" model_type: TENSORFLOW }
        }`),
    );
    assert.deepEqual(entries, [
      {
        name: "resnet",
        basePath: "/models/resnet",
        platform: "tensorflow",
        versionPolicy: { kind: "specific", versions: [1n, 2n] },
        labels: new Map([
          ["stable", 1n],
          ["canary", 2n],
        ]),
      },
      {
        name: "bert",
        basePath: "gs://bucket/bert",
        platform: "onnx",
        versionPolicy: { kind: "latest", numVersions: 2 },
        labels: new Map(),
      },
      {
        name: "legacy",
        basePath: "/models/legacy",
        platform: "tensorflow",
        versionPolicy: { kind: "latest", numVersions: 1 },
        labels: new Map(),
      },
    ]);
  });

  it("an empty config has no models", () => {
    assert.deepEqual(modelConfigEntries(parse("")), []);
  });

  it("rejects what TF Serving rejects, with its messages", () => {
    rejects(
      () =>
        modelConfigEntries(
          parse(`model_config_list {
            config { name: "m" base_path: "/a" model_platform: "tensorflow" }
            config { name: "m" base_path: "/b" model_platform: "tensorflow" } }`),
        ),
      Code.INVALID_ARGUMENT,
      "Illegal to list model m multiple times in config list",
    );
    rejects(
      () =>
        modelConfigEntries(
          parse(
            `model_config_list { config { name: "m" base_path: "models/m" model_platform: "tensorflow" } }`,
          ),
        ),
      Code.INVALID_ARGUMENT,
      "Expected model m to have an absolute path or URI; got base_path()=models/m",
    );
    rejects(
      () => modelConfigEntries(parse(`model_config_list { config { name: "m" base_path: "/m" } }`)),
      Code.INVALID_ARGUMENT,
      "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform.",
    );
    rejects(
      () =>
        modelConfigEntries(
          parse(`model_config_list { config { name: "m" base_path: "/m" model_platform: "pytorch" } }`),
        ),
      Code.INVALID_ARGUMENT,
      "Model m requests unsupported platform pytorch",
    );
    rejects(
      () =>
        modelConfigEntries(
          parse(
            `model_config_list { config { name: "m" base_path: "/m" model_type: TENSORFLOW model_platform: "tensorflow" } }`,
          ),
        ),
      Code.INVALID_ARGUMENT,
      "Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform.",
    );
    const other = create(ModelServerConfigSchema, {
      config: {
        case: "modelConfigList",
        value: { config: [{ name: "m", basePath: "/m", modelType: ModelType.OTHER }] },
      },
    });
    rejects(
      () => modelConfigEntries(other),
      Code.INVALID_ARGUMENT,
      "ModelServerConfig::model_type choice 2 not supported.",
    );
    const custom = create(ModelServerConfigSchema, {
      config: {
        case: "customModelConfig",
        value: anyPack(ModelServerConfigSchema, create(ModelServerConfigSchema)),
      },
    });
    rejects(
      () => modelConfigEntries(custom),
      Code.INVALID_ARGUMENT,
      "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported",
    );
  });

  it("a model may not change platform across a reload", () => {
    const before = modelConfigEntries(
      parse(`model_config_list { config { name: "m" base_path: "/m" model_platform: "tensorflow" } }`),
    );
    const after = modelConfigEntries(
      parse(`model_config_list { config { name: "m" base_path: "/m" model_platform: "onnx" } }`),
    );
    checkNoPlatformChanges(before, before);
    rejects(
      () => checkNoPlatformChanges(before, after),
      Code.INVALID_ARGUMENT,
      "Illegal to change a model's platform. For model m platform was tensorflow and new platform requested is onnx",
    );
  });

  it("--model_name/--model_base_path make one tensorflow model, latest 1", () => {
    assert.deepEqual(singleModelEntry("default", "/models/x"), {
      name: "default",
      basePath: "/models/x",
      platform: "tensorflow",
      versionPolicy: { kind: "latest", numVersions: 1 },
      labels: new Map(),
    });
    assert.equal(singleModelServerConfig("a", "/b").config.case, "modelConfigList");
    rejects(
      () => singleModelEntry("default", "relative/x"),
      Code.INVALID_ARGUMENT,
      "Expected model default to have an absolute path or URI; got base_path()=relative/x",
    );
  });

  it(
    "reads a config file; $\u007bVAR} stays as written (TF Serving does not expand it)",
    needsFixtures,
    async () => {
      const config = await readModelConfigFile(join(TFSERVING_FIXTURES, "good_model_config.txt"));
      const list = config.config.case === "modelConfigList" ? config.config.value.config : [];
      assert.deepEqual(
        list.map((m) => m.basePath),
        [env("TEST_HALF_PLUS_TWO_DIR"), env("TEST_HALF_PLUS_THREE_DIR")],
      );
      rejects(
        () => modelConfigEntries(config),
        Code.INVALID_ARGUMENT,
        `Expected model half_plus_two to have an absolute path or URI; got base_path()=${env("TEST_HALF_PLUS_TWO_DIR")}`,
      );
      await assert.rejects(
        readModelConfigFile(join(TFSERVING_FIXTURES, "bad_model_config.txt")),
        (e: unknown) => {
          assert.ok(e instanceof ServingError);
          assert.equal(e.code, Code.INVALID_ARGUMENT);
          assert.match(e.message, /bad_model_config\.txt/);
          return true;
        },
      );
    },
  );

  it("a missing config file is NOT_FOUND", async () => {
    const path = join(scratchDir(), "models.config");
    await assert.rejects(readModelConfigFile(path), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, Code.NOT_FOUND);
      assert.equal(e.message, `${path}; No such file or directory`);
      return true;
    });
    const dir = scratchDir();
    await mkdir(dir);
    const file = join(dir, "models.config");
    await writeFile(
      file,
      `model_config_list { config { name: "m" base_path: "${dir}" model_platform: "onnx" } }`,
    );
    assert.equal(modelConfigEntries(await readModelConfigFile(file))[0]?.basePath, dir);
  });
});
