import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { batchingOptions, paddedBatchSize, parseBatchingParameters } from "./batching-params.js";

const options = (text: string) => batchingOptions(parseBatchingParameters(text), "batch.conf");

describe("BatchingParameters", () => {
  it("applies TF Serving's defaults to unset fields", () => {
    assert.deepEqual(options(""), {
      maxBatchSize: 1000,
      batchTimeoutMicros: 0,
      maxEnqueuedBatches: 10,
      numBatchThreads: availableParallelism(),
      allowedBatchSizes: [],
      padVariableLengthInputs: false,
      enableLargeBatchSplitting: false,
      maxExecutionBatchSize: 1000,
    });
  });

  it("reads the text format TF Serving users write", () => {
    const parsed = options(`
      max_batch_size { value: 128 }
      batch_timeout_micros { value: 2000 }
      max_enqueued_batches { value: 100 }
      num_batch_threads { value: 8 }
      thread_pool_name { value: "shared" }
      allowed_batch_sizes: 32
      allowed_batch_sizes: 64
      allowed_batch_sizes: 128
      pad_variable_length_inputs: true
    `);
    assert.equal(parsed.maxBatchSize, 128);
    assert.equal(parsed.batchTimeoutMicros, 2000);
    assert.equal(parsed.maxEnqueuedBatches, 100);
    assert.equal(parsed.numBatchThreads, 8);
    assert.deepEqual(parsed.allowedBatchSizes, [32, 64, 128]);
    assert.equal(parsed.padVariableLengthInputs, true);
    assert.equal(paddedBatchSize(parsed, 33), 64);
    assert.equal(paddedBatchSize(parsed, 32), 32);
    assert.equal(paddedBatchSize(options(""), 7), 7);
  });

  it("max_execution_batch_size counts only with splitting, and defaults to max_batch_size", () => {
    assert.equal(
      options("max_batch_size { value: 64 } max_execution_batch_size { value: 8 }").maxExecutionBatchSize,
      64,
    );
    assert.equal(
      options("max_batch_size { value: 64 } enable_large_batch_splitting { value: true }")
        .maxExecutionBatchSize,
      64,
    );
    assert.equal(
      options(
        "max_batch_size { value: 64 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 8 }",
      ).maxExecutionBatchSize,
      8,
    );
  });

  const invalid: [string, string][] = [
    ["max_batch_size { value: 0 }", "batch.conf: max_batch_size must be positive; was 0"],
    ["batch_timeout_micros { value: -1 }", "batch.conf: batch_timeout_micros must be non-negative; was -1"],
    ["max_enqueued_batches { value: 0 }", "batch.conf: max_enqueued_batches must be positive; was 0"],
    ["num_batch_threads { value: 0 }", "batch.conf: num_batch_threads must be positive; was 0"],
    [
      "max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 2 allowed_batch_sizes: 8",
      "batch.conf: allowed_batch_sizes entries must be monotonically increasing",
    ],
    [
      "max_batch_size { value: 8 } allowed_batch_sizes: 2 allowed_batch_sizes: 4",
      "batch.conf: Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8",
    ],
    [
      "max_batch_size { value: 8 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 4 } allowed_batch_sizes: 2",
      "batch.conf: Last entry in allowed_batch_sizes must be equal to max_execution_batch_size; last entry was 2; expected 4",
    ],
    [
      "max_batch_size { value: 8 } enable_large_batch_splitting { value: true } max_execution_batch_size { value: 16 }",
      "batch.conf: max_execution_batch_size must be less than or equal to max_batch_size; was 16; max_batch_size is 8",
    ],
  ];
  for (const [text, message] of invalid) {
    it(`rejects: ${message.slice(12)}`, () => {
      assert.throws(() => options(text), { code: Code.INVALID_ARGUMENT, message });
    });
  }

  it("names the file and line of an unknown field", () => {
    assert.throws(
      () =>
        batchingOptions(
          parseBatchingParameters("max_batch_size { value: 8 }\nmax_batch { value: 1 }", "b.conf"),
        ),
      {
        code: Code.INVALID_ARGUMENT,
        message: /^b\.conf: .*max_batch.*line 2/,
      },
    );
  });
});
