import { Code, ServingError } from "../errors.js";
import type { SignatureDef } from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { baseDType, DataType, dtypeShortName } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import { tensorFromProto } from "../tensor/tensor-proto.js";

/** Options of one signature run. */
export interface RunOptions {
  /** Output aliases to compute (default: all). */
  outputFilter?: readonly string[] | undefined;
  /** Aborting gives up on the run: a request still waiting in a batching queue leaves it at once. */
  signal?: AbortSignal | undefined;
}

/** Hears how long each successful run took, in µs. */
export type RunListener = (micros: number) => void;

/** Runs one signature of a loaded model version. */
export interface SignatureRunner {
  readonly key: string;
  readonly def: SignatureDef;
  /** Runs with inputs keyed by signature input alias; returns outputs by alias (all, or `outputFilter`). */
  run(inputs: ReadonlyMap<string, Tensor>, options?: RunOptions): Promise<Map<string, Tensor>>;
  /**
   * Sets the one listener to each successful run's duration (a later one replaces it), timed inside
   * the runtime's own continuation: no promise or closure per run, as a wrapper around `run` would
   * cost. Absent on runners that cannot time themselves.
   */
  readonly listenToRuns?: (listener: RunListener) => void;
}

export type RunTensors = (
  inputs: ReadonlyMap<string, Tensor>,
  outputs: readonly string[],
) => Promise<Map<string, Tensor>>;

/**
 * Wraps a signature's compiled runner with TF Serving's request checks: the input aliases must match
 * the signature (defaults fill missing ones), dtypes must match, output filters must name outputs.
 */
export function signatureRunner(
  key: string,
  def: SignatureDef,
  runTensors: RunTensors,
  /** The dtype each input really has in the graph, where it differs from the SignatureDef (old TF 1.0 exports). */
  actualDTypes: ReadonlyMap<string, DataType> = new Map(),
  /** How `runTensors` reports run durations (becomes the runner's `listenToRuns`). */
  listenToRuns?: (listener: RunListener) => void,
): SignatureRunner {
  const defaults = new Map(
    Object.entries(def.defaults).map(([alias, proto]) => [alias, tensorFromProto(proto)]),
  );
  const inputAliases = Object.keys(def.inputs).sort();
  const outputAliases = Object.keys(def.outputs).sort();
  // Resolved once: the dtype each input must have, in signature order (TF's arg[i] numbering).
  const expectedDTypes = inputAliases.map((alias) => ({
    alias,
    dtype: actualDTypes.get(alias) ?? baseDType(def.inputs[alias]?.dtype ?? DataType.DT_INVALID),
  }));
  return {
    key,
    def,
    ...(listenToRuns ? { listenToRuns } : {}),
    // Not async: one promise less per request; validation errors still arrive as rejections.
    run(inputs, options = {}) {
      try {
        const complete = withDefaults(inputs, inputAliases, defaults);
        checkDTypes(complete, expectedDTypes);
        return runTensors(complete, checkOutputFilter(options.outputFilter, outputAliases));
      } catch (error: unknown) {
        return Promise.reject(error);
      }
    },
  };
}

function withDefaults(
  inputs: ReadonlyMap<string, Tensor>,
  aliases: readonly string[],
  defaults: ReadonlyMap<string, Tensor>,
): ReadonlyMap<string, Tensor> {
  if (inputs.size === aliases.length && hasAll(inputs, aliases)) return inputs;
  const sent = [...inputs.keys()].sort();
  const extra = sent.filter((alias) => !aliases.includes(alias));
  const missing = aliases.filter((alias) => !inputs.has(alias) && !defaults.has(alias));
  if (extra.length > 0 || missing.length > 0) {
    throw new ServingError(
      Code.INVALID_ARGUMENT,
      `input size does not match signature: ${sent.length}!=${aliases.length} len({${sent.join(",")}}) != len({${aliases.join(",")}}). Sent extra: {${extra.join(",")}}. Missing but required: {${missing.join(",")}}.`,
    );
  }
  const complete = new Map(inputs);
  for (const [alias, value] of defaults) if (!complete.has(alias)) complete.set(alias, value);
  return complete;
}

// Plain loops on the request path: `every` with a closure and `entries()` iterators allocate per call.
function hasAll(inputs: ReadonlyMap<string, Tensor>, aliases: readonly string[]): boolean {
  for (let i = 0; i < aliases.length; i++) if (!inputs.has(aliases[i]!)) return false;
  return true;
}

function checkDTypes(
  inputs: ReadonlyMap<string, Tensor>,
  expected: readonly { alias: string; dtype: DataType }[],
): void {
  for (let index = 0; index < expected.length; index++) {
    const { alias, dtype } = expected[index]!;
    const value = inputs.get(alias);
    if (value && dtype !== DataType.DT_INVALID && value.dtype !== dtype) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `Expects arg[${index}] to be ${dtypeShortName(dtype)} but ${dtypeShortName(value.dtype)} is provided`,
      );
    }
  }
}

function checkOutputFilter(
  filter: readonly string[] | undefined,
  aliases: readonly string[],
): readonly string[] {
  if (!filter || filter.length === 0) return aliases;
  const seen = new Set<string>();
  for (const alias of filter) {
    if (!aliases.includes(alias)) {
      throw new ServingError(
        Code.INVALID_ARGUMENT,
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${aliases.join(",")}}.`,
      );
    }
    if (seen.has(alias))
      throw new ServingError(Code.INVALID_ARGUMENT, `duplicate output tensor alias: ${alias}`);
    seen.add(alias);
  }
  return filter;
}
