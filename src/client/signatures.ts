// Signatures as the client reports them, and a per-client cache of them: plain JS inputs need the
// signature's dtypes (gRPC) and REST outputs need its output names and dtypes, so each (model,
// version choice) costs one metadata call, repeated only after an argument error.

import { Code, ServingError } from "../errors.js";
import type { SignatureDef, TensorInfo } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { ModelVersionStatus_State } from "../proto/gen/tensorflow_serving/apis/get_model_status_pb.js";
import { shapeFromProto } from "../tensor/shape.js";
import type { ModelMetadata, SignatureInfo, TensorSpec, VersionChoice, VersionState } from "./types.js";

/** TF Serving's default signature key. */
export const DEFAULT_SIGNATURE = "serving_default";

/**
 * SignatureDefs (from a SignatureDefMap) as the client's SignatureInfo records.
 *
 * @example
 * signatureInfos(map.signatureDef).serving_default?.inputs.x?.dtype; // DataType.DT_FLOAT
 */
export function signatureInfos(defs: Readonly<Record<string, SignatureDef>>): Record<string, SignatureInfo> {
  const specs = (infos: Readonly<Record<string, TensorInfo>>): Record<string, TensorSpec> =>
    Object.fromEntries(
      Object.entries(infos).map(([alias, info]) => [
        alias,
        {
          tensorName: info.encoding.case === "name" ? info.encoding.value : "",
          dtype: info.dtype,
          shape: info.tensorShape ? shapeFromProto(info.tensorShape) : null,
        },
      ]),
    );
  return Object.fromEntries(
    Object.entries(defs).map(([key, def]) => [
      key,
      { methodName: def.methodName, inputs: specs(def.inputs), outputs: specs(def.outputs) },
    ]),
  );
}

/** A ModelVersionStatus_State number as its name. */
export function versionStateName(state: number): VersionState {
  return (ModelVersionStatus_State[state] as VersionState | undefined) ?? "UNKNOWN";
}

/** Codes after which a cached signature may be stale (the model changed under the client). */
const STALE_CODES: ReadonlySet<Code> = new Set([Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION]);

/**
 * Caches one metadata answer per (model, version choice). Concurrent first calls share one fetch;
 * a failed fetch is not cached.
 *
 * @example
 * const cache = new SignatureCache((model, choice) => client.metadata(model, choice));
 * const signature = await cache.signature("ranking_model", {}, "serving_default");
 */
export class SignatureCache {
  readonly #entries = new Map<string, Promise<ModelMetadata>>();

  constructor(private readonly fetch: (model: string, choice: VersionChoice) => Promise<ModelMetadata>) {}

  /** The named signature, or undefined when the model has none by that name. */
  async signature(model: string, choice: VersionChoice, name: string): Promise<SignatureInfo | undefined> {
    const key = cacheKey(model, choice);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.fetch(model, { version: choice.version, label: choice.label });
      this.#entries.set(key, entry);
      entry.catch(() => this.#entries.delete(key));
    }
    return (await entry).signatures[name];
  }

  /** Drops the entry when `error` suggests the model's signatures changed. */
  invalidateOn(error: unknown, model: string, choice: VersionChoice): void {
    if (error instanceof ServingError && STALE_CODES.has(error.code)) {
      this.#entries.delete(cacheKey(model, choice));
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

const cacheKey = (model: string, choice: VersionChoice): string =>
  `${model}\u0000${choice.version ?? ""}\u0000${choice.label ?? ""}`;
