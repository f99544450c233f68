// Batching semantics on a real model (our exporter's SavedModel, real onnxruntime): batch formation
// by size and by timeout, padding, splitting, queue full, cancellation, drain on unload, and many
// concurrent requests each getting exactly their own rows back.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { useScratchDir } from "../../test/scratch.js";
import { Code, ServingError } from "../errors.js";
import { loadServable, type Servable } from "../runtime/servable.js";
import { DataType } from "../tensor/dtype.js";
import { Tensor } from "../tensor/tensor.js";
import { BatchScheduler } from "./batch-scheduler.js";
import { writeBatchingModel } from "./batching.test-helpers.js";
import { batchingOptions, parseBatchingParameters } from "./batching-params.js";
import { withBatching } from "./batching-servable.js";
import type { BatchEvent, RejectEvent } from "./observer.js";

/** The values of a tensor as a plain array (numbers or bigints). */
const list = (t: Tensor | undefined): unknown[] => Array.from((t?.values ?? []) as ArrayLike<unknown>);

const LONG = "batch_timeout_micros { value: 60000000 }"; // a minute: batches close by size or drain only

function xk(rows: number, seed: number): Map<string, Tensor> {
  const x = new Float32Array(rows * 3).map((_, i) => seed * 100 + i);
  const k = new BigInt64Array(rows).map((_, i) => BigInt(seed) * 1000n + BigInt(i));
  return new Map([
    ["x", new Tensor(DataType.DT_FLOAT, [rows, 3], x)],
    ["k", new Tensor(DataType.DT_INT64, [rows], k)],
  ]);
}

function assertOwnXk(inputs: Map<string, Tensor>, outputs: Map<string, Tensor>): void {
  const x = inputs.get("x")?.values as Float32Array;
  const k = inputs.get("k")?.values as BigInt64Array;
  assert.deepEqual(outputs.get("y")?.shape, inputs.get("x")?.shape);
  assert.deepEqual(
    Array.from(outputs.get("y")?.values as Float32Array),
    Array.from(x, (v) => 2 * v + 1),
  );
  assert.deepEqual(
    Array.from(outputs.get("k_out")?.values as BigInt64Array),
    Array.from(k, (v) => v + 7n),
  );
}

describe("withBatching", () => {
  const freshDir = useScratchDir("batching");
  let dir = "";
  const servables: Servable[] = [];
  before(async () => {
    dir = freshDir("model");
    await writeBatchingModel(dir);
  });
  after(async () => {
    await Promise.all(servables.map((s) => s.close()));
  });

  /** A batching servable with the given text params, recording every batch and rejection. */
  async function batching(params: string, extra: { adaptive?: boolean } = {}) {
    const batches: BatchEvent[] = [];
    const rejections: RejectEvent[] = [];
    const options = batchingOptions(parseBatchingParameters(params));
    const servable = withBatching(await loadServable(dir), {
      options,
      scheduler: new BatchScheduler(options.numBatchThreads),
      observer: { batch: (e) => batches.push(e), rejected: (e) => rejections.push(e) },
      ...extra,
    });
    servables.push(servable);
    const run = (signature: string, inputs: Map<string, Tensor>, options = {}) => {
      const runner = servable.signatures.get(signature);
      assert.ok(runner, signature);
      return runner.run(inputs, options);
    };
    return { servable, batches, rejections, run };
  }

  it("forms a batch when it is full (max_batch_size), not before", async () => {
    const { run, batches } = await batching(
      `max_batch_size { value: 6 } ${LONG} num_batch_threads { value: 1 }`,
    );
    const inputs = [xk(1, 1), xk(2, 2), xk(3, 3)];
    const outputs = await Promise.all(inputs.map((i) => run("serving_default", i)));
    for (const [i, o] of outputs.entries()) assertOwnXk(inputs[i] as Map<string, Tensor>, o);
    assert.deepEqual(
      batches.map((b) => [b.rows, b.requests]),
      [[6, 3]],
    );
  });

  it("a request that does not fit closes the open batch and starts the next", async () => {
    const { run, batches } = await batching(
      `max_batch_size { value: 4 } ${LONG} num_batch_threads { value: 1 }`,
    );
    const inputs = [xk(3, 1), xk(2, 2), xk(2, 3)];
    const outputs = await Promise.all(inputs.map((i) => run("serving_default", i)));
    for (const [i, o] of outputs.entries()) assertOwnXk(inputs[i] as Map<string, Tensor>, o);
    assert.deepEqual(
      batches.map((b) => b.rows),
      [3, 4],
    );
  });

  it("runs a partial batch once its first request has waited batch_timeout_micros", async () => {
    const { run, batches } = await batching(
      "max_batch_size { value: 100 } batch_timeout_micros { value: 20000 }",
    );
    const inputs = xk(2, 5);
    const started = performance.now();
    assertOwnXk(inputs, await run("serving_default", inputs));
    assert.ok(performance.now() - started >= 19, "the batch waited for its timeout");
    assert.deepEqual(
      batches.map((b) => [b.rows, b.paddedRows]),
      [[2, 2]],
    );
    assert.ok((batches[0]?.queueDelaysMicros[0] ?? 0) >= 19_000);
  });

  it("pads to the next allowed batch size; padding never reaches a result", async () => {
    const { run, batches } = await batching(
      `max_batch_size { value: 8 } batch_timeout_micros { value: 1000 } allowed_batch_sizes: 2 allowed_batch_sizes: 4 allowed_batch_sizes: 8`,
    );
    const a = xk(1, 1);
    const b = xk(2, 2);
    const [ya, yb] = await Promise.all([run("serving_default", a), run("serving_default", b)]);
    assertOwnXk(a, ya as Map<string, Tensor>);
    assertOwnXk(b, yb as Map<string, Tensor>);
    assert.deepEqual(
      batches.map((e) => [e.rows, e.paddedRows]),
      [[3, 4]],
    );
  });

  it("splits a request larger than max_execution_batch_size across batches, and reassembles it", async () => {
    const { run, batches } = await batching(
      `max_batch_size { value: 10 } ${LONG} enable_large_batch_splitting { value: true } max_execution_batch_size { value: 4 } num_batch_threads { value: 1 }`,
    );
    const inputs = xk(10, 9);
    const pending = run("serving_default", inputs);
    // 4 + 4 run now (full); the last 2 rows wait for company or the drain.
    const other = xk(2, 3);
    const [big, small] = await Promise.all([pending, run("serving_default", other)]);
    assertOwnXk(inputs, big as Map<string, Tensor>);
    assertOwnXk(other, small as Map<string, Tensor>);
    assert.deepEqual(
      batches.map((b) => b.rows),
      [4, 4, 4],
    );
  });

  it("rejects a request above max_batch_size with TF Serving's INVALID_ARGUMENT when splitting is off", async () => {
    const { run, rejections } = await batching("max_batch_size { value: 4 }");
    await assert.rejects(run("serving_default", xk(5, 1)), {
      code: Code.INVALID_ARGUMENT,
      message: "Task size 5 is larger than maximum input batch size 4",
    });
    assert.deepEqual(
      rejections.map((r) => r.code),
      ["INVALID_ARGUMENT"],
    );
  });

  it("answers UNAVAILABLE at once when max_enqueued_batches are waiting; drains them on close", async () => {
    const { servable, run, batches } = await batching(
      `max_batch_size { value: 2 } ${LONG} max_enqueued_batches { value: 2 } num_batch_threads { value: 1 }`,
    );
    // Batch 1 (2 rows) is full and runs; batch 2 gets 1 row and waits, then batch 3 opens with 2 rows.
    const first = xk(2, 1);
    const waiting = [xk(1, 2), xk(2, 3)];
    const accepted = [run("serving_default", first), ...waiting.map((i) => run("serving_default", i))];
    await assert.rejects(run("serving_default", xk(2, 4)), {
      code: Code.UNAVAILABLE,
      message: "The batch scheduling queue to which this task was submitted is full",
    });
    assertOwnXk(first, (await accepted[0]) as Map<string, Tensor>);
    // Unloading runs what still waits (the one-row batch never filled up), then closes the model.
    await servable.close();
    assertOwnXk(waiting[0] as Map<string, Tensor>, (await accepted[1]) as Map<string, Tensor>);
    assertOwnXk(waiting[1] as Map<string, Tensor>, (await accepted[2]) as Map<string, Tensor>);
    assert.deepEqual(batches.map((b) => b.rows).sort(), [1, 2, 2]);
    await assert.rejects(run("serving_default", xk(1, 5)), { code: Code.UNAVAILABLE });
  });

  it("a cancelled or timed-out request leaves the queue; the others still run", async () => {
    const { run, batches, rejections } = await batching(`max_batch_size { value: 3 } ${LONG}`);
    const controller = new AbortController();
    const cancelled = run("serving_default", xk(1, 1), { signal: controller.signal });
    const deadline = run("serving_default", xk(1, 2), { signal: AbortSignal.timeout(10) });
    await assert.rejects(deadline, { code: Code.DEADLINE_EXCEEDED });
    controller.abort();
    await assert.rejects(cancelled, { code: Code.CANCELLED });
    const kept = [xk(1, 3), xk(2, 4)];
    const outputs = await Promise.all(kept.map((i) => run("serving_default", i)));
    for (const [i, o] of outputs.entries()) assertOwnXk(kept[i] as Map<string, Tensor>, o);
    assert.deepEqual(
      batches.map((b) => [b.rows, b.requests]),
      [[3, 2]],
    );
    assert.deepEqual(rejections.map((r) => r.code).sort(), ["CANCELLED", "DEADLINE_EXCEEDED"]);
    await assert.rejects(run("serving_default", xk(1, 1), { signal: AbortSignal.abort() }), {
      code: Code.CANCELLED,
    });
  });

  it("batches strings and bools", async () => {
    const { run, batches } = await batching(`max_batch_size { value: 5 } ${LONG}`);
    const requests = [["héllo", "wörld"], [""], ["a", "bb"]].map(
      (words) =>
        new Map([
          ["text", Tensor.fromStrings([words.length], words)],
          [
            "flag",
            new Tensor(DataType.DT_BOOL, [words.length], new Uint8Array(words.map((w) => w.length % 2))),
          ],
        ]),
    );
    const outputs = await Promise.all(requests.map((r) => run("strings", r)));
    const decoder = new TextDecoder();
    outputs.forEach((o, i) => {
      const input = requests[i] as Map<string, Tensor>;
      assert.deepEqual(
        o.get("text_out")?.strings.map((s) => decoder.decode(s)),
        input.get("text")?.strings.map((s) => decoder.decode(s)),
      );
      assert.deepEqual(
        Array.from(o.get("flag_out")?.values as Uint8Array),
        Array.from(input.get("flag")?.values as Uint8Array, (v) => 1 - v),
      );
    });
    assert.deepEqual(
      batches.map((b) => b.rows),
      [5],
    );
  });

  it("differing non-batch dimensions: FAILED_PRECONDITION without padding, padded with pad_variable_length_inputs", async () => {
    const tokens = (values: number[][]) =>
      new Map([
        [
          "tokens",
          new Tensor(
            DataType.DT_FLOAT,
            [values.length, values[0]?.length ?? 0],
            new Float32Array(values.flat()),
          ),
        ],
      ]);
    const strict = await batching(`max_batch_size { value: 2 } ${LONG}`);
    const [ok, bad] = await Promise.allSettled([
      strict.run("seq", tokens([[1, 2]])),
      strict.run("seq", tokens([[3, 4, 5]])),
    ]);
    assert.equal(ok.status, "fulfilled");
    assert.deepEqual(list(ok.value.get("tokens_out") as Tensor), [1, 2]);
    assert.equal(bad.status, "rejected");
    assert.ok(bad.reason instanceof ServingError && bad.reason.code === Code.FAILED_PRECONDITION);
    assert.match(
      bad.reason.message,
      /^Tensors with name 'tokens' from different tasks have different shapes/,
    );

    const padded = await batching(`max_batch_size { value: 2 } ${LONG} pad_variable_length_inputs: true`);
    const [short, long] = await Promise.all([
      padded.run("seq", tokens([[7, 2]])),
      padded.run("seq", tokens([[3, 4, 5]])),
    ]);
    // TF Serving pads with the tensor's first value; outputs keep the batch's padded length.
    assert.deepEqual(short?.get("tokens_out")?.shape, [1, 3]);
    assert.deepEqual(list(short?.get("tokens_out")), [7, 2, 7]);
    assert.deepEqual(list(long?.get("tokens_out")), [3, 4, 5]);
  });

  it("rejects scalars and unequal dimension 0 as TF Serving's BatchingSession does", async () => {
    const { run } = await batching("max_batch_size { value: 8 }");
    await assert.rejects(
      run(
        "serving_default",
        new Map([
          ["x", new Tensor(DataType.DT_FLOAT, [], new Float32Array([1]))],
          ["k", new Tensor(DataType.DT_INT64, [1], new BigInt64Array([1n]))],
        ]),
      ),
      {
        code: Code.INVALID_ARGUMENT,
        message: "Batching session Run() input tensors must have at least one dimension",
      },
    );
    const mixed = xk(2, 1);
    mixed.set("k", new Tensor(DataType.DT_INT64, [3], new BigInt64Array(3)));
    await assert.rejects(run("serving_default", mixed), {
      code: Code.INVALID_ARGUMENT,
      message: "Batching session Run() input tensors must have equal 0th-dimension size",
    });
    // Wrong dtypes and unknown output aliases keep the signature's own errors.
    const wrong = xk(1, 1);
    wrong.set("k", new Tensor(DataType.DT_INT32, [1], new Int32Array(1)));
    await assert.rejects(run("serving_default", wrong), {
      code: Code.INVALID_ARGUMENT,
      message: /Expects arg\[/,
    });
    await assert.rejects(run("serving_default", xk(1, 1), { outputFilter: ["nope"] }), {
      message: /output tensor alias not found in signature: nope/,
    });
  });

  it("200 concurrent requests of mixed sizes on several signatures each get exactly their own result", async () => {
    const { run, batches } = await batching(
      "max_batch_size { value: 32 } batch_timeout_micros { value: 2000 } allowed_batch_sizes: 8 allowed_batch_sizes: 16 allowed_batch_sizes: 32 num_batch_threads { value: 2 } max_enqueued_batches { value: 100 }",
    );
    const decoder = new TextDecoder();
    const jobs = Array.from({ length: 200 }, async (_, i) => {
      const rows = 1 + (i % 7);
      if (i % 3 === 2) {
        const words = Array.from({ length: rows }, (_, r) => `client ${i} row ${r}`);
        const flags = new Uint8Array(rows).map((_, r) => (i + r) % 2);
        const out = await run(
          "strings",
          new Map([
            ["text", Tensor.fromStrings([rows], words)],
            ["flag", new Tensor(DataType.DT_BOOL, [rows], flags)],
          ]),
          i % 2 === 0 ? { outputFilter: ["text_out"] } : {},
        );
        assert.deepEqual(
          out.get("text_out")?.strings.map((s) => decoder.decode(s)),
          words,
        );
        if (i % 2 === 0) assert.equal(out.has("flag_out"), false);
        else
          assert.deepEqual(
            list(out.get("flag_out")),
            Array.from(flags, (f) => 1 - f),
          );
        return;
      }
      const inputs = xk(rows, i);
      assertOwnXk(inputs, await run("serving_default", inputs));
    });
    await Promise.all(jobs);
    assert.ok(
      batches.some((b) => b.requests > 1),
      "requests were merged",
    );
    assert.equal(
      batches.reduce((n, b) => n + b.rows, 0),
      Array.from({ length: 200 }, (_, i) => 1 + (i % 7)).reduce((a, b) => a + b, 0),
    );
  });

  it("adaptive mode runs a lone request without waiting for the timeout", async () => {
    const { run, batches } = await batching(
      "max_batch_size { value: 8 } batch_timeout_micros { value: 60000000 }",
      {
        adaptive: true,
      },
    );
    for (let i = 0; i < 3; i++) assertOwnXk(xk(1, i), await run("serving_default", xk(1, i)));
    assert.equal(batches.length, 3);
  });
});
