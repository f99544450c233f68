import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { InferenceSession, type Tensor as OrtTensor } from "onnxruntime-node";
import { type RuntimeThreads, sessionOptions } from "../compiler/session-options.js";
import { Code, ServingError } from "../errors.js";
import {
  type SignatureDef,
  SignatureDefSchema,
} from "../proto/gen/tensorflow/core/protobuf/meta_graph_pb.js";
import { DEFAULT_SIGNATURE } from "../savedmodel/saved-model.js";
import { dtypeFromOrtType, fromOrtTensor, toOrtTensor } from "../tensor/ort.js";
import { shapeToProto } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Servable } from "./servable.js";
import { type RunListener, signatureRunner } from "./signature-runner.js";

/**
 * Serves `<version>/model.onnx` through the same interface as a SavedModel: the graph's inputs and
 * outputs become the `serving_default` predict signature (aliases = ONNX value names).
 *
 * @example
 * const servable = await loadOnnxServable("/models/ranker/3", "model.onnx");
 */
export async function loadOnnxServable(
  dir: string,
  file: string,
  threads?: RuntimeThreads,
): Promise<Servable> {
  const path = join(dir, file);
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(path, sessionOptions(threads));
  } catch (error: unknown) {
    throw new ServingError(
      Code.DATA_LOSS,
      `${file}: onnxruntime cannot load it: ${(error as Error).message} [${path}]`,
      {
        cause: error,
      },
    );
  }
  const def = onnxSignature(session);
  let runListener: RunListener | undefined;
  const runTensors = async (inputs: ReadonlyMap<string, Tensor>, outputs: readonly string[]) => {
    const feeds: Record<string, OrtTensor> = {};
    for (const [name, tensor] of inputs) feeds[name] = toOrtTensor(tensor);
    const listener = runListener;
    const startMs = listener === undefined ? 0 : performance.now();
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds, [...outputs]);
    } catch (error: unknown) {
      throw new ServingError(Code.INVALID_ARGUMENT, (error as Error).message, { cause: error });
    }
    if (listener !== undefined) listener((performance.now() - startMs) * 1000);
    return new Map(outputs.map((name) => [name, fromOrtTensor(results[name] as OrtTensor)]));
  };
  const runner = signatureRunner(DEFAULT_SIGNATURE, def, runTensors, undefined, (listener) => {
    runListener = listener;
  });
  return {
    platform: "onnx",
    dir,
    signatures: new Map([[DEFAULT_SIGNATURE, runner]]),
    signatureDefs: new Map([[DEFAULT_SIGNATURE, def]]),
    close: () => session.release(),
  };
}

function onnxSignature(session: InferenceSession): SignatureDef {
  const info = (meta: InferenceSession.ValueMetadata) => {
    if (!meta.isTensor) {
      throw new ServingError(
        Code.UNIMPLEMENTED,
        `ONNX value ${meta.name} is not a tensor (sequences and maps are not served)`,
      );
    }
    const dims = meta.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1));
    return {
      encoding: { case: "name" as const, value: meta.name },
      dtype: dtypeFromOrtType(meta.type),
      // onnxruntime reports an undefined shape as []; say unknown rank rather than scalar.
      tensorShape: shapeToProto(meta.shape.length === 0 ? null : dims),
    };
  };
  return create(SignatureDefSchema, {
    inputs: Object.fromEntries(session.inputMetadata.map((m) => [m.name, info(m)])),
    outputs: Object.fromEntries(session.outputMetadata.map((m) => [m.name, info(m)])),
    methodName: "tensorflow/serving/predict",
  });
}
