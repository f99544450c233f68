import { isAbsolute } from "node:path";
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../errors.js";
import {
  type ModelConfig,
  type ModelServerConfig,
  ModelServerConfigSchema,
  ModelType,
} from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";
import { readConfigFile } from "./config-file.js";
import { type VersionPolicy, versionPolicyFromProto } from "./version-policy.js";

/** The model platforms ts-serving serves: TF Serving's `tensorflow`, and `onnx`. */
export const SUPPORTED_PLATFORMS: ReadonlySet<string> = new Set(["tensorflow", "onnx"]);

/**
 * One model of the server's config, validated: a `ModelConfig` reduced to what the core uses.
 * The platform is checked at config time only; a version directory loads by what it holds
 * (SavedModel or `model.onnx`), so `--model_base_path` (platform `tensorflow`) can serve ONNX models too.
 */
export interface ModelConfigEntry {
  readonly name: string;
  readonly basePath: string;
  readonly platform: string;
  readonly versionPolicy: VersionPolicy;
  /** version_labels: label → version. */
  readonly labels: ReadonlyMap<string, bigint>;
}

/** INVALID_ARGUMENT for a `custom_model_config`, as TF Serving's HandleReloadConfigRequest answers. */
export const CUSTOM_CONFIG_UNSUPPORTED =
  "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported";

/**
 * The models of a ModelServerConfig, validated as TF Serving's ServerCore does (same messages, all
 * INVALID_ARGUMENT): a model listed twice, a relative base_path, both or neither of model_type and
 * model_platform, an unsupported platform; a `custom_model_config` is rejected. An empty config
 * (oneof unset) has no models.
 *
 * @example
 * const models = modelConfigEntries(await readModelConfigFile("/etc/models.config"));
 */
export function modelConfigEntries(config: ModelServerConfig): ModelConfigEntry[] {
  if (config.config.case === "customModelConfig") throw invalidArgument(CUSTOM_CONFIG_UNSUPPORTED);
  if (config.config.case !== "modelConfigList") return [];
  const list = config.config.value.config;
  const names = new Set<string>();
  for (const model of list) {
    if (names.has(model.name)) {
      throw invalidArgument(`Illegal to list model ${model.name} multiple times in config list`);
    }
    names.add(model.name);
  }
  for (const model of list) {
    if (uriIsRelativePath(model.basePath)) {
      throw invalidArgument(
        `Expected model ${model.name} to have an absolute path or URI; got base_path()=${model.basePath}`,
      );
    }
  }
  return list.map((model) => {
    const platform = modelPlatform(model);
    if (!SUPPORTED_PLATFORMS.has(platform)) {
      throw invalidArgument(`Model ${model.name} requests unsupported platform ${platform}`);
    }
    return {
      name: model.name,
      basePath: model.basePath,
      platform,
      versionPolicy: versionPolicyFromProto(model.modelVersionPolicy),
      labels: new Map(Object.entries(model.versionLabels)),
    };
  });
}

/**
 * The config `--model_name` and `--model_base_path` stand for: one `tensorflow` model, latest version.
 *
 * @example
 * const models = modelConfigEntries(singleModelServerConfig("default", "/models/half_plus_two"));
 */
export function singleModelServerConfig(modelName: string, modelBasePath: string): ModelServerConfig {
  return create(ModelServerConfigSchema, {
    config: {
      case: "modelConfigList",
      value: { config: [{ name: modelName, basePath: modelBasePath, modelPlatform: "tensorflow" }] },
    },
  });
}

/** The entry for `--model_name`/`--model_base_path`, validated (a relative path is rejected). */
export function singleModelEntry(modelName: string, modelBasePath: string): ModelConfigEntry {
  return modelConfigEntries(singleModelServerConfig(modelName, modelBasePath))[0]!;
}

/**
 * TF Serving's check on a config reload: a model kept across the reload may not change platform.
 *
 * @example
 * checkNoPlatformChanges(current, modelConfigEntries(newConfig));
 */
export function checkNoPlatformChanges(
  current: readonly ModelConfigEntry[],
  next: readonly ModelConfigEntry[],
): void {
  const before = new Map(current.map((m) => [m.name, m.platform]));
  for (const model of next) {
    const old = before.get(model.name);
    if (old !== undefined && old !== model.platform) {
      throw invalidArgument(
        `Illegal to change a model's platform. For model ${model.name} platform was ${old} and new platform requested is ${model.platform}`,
      );
    }
  }
}

/**
 * Reads a `--model_config_file` (protobuf text format). Like TF Serving, `${VAR}` in it is not
 * expanded: such a base_path stays as written (and, being relative, fails validation).
 * A missing file is NOT_FOUND `<path>; No such file or directory`; a syntax error INVALID_ARGUMENT.
 *
 * @example
 * const config = await readModelConfigFile("/models/models.config");
 */
export async function readModelConfigFile(path: string): Promise<ModelServerConfig> {
  return parseTextProto(ModelServerConfigSchema, await readConfigFile(path), path);
}

/** TF Serving's GetPlatform: the deprecated model_type or model_platform, exactly one of them. */
function modelPlatform(model: ModelConfig): string {
  if (model.modelType !== ModelType.MODEL_TYPE_UNSPECIFIED) {
    if (model.modelPlatform !== "") {
      throw invalidArgument(
        "Illegal setting both ModelServerConfig::model_type (deprecated) and ModelServerConfig::model_platform.",
      );
    }
    if (model.modelType === ModelType.TENSORFLOW) return "tensorflow";
    throw invalidArgument(`ModelServerConfig::model_type choice ${model.modelType} not supported.`);
  }
  if (model.modelPlatform === "") {
    throw invalidArgument(
      "Illegal setting neither ModelServerConfig::model_type (deprecated) nor ModelServerConfig::model_platform.",
    );
  }
  return model.modelPlatform;
}

/** TF's UriIsRelativePath: no scheme, no host, and not an absolute path. */
function uriIsRelativePath(uri: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri) && !isAbsolute(uri);
}
