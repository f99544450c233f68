import type { InferenceSession } from "onnxruntime-node";

/**
 * onnxruntime's thread pools per session: TF Serving's `--tensorflow_intra_op_parallelism` and
 * `--tensorflow_inter_op_parallelism`. 0 or absent = onnxruntime's default (one thread per core).
 */
export interface RuntimeThreads {
  readonly intraOp?: number | undefined;
  readonly interOp?: number | undefined;
}

/**
 * The options every onnxruntime session of a model is created with.
 *
 * @example
 * await InferenceSession.create(bytes, sessionOptions({ intraOp: 4 }));
 */
export function sessionOptions(threads: RuntimeThreads = {}): InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: "all",
    ...(threads.intraOp ? { intraOpNumThreads: threads.intraOp } : {}),
    ...(threads.interOp ? { interOpNumThreads: threads.interOp } : {}),
  };
}
