import type { Server } from "node:http";
import type { Server as GrpcServer } from "@grpc/grpc-js";
import { parseGrpcChannelArguments } from "../api/tfs-grpc/channel-args.js";
import { startGrpcServer } from "../api/tfs-grpc/server.js";
import { startRestServer } from "../api/tfs-rest/server.js";
import { serverBatching } from "../batching/server-batching.js";
import { readModelConfigFile, singleModelServerConfig } from "../core/model-config.js";
import { ServerCore } from "../core/server-core.js";
import { warmupServable } from "../core/warmup.js";
import { ServingError } from "../errors.js";
import type { LogFields } from "../observability/logger.js";
import { prometheusPath } from "../observability/monitoring-config.js";
import { Observability } from "../observability/observability.js";
import type { ModelServerConfig } from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { loadServable } from "../runtime/servable.js";
import { ensureDefaultModel } from "./default-model.js";
import { guardMetrics, securityOptions } from "./security-options.js";
import type { ServerFlags } from "./server-flags.js";
import { TrafficSplitFile } from "./traffic-split-file.js";

/** A started model server: the core, the REST port, and a graceful stop. */
export interface RunningServer {
  readonly core: ServerCore;
  readonly restPort: number | undefined;
  readonly grpcPort: number | undefined;
  /** Whether REST serves HTTPS (--ssl_config_file, unless --rest_api_enable_ssl=false). */
  readonly restTls: boolean;
  /** --traffic_split_file, when given (SIGHUP reloads it). */
  readonly trafficSplit?: TrafficSplitFile | undefined;
  /** Stops accepting connections, lets in-flight requests finish, unloads every model. */
  stop(): Promise<void>;
}

/** A lifecycle log line; `fields` are its structured form (`--log_format=json`). */
export type Log = (line: string, fields?: LogFields) => void;

/**
 * Starts the server as `tensorflow_model_server` does: load the configured models (the embedded
 * `ranking_model` when no model flags are given), then open the REST port. Nothing listens until every
 * model's initial version is AVAILABLE.
 */
export async function startModelServer(flags: ServerFlags, log: Log): Promise<RunningServer> {
  for (const { name, reason } of flags.ignoredSet) log(`flag --${name} is accepted and ignored: ${reason}`);
  // Parsed before any model loads: a malformed --grpc_channel_arguments fails the start at once.
  const channelArguments = parseGrpcChannelArguments(flags.string("grpc_channel_arguments"));
  // TLS material, key files and JWKS are read before any model loads: a bad one fails the start at once.
  const security = await securityOptions(flags);
  for (const line of security.summary) log(line);
  const monitoringFile = flags.string("monitoring_config_file");
  const metricsPath = monitoringFile === "" ? undefined : await prometheusPath(monitoringFile);
  const observability = new Observability({
    prometheusPath: metricsPath,
    accessLog: flags.string("access_log"),
    otlpEndpoint: flags.string("otlp_traces_endpoint"),
  });
  const config = await initialConfig(flags, log);
  const tags = flags
    .string("saved_model_tags")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  const threads = {
    intraOp: Number(flags.bigint("tensorflow_intra_op_parallelism")),
    interOp: Number(flags.bigint("tensorflow_inter_op_parallelism")),
  };
  const iterations = flags.int("num_request_iterations_for_warmup");
  const methodNameCheck = flags.bool("enable_signature_method_name_check");
  // --enable_batching: every loaded version batches; a bad --batching_parameters_file stops startup.
  const withBatching = await serverBatching({
    enableBatching: flags.bool("enable_batching"),
    batchingParametersFile: flags.string("batching_parameters_file"),
    perModelParameters: flags.bool("enable_per_model_batching_parameters"),
    adaptive: flags.bool("batching_adaptive"),
    observer: observability.batching,
  });
  const core = await ServerCore.create({
    config,
    fileSystemPollWaitSeconds: flags.int("file_system_poll_wait_seconds"),
    maxNumLoadRetries: flags.int("max_num_load_retries"),
    loadRetryIntervalMicros: Number(flags.bigint("load_retry_interval_micros")),
    allowVersionLabelsForUnavailableModels: flags.bool("allow_version_labels_for_unavailable_models"),
    remote: {
      s3: flags.string("s3_endpoint") === "" ? {} : { endpoint: flags.string("s3_endpoint") },
      cacheDir: flags.string("model_cache_dir"),
    },
    // Runtime latency inside batching (per run), trace spans outside (per request).
    load: observability.tracedLoad(
      withBatching(observability.timedLoad((dir) => loadServable(dir, { tags, threads }))),
      flags.bool("enable_batching"),
    ),
    ...(flags.bool("enable_model_warmup")
      ? {
          warmup: async (servable, dir, id) => {
            const { records } = await observability.timeWarmup(dir, () =>
              warmupServable(servable, dir, {
                modelName: id.model,
                version: id.version,
                iterations: iterations > 0 ? iterations : 1,
                methodNameCheck,
              }),
            );
            if (records > 0)
              log(`model ${id.model} version ${id.version}: replayed ${records} warmup records`);
          },
        }
      : {}),
    listeners: {
      state: (e) => {
        observability.onState(e);
        log(`model ${e.model} version ${e.version}: ${e.state}${e.error ? ` (${e.error.message})` : ""}`, {
          event: "version_state",
          model: e.model,
          version: String(e.version),
          state: e.state,
          error: e.error?.message,
        });
      },
      loadRetry: (e) =>
        log(
          `model ${e.model} version ${e.version}: load attempt ${e.attempt} failed, retrying: ${e.error.message}`,
          {
            event: "load_retry",
            model: e.model,
            version: String(e.version),
            attempt: e.attempt,
            error: e.error.message,
          },
        ),
    },
  });

  const trafficSplit = await openTrafficSplit(flags, core, log);
  const stopSplitPolling = trafficSplit?.poll(flags.int("model_config_file_poll_wait_seconds")) ?? (() => {});
  const stopPolling = pollConfigFile(flags, core, log);
  let rest: { server: Server; port: number } | undefined;
  const restPort = flags.int("rest_api_port");
  if (restPort !== 0) {
    if (restPort === flags.int("port")) {
      log(`--rest_api_port=${restPort} equals --port: REST is not started (as TF Serving)`);
    } else {
      rest = await startRestServer({
        backend: core,
        port: restPort,
        timeoutMs: flags.int("rest_api_timeout_in_ms"),
        enableCors: flags.bool("rest_api_enable_cors_support"),
        methodNameCheck,
        observability: observability.active
          ? guardMetrics(observability.rest, security.rest.auth, metricsPath)
          : undefined,
        ...security.rest,
      });
      log(`Exporting HTTP/REST API at:localhost:${rest.port} ...`, {
        event: "rest_listening",
        port: rest.port,
      });
    }
  }
  let grpc: { server: GrpcServer; port: number } | undefined;
  const socketPath = flags.string("grpc_socket_path");
  if (flags.int("port") !== 0 || socketPath !== "") {
    grpc = await startGrpcServer({
      core,
      // --port=0 with a socket path: gRPC on the UNIX socket only, as TF Serving.
      port: flags.int("port") === 0 ? null : flags.int("port"),
      ...(socketPath === "" ? {} : { socketPath }),
      channelArguments,
      tensorContentOutputs: flags.bool("enable_serialization_as_tensor_content"),
      methodNameCheck,
      // Observability first: it also sees the calls security refuses.
      interceptors: [
        ...(observability.active ? [observability.grpcInterceptor] : []),
        ...(security.grpc.interceptor ? [security.grpc.interceptor] : []),
      ],
      ...(security.grpc.credentials ? { credentials: security.grpc.credentials } : {}),
    });
    if (socketPath !== "") log(`Running gRPC ModelServer at UNIX socket ${socketPath} ...`);
    if (grpc.port !== 0)
      log(`Running gRPC ModelServer at 0.0.0.0:${grpc.port} ...`, {
        event: "grpc_listening",
        port: grpc.port,
      });
  }

  return {
    core,
    trafficSplit,
    restPort: rest?.port,
    restTls: rest !== undefined && security.rest.tls !== undefined,
    grpcPort: grpc?.port || undefined,
    stop: async () => {
      stopPolling();
      stopSplitPolling();
      if (grpc) {
        const server = grpc.server;
        // No new calls; in-flight calls finish first.
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      }
      if (rest) {
        const server = rest.server;
        // No new connections; idle keep-alive sockets close now, busy ones after their response.
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      }
      await core.stop();
      await observability.close();
    },
  };
}

async function initialConfig(flags: ServerFlags, log: Log): Promise<ModelServerConfig> {
  const configFile = flags.string("model_config_file");
  if (configFile !== "") return readModelConfigFile(configFile);
  const basePath = flags.string("model_base_path");
  if (basePath !== "") return singleModelServerConfig(flags.string("model_name"), basePath);
  const { basePath: defaultPath, created } = await ensureDefaultModel();
  log(`${created ? "Wrote" : "Serving"} the embedded default model ranking_model at ${defaultPath}`);
  const name = flags.string("model_name") === "default" ? "ranking_model" : flags.string("model_name");
  return singleModelServerConfig(name, defaultPath);
}

/** Applies --traffic_split_file before any port opens; a bad file stops the core and fails the start. */
async function openTrafficSplit(
  flags: ServerFlags,
  core: ServerCore,
  log: Log,
): Promise<TrafficSplitFile | undefined> {
  const path = flags.string("traffic_split_file");
  if (path === "") return undefined;
  try {
    return await TrafficSplitFile.open(path, core, log);
  } catch (error: unknown) {
    await core.stop();
    throw error;
  }
}

/** Re-reads --model_config_file every --model_config_file_poll_wait_seconds; a bad file is logged and ignored. */
function pollConfigFile(flags: ServerFlags, core: ServerCore, log: Log): () => void {
  const path = flags.string("model_config_file");
  const seconds = flags.int("model_config_file_poll_wait_seconds");
  if (path === "" || seconds <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    reloadConfigFile(core, path, log).finally(() => {
      running = false;
    });
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Reloads the config file (SIGHUP, polling); errors are logged, the running config stays. */
export async function reloadConfigFile(core: ServerCore, path: string, log: Log): Promise<void> {
  try {
    await core.reloadConfig(await readModelConfigFile(path));
  } catch (error: unknown) {
    log(`config reload from ${path} failed, keeping the current config: ${ServingError.from(error).message}`);
  }
}
