import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command } from "commander";
import { Code, ServingError } from "../errors.js";
import { addServerFlags, SERVER_FLAGS, serverFlags } from "./server-flags.js";

/** Parses argv the way the `ts-serving` command does. */
function parse(...argv: string[]) {
  const command = addServerFlags(new Command())
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  command.parse(argv, { from: "user" });
  return serverFlags(command.opts());
}

describe("tensorflow_model_server flags", () => {
  it("knows all 48 flags with TF Serving's defaults (REST on 8501)", () => {
    // ts-serving's own flags (help "ts-serving: ...") come after TF Serving's 48.
    assert.equal(SERVER_FLAGS.filter((f) => !f.help.startsWith("ts-serving:")).length, 48);
    const flags = parse();
    assert.equal(flags.int("port"), 8500);
    assert.equal(flags.int("rest_api_port"), 8501);
    assert.equal(flags.string("model_name"), "default");
    assert.equal(flags.int("max_num_load_retries"), 5);
    assert.equal(flags.bigint("load_retry_interval_micros"), 60_000_000n);
    assert.equal(flags.int("file_system_poll_wait_seconds"), 1);
    assert.equal(flags.bool("enable_model_warmup"), true);
    assert.equal(flags.string("saved_model_tags"), "serve");
  });

  it("accepts --flag=value and --flag value, and bools bare, =true/=false or as a separate word", () => {
    const flags = parse(
      "--port=9000",
      "--rest_api_port",
      "9001",
      "--model_name=ranker",
      "--model_base_path",
      "/models/ranker",
      "--enable_batching",
      "--enable_model_warmup=false",
      "--rest_api_enable_cors_support",
      "true",
      "--load_retry_interval_micros=9223372036854775807",
    );
    assert.equal(flags.int("port"), 9000);
    assert.equal(flags.int("rest_api_port"), 9001);
    assert.equal(flags.string("model_name"), "ranker");
    assert.equal(flags.string("model_base_path"), "/models/ranker");
    assert.equal(flags.bool("enable_batching"), true);
    assert.equal(flags.bool("enable_model_warmup"), false);
    assert.equal(flags.bool("rest_api_enable_cors_support"), true);
    assert.equal(flags.bigint("load_retry_interval_micros"), 2n ** 63n - 1n);
  });

  it("reports flags that only tune TensorFlow internals as ignored", () => {
    const flags = parse("--xla_cpu_compilation_enabled", "--tensorflow_session_parallelism=4", "--port=1");
    assert.deepEqual(
      flags.ignoredSet.map((f) => f.name),
      ["tensorflow_session_parallelism", "xla_cpu_compilation_enabled"],
    );
  });

  it("rejects bad values, unknown flags and impossible combinations with a clear message", () => {
    const invalid = (pattern: RegExp) => (e: unknown) =>
      e instanceof ServingError && e.code === Code.INVALID_ARGUMENT && pattern.test(e.message);
    assert.throws(() => parse("--port=http"), invalid(/--port=http: expected an integer/));
    assert.throws(() => parse("--port=70000"), invalid(/a port is 0\.\.65535/));
    assert.throws(() => parse("--enable_batching=maybe"), invalid(/expected true or false/));
    assert.throws(() => parse("--max_num_load_retries=99999999999"), invalid(/out of int32 range/));
    assert.throws(() => parse("--batching_parameters_file=/b.conf"), invalid(/requires --enable_batching/));
    assert.throws(() => parse("--port=0", "--rest_api_port=0"), invalid(/listen nowhere/));
    assert.throws(() => parse("--no_such_flag=1"), /unknown option '--no_such_flag=1'/);
  });
});
