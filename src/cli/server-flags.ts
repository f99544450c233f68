import { availableParallelism } from "node:os";
import { type Command, Option } from "commander";
import { Code, ServingError } from "../errors.js";
import {
  DEFAULT_REST_HEADERS_TIMEOUT_MS,
  DEFAULT_REST_MAX_BODY_BYTES,
  DEFAULT_REST_REQUEST_TIMEOUT_MS,
} from "../security/limits.js";

type FlagType = "int32" | "int64" | "bool" | "string" | "float";

interface FlagSpec {
  readonly name: string;
  readonly type: FlagType;
  readonly default: string | number | boolean | bigint;
  readonly help: string;
  /** Set for flags that only tune TensorFlow internals: accepted, reported as ignored, with the reason. */
  readonly ignored?: string;
}

const NCPU = availableParallelism();

/**
 * Every `tensorflow_model_server` flag, with its name, type and default. ts-serving differs in one
 * default: --rest_api_port is 8501 (TF Serving's binary defaults to 0 = off; its Docker image sets 8501).
 */
export const SERVER_FLAGS: readonly FlagSpec[] = [
  { name: "port", type: "int32", default: 8500, help: "gRPC port (0 disables TCP gRPC)" },
  {
    name: "grpc_socket_path",
    type: "string",
    default: "",
    help: "also serve gRPC on unix:<path> (with --port=0: only there)",
  },
  { name: "rest_api_port", type: "int32", default: 8501, help: "HTTP/REST port (0 disables REST)" },
  {
    name: "rest_api_num_threads",
    type: "int32",
    default: 4 * NCPU,
    help: "REST worker threads",
    ignored: "Node serves HTTP on its event loop",
  },
  { name: "rest_api_timeout_in_ms", type: "int32", default: 30000, help: "timeout of a REST request" },
  {
    name: "rest_api_enable_cors_support",
    type: "bool",
    default: false,
    help: "add CORS headers to REST replies",
  },
  { name: "enable_batching", type: "bool", default: false, help: "server-side batching" },
  {
    name: "allow_version_labels_for_unavailable_models",
    type: "bool",
    default: false,
    help: "let a new label point at a version that is not AVAILABLE yet",
  },
  {
    name: "batching_parameters_file",
    type: "string",
    default: "",
    help: "text BatchingParameters (needs --enable_batching)",
  },
  {
    name: "enable_per_model_batching_parameters",
    type: "bool",
    default: false,
    help: "read batching_params.pbtxt from each model version",
  },
  {
    name: "model_config_file",
    type: "string",
    default: "",
    help: "text ModelServerConfig; overrides --model_name/--model_base_path",
  },
  {
    name: "model_config_file_poll_wait_seconds",
    type: "int32",
    default: 0,
    help: "re-read the config file every N seconds (0 = never)",
  },
  { name: "model_name", type: "string", default: "default", help: "name of the single model" },
  {
    name: "model_base_path",
    type: "string",
    default: "",
    help: "base path of the single model (numeric version subdirectories)",
  },
  {
    name: "num_load_threads",
    type: "int32",
    default: 0,
    help: "concurrent loads after startup",
    ignored: "loads are asynchronous",
  },
  {
    name: "num_unload_threads",
    type: "int32",
    default: 0,
    help: "concurrent unloads",
    ignored: "unloads are asynchronous",
  },
  {
    name: "max_num_load_retries",
    type: "int32",
    default: 5,
    help: "retries after a failed load (0 = one attempt)",
  },
  {
    name: "load_retry_interval_micros",
    type: "int64",
    default: 60_000_000n,
    help: "wait between load retries",
  },
  {
    name: "file_system_poll_wait_seconds",
    type: "int32",
    default: 1,
    help: "poll period for new versions (0 = once)",
  },
  {
    name: "flush_filesystem_caches",
    type: "bool",
    default: true,
    help: "flush file-system caches after loads",
    ignored: "no TensorFlow file-system caches",
  },
  {
    name: "tensorflow_session_parallelism",
    type: "int64",
    default: 0,
    help: "TF session threads",
    ignored: "no TensorFlow sessions; see --tensorflow_intra_op_parallelism",
  },
  {
    name: "tensorflow_session_config_file",
    type: "string",
    default: "",
    help: "text tensorflow.ConfigProto",
    ignored: "no TensorFlow sessions",
  },
  {
    name: "tensorflow_intra_op_parallelism",
    type: "int64",
    default: 0,
    help: "threads per onnxruntime session (0 = auto)",
  },
  {
    name: "tensorflow_inter_op_parallelism",
    type: "int64",
    default: 0,
    help: "onnxruntime inter-op threads (0 = auto)",
  },
  { name: "use_alts_credentials", type: "bool", default: false, help: "gRPC ALTS credentials" },
  { name: "ssl_config_file", type: "string", default: "", help: "text SSLConfig for TLS" },
  { name: "platform_config_file", type: "string", default: "", help: "text PlatformConfigMap" },
  {
    name: "per_process_gpu_memory_fraction",
    type: "float",
    default: 0,
    help: "GPU memory fraction",
    ignored: "CPU inference",
  },
  {
    name: "saved_model_tags",
    type: "string",
    default: "serve",
    help: "comma-separated MetaGraphDef tags to load",
  },
  {
    name: "grpc_channel_arguments",
    type: "string",
    default: "",
    help: "k=v,k=v gRPC server arguments, int32 values as numbers (e.g. grpc.max_receive_message_length=1073741824; default limit 2147483647 as TF Serving)",
  },
  {
    name: "grpc_max_threads",
    type: "int32",
    default: 4 * NCPU,
    help: "gRPC threads",
    ignored:
      "grpc-js serves calls on the Node event loop; onnxruntime's intra-op threads work inside each run",
  },
  {
    name: "enable_model_warmup",
    type: "bool",
    default: true,
    help: "replay assets.extra/tf_serving_warmup_requests at load",
  },
  {
    name: "num_request_iterations_for_warmup",
    type: "int32",
    default: 0,
    help: "times each warmup record runs (0 = once)",
  },
  { name: "version", type: "bool", default: false, help: "print the version and exit" },
  { name: "monitoring_config_file", type: "string", default: "", help: "text MonitoringConfig (Prometheus)" },
  {
    name: "remove_unused_fields_from_bundle_metagraph",
    type: "bool",
    default: true,
    help: "trim MetaGraphDefs in memory",
    ignored: "compiled graphs keep no MetaGraphDef",
  },
  {
    name: "prefer_tflite_model",
    type: "bool",
    default: false,
    help: "use model.tflite if present",
    ignored: "TFLite is not supported",
  },
  {
    name: "num_tflite_pools",
    type: "int32",
    default: NCPU,
    help: "TFLite pools",
    ignored: "TFLite is not supported",
  },
  {
    name: "num_tflite_interpreters_per_pool",
    type: "int32",
    default: 1,
    help: "TFLite interpreters",
    ignored: "TFLite is not supported",
  },
  {
    name: "enable_signature_method_name_check",
    type: "bool",
    default: false,
    help: "enforce SignatureDef method names",
  },
  {
    name: "xla_cpu_compilation_enabled",
    type: "bool",
    default: false,
    help: "XLA CPU JIT",
    ignored: "onnxruntime compiles the graphs",
  },
  {
    name: "xla_gpu_compilation_enabled",
    type: "bool",
    default: false,
    help: "XLA GPU JIT",
    ignored: "onnxruntime compiles the graphs",
  },
  {
    name: "enable_profiler",
    type: "bool",
    default: true,
    help: "TF profiler service",
    ignored: "no TensorFlow profiler",
  },
  {
    name: "thread_pool_factory_config_file",
    type: "string",
    default: "",
    help: "text ThreadPoolConfig",
    ignored: "no TensorFlow thread pools",
  },
  {
    name: "mixed_precision",
    type: "string",
    default: "",
    help: "e.g. bfloat16",
    ignored: "models run at their own precision",
  },
  {
    name: "skip_initialize_tpu",
    type: "bool",
    default: false,
    help: "TPU builds only",
    ignored: "no TPU support",
  },
  {
    name: "enable_grpc_healthcheck_service",
    type: "bool",
    default: false,
    help: "standard grpc.health.v1 service",
    ignored: "ts-serving always serves grpc.health.v1 (and reflection)",
  },
  {
    name: "enable_serialization_as_tensor_content",
    type: "bool",
    default: false,
    help: "Predict outputs in tensor_content",
  },
  {
    name: "traffic_split_file",
    type: "string",
    default: "",
    help: "ts-serving: JSON traffic split between versions (canary; docs/canary.md), re-read every --model_config_file_poll_wait_seconds and on SIGHUP",
  },
  {
    name: "batching_adaptive",
    type: "bool",
    default: false,
    help: "ts-serving: with --enable_batching, choose each batch's wait from the arrival rate and measured batch cost (0 at low load), capped by batch_timeout_micros (docs/batching.md)",
  },
  {
    name: "s3_endpoint",
    type: "string",
    default: "",
    help: "ts-serving: S3 endpoint URL for s3:// base paths, e.g. http://minio:9000 (path-style); default: env S3_ENDPOINT, AWS_ENDPOINT_URL, else AWS (docs/s3.md)",
  },
  {
    name: "model_cache_dir",
    type: "string",
    default: "",
    help: "ts-serving: where versions of s3:// base paths are downloaded and verified (default: <tmpdir>/ts-serving-model-cache)",
  },
  {
    name: "log_format",
    type: "string",
    default: "text",
    help: "ts-serving: server log lines on stderr as text, or json (pino: one JSON object a line, with fields) (docs/observability.md)",
  },
  {
    name: "access_log",
    type: "string",
    default: "",
    help: "ts-serving: one JSON line per REST/gRPC request (model, version, signature, API, status, latency, request id) to stdout, stderr or a file path; empty = off",
  },
  {
    name: "otlp_traces_endpoint",
    type: "string",
    default: "",
    help: "ts-serving: export OpenTelemetry spans (request, queue, run) over OTLP/HTTP to this URL, e.g. http://collector:4318/v1/traces; empty = off",
  },
  // Security and limits (docs/security.md).
  {
    name: "rest_api_enable_ssl",
    type: "bool",
    default: true,
    help: "ts-serving: serve REST over HTTPS with --ssl_config_file too (TF Serving's REST is plain HTTP: false restores that)",
  },
  {
    name: "auth_api_keys_file",
    type: "string",
    default: "",
    help: "ts-serving: require credentials; API keys file, lines 'sha256:<hex> <name> [models=a,b]' (see `ts-serving new-api-key`)",
  },
  {
    name: "auth_jwks_file",
    type: "string",
    default: "",
    help: "ts-serving: require credentials; JWKS (JSON) whose public keys verify JWT bearer tokens (needs --auth_jwt_issuer and --auth_jwt_audience)",
  },
  { name: "auth_jwt_issuer", type: "string", default: "", help: "ts-serving: the JWT `iss` to accept" },
  { name: "auth_jwt_audience", type: "string", default: "", help: "ts-serving: the JWT `aud` to accept" },
  {
    name: "auth_jwt_models_claim",
    type: "string",
    default: "models",
    help: "ts-serving: JWT claim listing the models a token may use (absent claim = every model)",
  },
  {
    name: "auth_jwt_clock_tolerance_seconds",
    type: "int32",
    default: 30,
    help: "ts-serving: leeway for the JWT exp/nbf checks",
  },
  {
    name: "auth_open_health_and_metrics",
    type: "bool",
    default: false,
    help: "ts-serving: with authentication on, leave grpc.health.v1, REST model status and the metrics endpoint open",
  },
  {
    name: "max_concurrent_requests_per_model",
    type: "int32",
    default: 0,
    help: "ts-serving: inference requests running at once per model; excess refused at once (REST 503, gRPC RESOURCE_EXHAUSTED); 0 = unlimited",
  },
  {
    name: "rest_api_max_body_bytes",
    type: "int32",
    default: DEFAULT_REST_MAX_BODY_BYTES,
    help: "ts-serving: largest REST request body, after gzip inflation (larger → 413)",
  },
  {
    name: "rest_api_headers_timeout_ms",
    type: "int32",
    default: DEFAULT_REST_HEADERS_TIMEOUT_MS,
    help: "ts-serving: a REST client slower to send its request headers gets 408 and is disconnected (0 = no limit)",
  },
  {
    name: "rest_api_request_timeout_ms",
    type: "int32",
    default: DEFAULT_REST_REQUEST_TIMEOUT_MS,
    help: "ts-serving: the same for the whole request, body included (0 = no limit)",
  },
];

export type FlagValue = string | number | boolean | bigint;

/** Parsed flags by TF Serving's names, plus the flags that were set but are ignored. */
export interface ServerFlags {
  readonly values: ReadonlyMap<string, FlagValue>;
  readonly ignoredSet: readonly { name: string; reason: string }[];
  int(name: string): number;
  bigint(name: string): bigint;
  bool(name: string): boolean;
  string(name: string): string;
}

/** Adds every flag to a commander command, in both `--flag=value` and `--flag value` forms (bools also bare). */
export function addServerFlags(command: Command): Command {
  for (const spec of SERVER_FLAGS) {
    const shown = spec.default === "" ? '""' : String(spec.default);
    const help = `${spec.help} (default: ${shown})${spec.ignored ? ` — accepted and ignored: ${spec.ignored}` : ""}`;
    const option =
      spec.type === "bool"
        ? new Option(`--${spec.name} [bool]`, help)
        : new Option(`--${spec.name} <${spec.type === "string" ? "value" : spec.type}>`, help);
    command.addOption(option.default(undefined).argParser((raw: string) => raw));
  }
  return command;
}

/**
 * Validates and types the raw option values commander collected. A bad value is an INVALID_ARGUMENT
 * naming the flag; flags that tune TensorFlow internals are accepted and listed in `ignoredSet`.
 */
export function serverFlags(raw: Readonly<Record<string, unknown>>): ServerFlags {
  const values = new Map<string, FlagValue>();
  const ignoredSet: { name: string; reason: string }[] = [];
  for (const spec of SERVER_FLAGS) {
    const given = raw[spec.name];
    if (given === undefined) {
      values.set(spec.name, spec.default);
      continue;
    }
    values.set(spec.name, convert(spec, given));
    if (spec.ignored) ignoredSet.push({ name: spec.name, reason: spec.ignored });
  }
  const get = (name: string): FlagValue => {
    const value = values.get(name);
    if (value === undefined) throw new ServingError(Code.INTERNAL, `unknown flag ${name}`);
    return value;
  };
  const flags: ServerFlags = {
    values,
    ignoredSet,
    int: (name) => Number(get(name)),
    bigint: (name) => BigInt(get(name)),
    bool: (name) => get(name) === true,
    string: (name) => String(get(name)),
  };
  validate(flags);
  return flags;
}

function convert(spec: FlagSpec, given: unknown): FlagValue {
  const text = given === true ? "true" : String(given);
  const bad = (why: string) =>
    new ServingError(Code.INVALID_ARGUMENT, `--${spec.name}=${text}: ${why} (see ts-serving --help)`);
  switch (spec.type) {
    case "bool":
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      throw bad("expected true or false");
    case "int32": {
      if (!/^-?\d+$/.test(text)) throw bad("expected an integer");
      const n = Number(text);
      if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw bad("out of int32 range");
      return n;
    }
    case "int64": {
      if (!/^-?\d+$/.test(text)) throw bad("expected an integer");
      const n = BigInt(text);
      if (n < -(2n ** 63n) || n > 2n ** 63n - 1n) throw bad("out of int64 range");
      return n;
    }
    case "float": {
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n)) throw bad("expected a number");
      return n;
    }
    default:
      return text;
  }
}

/** The startup checks tensorflow_model_server makes. */
function validate(flags: ServerFlags): void {
  const fail = (message: string) => {
    throw new ServingError(Code.INVALID_ARGUMENT, message);
  };
  for (const name of ["port", "rest_api_port"]) {
    const port = flags.int(name);
    if (port < 0 || port > 65535) fail(`--${name}=${port}: a port is 0..65535`);
  }
  if (
    flags.int("port") === 0 &&
    flags.string("grpc_socket_path") === "" &&
    flags.int("rest_api_port") === 0
  ) {
    fail("--port=0 and --rest_api_port=0 with no --grpc_socket_path: the server would listen nowhere");
  }
  if (flags.string("batching_parameters_file") !== "" && !flags.bool("enable_batching")) {
    fail("--batching_parameters_file requires --enable_batching");
  }
  if (flags.bool("batching_adaptive") && !flags.bool("enable_batching")) {
    fail("--batching_adaptive requires --enable_batching");
  }
  if (
    flags.bigint("tensorflow_session_parallelism") > 0n &&
    flags.bigint("tensorflow_intra_op_parallelism") > 0n &&
    flags.bigint("tensorflow_inter_op_parallelism") > 0n
  ) {
    fail(
      "Either --tensorflow_session_parallelism or --tensorflow_intra_op_parallelism and --tensorflow_inter_op_parallelism may be set, not all three",
    );
  }
  if (!["text", "json"].includes(flags.string("log_format"))) {
    fail(`--log_format=${flags.string("log_format")}: expected text or json`);
  }
  if (flags.bool("use_alts_credentials") && flags.string("ssl_config_file") !== "") {
    fail("--use_alts_credentials and --ssl_config_file cannot both be set");
  }
  if (flags.bool("use_alts_credentials"))
    fail("--use_alts_credentials: ALTS is not supported; use --ssl_config_file");
  validateSecurityFlags(flags, fail);
}

/** The checks of the security and limits flags: a bad combination fails the start with a clear message. */
function validateSecurityFlags(flags: ServerFlags, fail: (message: string) => void): void {
  const jwks = flags.string("auth_jwks_file") !== "";
  for (const name of ["auth_jwt_issuer", "auth_jwt_audience"]) {
    if (jwks && flags.string(name) === "")
      fail(`--auth_jwks_file needs --${name}: tokens are checked against it`);
    if (!jwks && flags.string(name) !== "") fail(`--${name} needs --auth_jwks_file`);
  }
  for (const name of [
    "auth_jwt_clock_tolerance_seconds",
    "max_concurrent_requests_per_model",
    "rest_api_headers_timeout_ms",
    "rest_api_request_timeout_ms",
  ]) {
    if (flags.int(name) < 0) fail(`--${name}=${flags.int(name)}: must be >= 0`);
  }
  if (flags.int("rest_api_max_body_bytes") <= 0) fail("--rest_api_max_body_bytes must be > 0");
  const headers = flags.int("rest_api_headers_timeout_ms");
  const request = flags.int("rest_api_request_timeout_ms");
  if (request > 0 && headers > request) {
    fail("--rest_api_headers_timeout_ms must be <= --rest_api_request_timeout_ms (node requires it)");
  }
}
