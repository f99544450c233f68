// A SignatureRunner that batches: requests wait in the signature's queue, run merged, and each gets
// exactly its own rows of the outputs back.
import { Code, ServingError } from "../errors.js";
import type { RunOptions, SignatureRunner } from "../runtime/signature-runner.js";
import { baseDType, DataType } from "../tensor/dtype.js";
import type { Tensor } from "../tensor/tensor.js";
import type { AdaptiveTimeout } from "./adaptive-timeout.js";
import { type Batch, BatchQueue, type Piece } from "./batch-queue.js";
import type { BatchScheduler } from "./batch-scheduler.js";
import { type BatchingOptions, paddedBatchSize } from "./batching-params.js";
import {
  concatRows,
  maxShape,
  padInnerDims,
  type RowSlice,
  rankMismatchError,
  requestRows,
  sameRowShape,
  shapeMismatchError,
  sliceRows,
} from "./concat-split.js";
import { type BatchingObserver, notify } from "./observer.js";

/** One request waiting for (or running in) batches. */
interface Task {
  readonly inputs: ReadonlyMap<string, Tensor>;
  readonly rows: number;
  readonly outputs: readonly string[];
  readonly arrivedMs: number;
  /** Outputs of each piece, by piece index, until all pieces are back. */
  readonly parts: (Map<string, Tensor> | undefined)[];
  pieces: number;
  settled: boolean;
  resolve(outputs: Map<string, Tensor>): void;
  reject(error: ServingError): void;
}

export interface BatchingContext {
  readonly dir: string;
  readonly options: BatchingOptions;
  readonly scheduler: BatchScheduler;
  readonly observer?: BatchingObserver | undefined;
  /** Set in adaptive mode: chooses each batch's wait instead of batch_timeout_micros. */
  readonly adaptive?: AdaptiveTimeout | undefined;
}

/** A batching signature: a SignatureRunner plus the drain that unloading calls. */
export interface BatchingSignatureRunner extends SignatureRunner {
  /** Stops accepting requests, runs what is queued, resolves when every batch has finished. */
  drain(): Promise<void>;
}

/**
 * Wraps one signature with a batching queue on the shared scheduler. Requests that the signature
 * itself must judge (missing inputs filled from defaults, wrong dtypes, unknown output aliases,
 * zero rows) bypass the queue and run alone, so its errors stay exactly the unbatched ones.
 *
 * @example
 * const runner = batchingSignature(servable.signatures.get("serving_default")!, context);
 * const y = await runner.run(new Map([["x", x]]), { signal: AbortSignal.timeout(1000) });
 */
export function batchingSignature(inner: SignatureRunner, context: BatchingContext): BatchingSignatureRunner {
  const { options, scheduler, observer, adaptive, dir } = context;
  const inputAliases = Object.keys(inner.def.inputs).sort();
  const outputAliases = Object.keys(inner.def.outputs).sort();
  const inputDTypes = new Map(
    inputAliases.map((alias) => [alias, baseDType(inner.def.inputs[alias]?.dtype ?? DataType.DT_INVALID)]),
  );
  const signature = inner.key;
  const rejected = (error: ServingError) =>
    notify(observer?.rejected?.bind(observer), { dir, signature, code: error.codeName });

  const timeout = adaptive ? () => adaptive.waitMicros() : () => options.batchTimeoutMicros;
  const queue = new BatchQueue<Task>(scheduler, options, timeout, (batch) => runBatch(batch));

  function batchable(inputs: ReadonlyMap<string, Tensor>, filter: readonly string[] | undefined): boolean {
    if (inputs.size !== inputAliases.length) return false;
    for (const [alias, tensor] of inputs) {
      const dtype = inputDTypes.get(alias);
      if (dtype === undefined || (dtype !== DataType.DT_INVALID && dtype !== tensor.dtype)) return false;
    }
    if (filter && (new Set(filter).size !== filter.length || filter.some((a) => !outputAliases.includes(a))))
      return false;
    return true;
  }

  async function runBatch(batch: Batch<Task>): Promise<void> {
    const startMs = performance.now();
    const pieces = batch.pieces.filter((p) => !p.task.settled);
    if (pieces.length === 0) return;
    const runnable = compatiblePieces(pieces, options.padVariableLengthInputs);
    if (runnable.length === 0) return;
    let failed = false;
    const rows = runnable.reduce((n, p) => n + p.rows, 0);
    const padded = paddedBatchSize(options, rows);
    try {
      const merged = mergeInputs(runnable, inputAliases, padded, options.padVariableLengthInputs);
      // The outputs any request of the batch asked for; each request then gets its own filter.
      const wanted = outputAliases.filter((alias) => runnable.some((p) => p.task.outputs.includes(alias)));
      const outputs = await inner.run(merged, { outputFilter: wanted });
      splitOutputs(runnable, outputs, wanted, padded);
    } catch (error: unknown) {
      failed = true;
      const serving = ServingError.from(error);
      for (const p of runnable) settle(p.task, serving);
    }
    const endMs = performance.now();
    const runMicros = (endMs - startMs) * 1000;
    if (adaptive) {
      adaptive.batchDone(padded, runMicros);
      for (const p of runnable) adaptive.requestDone((endMs - p.task.arrivedMs) * 1000);
    }
    notify(observer?.batch?.bind(observer), {
      dir,
      signature,
      rows,
      paddedRows: padded,
      requests: runnable.length,
      queueDelaysMicros: runnable.map((p) => (startMs - p.task.arrivedMs) * 1000),
      runMicros,
      failed,
    });
  }

  return {
    key: inner.key,
    def: inner.def,
    run(inputs, runOptions: RunOptions = {}) {
      const { signal, outputFilter } = runOptions;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (!batchable(inputs, outputFilter)) return inner.run(inputs, runOptions);
      let rows: number;
      try {
        rows = requestRows(inputs);
      } catch (error: unknown) {
        return Promise.reject(error);
      }
      if (rows === 0) return inner.run(inputs, runOptions);
      const arrivedMs = performance.now();
      adaptive?.arrival(arrivedMs);
      return new Promise<Map<string, Tensor>>((resolve, reject) => {
        const task: Task = {
          inputs,
          rows,
          outputs: outputFilter && outputFilter.length > 0 ? outputFilter : outputAliases,
          arrivedMs,
          parts: [],
          pieces: 0,
          settled: false,
          resolve,
          reject,
        };
        let pieces: Piece<Task>[];
        try {
          pieces = queue.enqueue(task, rows);
        } catch (error: unknown) {
          const serving = ServingError.from(error);
          rejected(serving);
          reject(serving);
          return;
        }
        task.pieces = pieces.length;
        if (!signal || task.settled) return;
        const onAbort = () => {
          if (task.settled) return;
          queue.cancel(pieces);
          const error = abortError(signal);
          rejected(error);
          settle(task, error);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        // Drop the listener once settled, so a long-lived signal does not keep the task alive.
        const done = () => signal.removeEventListener("abort", onAbort);
        task.resolve = (value) => {
          done();
          resolve(value);
        };
        task.reject = (error) => {
          done();
          reject(error);
        };
      });
    },
    drain: () => queue.drain(),
  };
}

/** The error for a request whose signal fired while it waited. */
function abortError(signal: AbortSignal): ServingError {
  const reason: unknown = signal.reason;
  if (reason instanceof ServingError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError")
    return new ServingError(Code.DEADLINE_EXCEEDED, "Deadline exceeded while waiting in the batching queue");
  return new ServingError(Code.CANCELLED, "Request cancelled while waiting in the batching queue");
}

function settle(task: Task, result: ServingError | Map<string, Tensor>): void {
  if (task.settled) return;
  task.settled = true;
  if (result instanceof ServingError) task.reject(result);
  else task.resolve(result);
}

/**
 * The pieces that can share the batch. Without padding, a request whose non-batch dimensions differ
 * from the batch's first request fails with TF Serving's FAILED_PRECONDITION (the others still run,
 * where TF Serving fails the whole batch); with padding only a different rank is fatal.
 */
function compatiblePieces(pieces: readonly Piece<Task>[], padding: boolean): Piece<Task>[] {
  const reference = pieces[0]?.task.inputs;
  if (!reference) return [];
  const out: Piece<Task>[] = [];
  for (const piece of pieces) {
    let mismatch: string | undefined;
    for (const [alias, tensor] of piece.task.inputs) {
      const shape = reference.get(alias)?.shape ?? [];
      const ok = padding ? shape.length === tensor.shape.length : sameRowShape(shape, tensor.shape);
      if (!ok) {
        mismatch = alias;
        break;
      }
    }
    if (mismatch === undefined) out.push(piece);
    else settle(piece.task, padding ? rankMismatchError(mismatch) : shapeMismatchError(mismatch));
  }
  return out;
}

/** Concatenates each input over the pieces, padding dimension 0 to `padded` rows (and others if asked). */
function mergeInputs(
  pieces: readonly Piece<Task>[],
  aliases: readonly string[],
  padded: number,
  padInner: boolean,
): Map<string, Tensor> {
  const merged = new Map<string, Tensor>();
  for (const alias of aliases) {
    const tensors = pieces.map((p) => p.task.inputs.get(alias) as Tensor);
    const target = padInner
      ? maxShape(
          alias,
          tensors.map((t) => t.shape),
        )
      : undefined;
    const slices: RowSlice[] = pieces.map((p, i) => ({
      tensor: target ? padInnerDims(tensors[i] as Tensor, target) : (tensors[i] as Tensor),
      start: p.start,
      rows: p.rows,
    }));
    merged.set(alias, concatRows(slices, padded));
  }
  return merged;
}

/** Cuts the batch's outputs into each piece's rows; a request completes when all its pieces have. */
function splitOutputs(
  pieces: readonly Piece<Task>[],
  outputs: ReadonlyMap<string, Tensor>,
  wanted: readonly string[],
  padded: number,
): void {
  for (const alias of wanted) {
    const tensor = outputs.get(alias);
    if (!tensor || tensor.rank === 0)
      throw new ServingError(Code.FAILED_PRECONDITION, "Batched output tensor has 0 dimensions");
    if (tensor.shape[0] !== padded)
      throw new ServingError(
        Code.FAILED_PRECONDITION,
        "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension sizes of the input tensors",
      );
  }
  let offset = 0;
  for (const piece of pieces) {
    const task = piece.task;
    const part = new Map<string, Tensor>();
    for (const alias of task.outputs)
      part.set(alias, sliceRows(outputs.get(alias) as Tensor, offset, piece.rows));
    offset += piece.rows;
    if (task.settled) continue;
    task.parts[piece.index] = part;
    if (task.parts.filter((p) => p !== undefined).length < task.pieces) continue;
    settle(task, task.pieces === 1 ? part : joinParts(task));
  }
}

/** Reassembles a split request's outputs from its pieces, in order. */
function joinParts(task: Task): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const alias of task.outputs) {
    const slices = task.parts.map((part) => {
      const tensor = part?.get(alias) as Tensor;
      return { tensor, start: 0, rows: tensor.shape[0] ?? 0 };
    });
    out.set(alias, concatRows(slices, task.rows));
  }
  return out;
}
