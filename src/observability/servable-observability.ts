// Signature runs, observed at two depths. Inside batching (per session run, as TF Serving measures
// it): runtime latency. Outside batching (per request, in the request's trace context): the `run`
// span, and with batching the `queue` span before it, cut at the batch start the batcher reported.
import { type Span, SpanStatusCode } from "@opentelemetry/api";
import type { Servable, SignatureRunner } from "../runtime/servable.js";
import type { ServingMetrics } from "./metrics.js";
import type { Tracing } from "./tracing.js";

/** TF Serving's API name for a SignatureDef method (what `runtime_latency`'s API label carries). */
function apiOf(methodName: string): string {
  if (methodName.endsWith("/classify")) return "Classify";
  if (methodName.endsWith("/regress")) return "Regress";
  return "Predict";
}

/** The same servable with each signature runner replaced by `wrap(key, runner)`. */
function mapRunners(
  servable: Servable,
  wrap: (key: string, runner: SignatureRunner) => SignatureRunner,
): Servable {
  const signatures = new Map<string, SignatureRunner>();
  for (const [key, runner] of servable.signatures) signatures.set(key, wrap(key, runner));
  return {
    platform: servable.platform,
    dir: servable.dir,
    signatures,
    signatureDefs: servable.signatureDefs,
    close: () => servable.close(),
  };
}

/**
 * The servable with each signature run timed into `:tensorflow:serving:runtime_latency` (µs): by the
 * runner itself where it can (`listenToRuns`, successful runs), else by a wrapper around `run`.
 *
 * @example
 * const servable = timeRuns(await loadServable(dir), "half_plus_two", metrics);
 */
export function timeRuns(servable: Servable, model: string, metrics: ServingMetrics): Servable {
  return mapRunners(servable, (_key, runner) => {
    const api = apiOf(runner.def.methodName);
    if (runner.listenToRuns) {
      runner.listenToRuns((micros) => metrics.recordRuntime(model, api, micros));
      return runner;
    }
    return {
      key: runner.key,
      def: runner.def,
      run: (inputs, options) => {
        const start = performance.now();
        const record = () => metrics.recordRuntime(model, api, (performance.now() - start) * 1000);
        // then() rather than an async wrapper: one promise less per run.
        return runner.run(inputs, options).then(
          (outputs) => {
            record();
            return outputs;
          },
          (error: unknown) => {
            record();
            throw error;
          },
        );
      },
    };
  });
}

/** When the last batch of a version's signature ran (performance.now() ms), as the batcher reported it. */
export type BatchTimes = (dir: string, signature: string) => { startMs: number; endMs: number } | undefined;

/**
 * The servable with each run inside a traced request recorded as a `run` span. With batching
 * (`batchTimes` reports a batch that started after this request arrived and ended before it got its
 * result), the time from arrival to the batch start becomes a `queue` span and `run` the batch's run.
 *
 * @example
 * const servable = traceRuns(batched, "half_plus_two", tracing, (dir, sig) => lastBatch.get(`${dir}/${sig}`));
 */
export function traceRuns(
  servable: Servable,
  model: string,
  tracing: Tracing,
  batchTimes?: BatchTimes,
): Servable {
  return mapRunners(servable, (key, runner) => ({
    key: runner.key,
    def: runner.def,
    run: async (inputs, options) => {
      const attributes = { "ts_serving.model": model, "ts_serving.signature": key };
      const arrivedMs = performance.now();
      const span = batchTimes ? undefined : tracing.startChild("run", attributes);
      let error: unknown;
      try {
        return await runner.run(inputs, options);
      } catch (thrown: unknown) {
        error = thrown;
        throw thrown;
      } finally {
        if (span) finish(span, error);
        else if (batchTimes) {
          const batch = batchTimes(servable.dir, key);
          const nowMs = performance.now();
          // A batch outside [arrival, now] is not this request's (it failed before running, or ran alone).
          const ours = batch && batch.startMs >= arrivedMs && batch.endMs <= nowMs ? batch : undefined;
          const runStart = ours?.startMs ?? arrivedMs;
          if (ours) tracing.startChild("queue", attributes, epochMs(arrivedMs))?.end(epochMs(ours.startMs));
          const run = tracing.startChild("run", attributes, epochMs(runStart));
          if (run) finish(run, error, ours ? epochMs(ours.endMs) : undefined);
        }
      }
    },
  }));
}

/** performance.now() → epoch ms: OTel reads small numbers against each span's own clock offset. */
const epochMs = (ms: number): number => performance.timeOrigin + ms;

function finish(span: Span, error: unknown, endMs?: number): void {
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  span.end(endMs);
}
