// Shared helpers of the REST conformance suites: a real server (ServerCore + startRestServer) on
// 127.0.0.1, models linked from the fixtures, a lossless parser for TF Serving's JSON (NaN/Infinity
// tokens, int64 beyond 2^53), and the real CLI as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { type RestOptions, startRestServer } from "../../src/api/tfs-rest/server.js";
import { parseTfJson, type TfJson } from "../../src/client/tf-json.js";
import { ServerCore, type ServerCoreOptions } from "../../src/core/server-core.js";
import { attr, GraphBuilder } from "../../src/export/graph-builder.js";
import { savedModelFromGraph } from "../../src/export/signature-model.js";
import { ModelServerConfigSchema } from "../../src/proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import { parseTextProto } from "../../src/proto/text-format.js";
import { loadServable, type Servable } from "../../src/runtime/servable.js";
import { writeSavedModel } from "../../src/savedmodel/saved-model-writer.js";
import { DataType } from "../../src/tensor/dtype.js";
import { REPO_ROOT } from "../fixtures.js";

// ---------------------------------------------------------------------------------------------
// TF Serving's JSON, read without loss
// ---------------------------------------------------------------------------------------------

// The REST client's parser: standard JSON plus the bare tokens `NaN`, `Infinity`, `-Infinity`; an
// integer that a double cannot hold exactly becomes a bigint (so int64 values compare exactly).
export { parseTfJson, type TfJson };

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body through parseTfJson (throws if it is not JSON). */
  json(): TfJson;
}

/** One real HTTP request with node's fetch; a string or object body is sent as is / as JSON. */
export async function http(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const { method, body, headers } = init;
  const payload =
    body === undefined || typeof body === "string" || body instanceof Uint8Array
      ? body
      : JSON.stringify(body);
  const response = await fetch(`${base}${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    ...(payload === undefined ? {} : { body: payload as string | Uint8Array }),
    ...(headers ? { headers } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => parseTfJson(text) };
}

/** POST `body` (JSON-encoded unless a string) to `path`. */
export const post = (base: string, path: string, body: unknown, headers?: Record<string, string>) =>
  http(base, path, { method: "POST", body, ...(headers ? { headers } : {}) });

/** The `error` text of a TF Serving error body. */
export function errorText(reply: Reply): string {
  const body = reply.json();
  if (body === null || typeof body !== "object" || Array.isArray(body) || typeof body.error !== "string") {
    throw new Error(`not an error body (${reply.status}): ${reply.text}`);
  }
  return body.error;
}

// ---------------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------------

/** A running REST server on 127.0.0.1 (port 0 → the bound port). */
export interface RestServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  close(): Promise<void>;
}

export async function startRest(options: Omit<RestOptions, "port">): Promise<RestServer> {
  const { server, port } = await startRestServer({ ...options, port: 0, host: "127.0.0.1" });
  return {
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A ServerCore for tests: poll once, no stability wait, no retries, labels allowed at startup. */
export function startCore(
  options: Omit<ServerCoreOptions, "config"> & { config: string },
): Promise<ServerCore> {
  return ServerCore.create({
    fileSystemPollWaitSeconds: 0,
    stabilityPolls: 0,
    maxNumLoadRetries: 0,
    allowVersionLabelsForUnavailableModels: true,
    ...options,
    config: parseConfig(options.config),
  });
}

/** A ModelServerConfig from its text format (for reloadConfig). */
export const parseConfig = (text: string) => parseTextProto(ModelServerConfigSchema, text);

/** One `config { ... }` entry of a ModelServerConfig text; `extra` goes inside it verbatim. */
export const modelEntry = (name: string, basePath: string, extra = ""): string =>
  `config { name: ${JSON.stringify(name)} base_path: ${JSON.stringify(basePath)} model_platform: "tensorflow" ${extra} }`;

export const configText = (...entries: string[]): string => `model_config_list { ${entries.join(" ")} }`;

/** Makes `<root>/<name>/<version>` a link to a model version directory; returns the base path. */
export async function linkModel(
  root: string,
  name: string,
  versionDir: string,
  version = "1",
): Promise<string> {
  const base = join(root, name);
  await mkdir(base, { recursive: true });
  await symlink(versionDir, join(base, version), "dir");
  return base;
}

/**
 * Writes a SavedModel with one DT_STRING input `text` [-1] and two outputs that are Identity of it:
 * `text_bytes` (TF Serving writes it as {"b64": ...}) and `text_out` (written as a raw string).
 */
export async function writeStringModel(dir: string): Promise<void> {
  const g = new GraphBuilder();
  const text = g.placeholder("text", DataType.DT_STRING, [-1]);
  g.op("Identity", "text_bytes", [text], { T: attr.type(DataType.DT_STRING) });
  g.op("Identity", "text_out", [text], { T: attr.type(DataType.DT_STRING) });
  const text1d = { dtype: DataType.DT_STRING, shape: [-1] };
  const savedModel = savedModelFromGraph(g.build(), {
    serving_default: { inputs: { text: text1d }, outputs: { text_bytes: text1d, text_out: text1d } },
  });
  await writeSavedModel(dir, { savedModel });
}

/** A promise with its resolve function (a gate a test opens). */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The servable with every signature run delayed by `ms` (a slow model, for deadlines and unloading).
 * `hooks.onRun` is called as a run starts (the request holds its version handle by then);
 * `hooks.until` holds every run until it resolves, on top of the delay.
 */
export function slowServable(
  servable: Servable,
  ms: number,
  hooks: { onRun?: () => void; until?: Promise<void> } = {},
): Servable {
  const signatures = new Map(
    [...servable.signatures].map(([key, runner]) => [
      key,
      {
        key: runner.key,
        def: runner.def,
        run: async (...args: Parameters<typeof runner.run>) => {
          hooks.onRun?.();
          await sleep(ms);
          await hooks.until;
          return runner.run(...args);
        },
      },
    ]),
  );
  // Servables are plain objects: everything else (metadata, close) stays the model's own.
  return { ...servable, signatures };
}

/** `loadServable`, except that directories matching `slow` get slowServable(ms). */
export const loadWithSlow =
  (slow: RegExp, ms: number) =>
  async (dir: string): Promise<Servable> => {
    const servable = await loadServable(dir);
    return slow.test(dir) ? slowServable(servable, ms) : servable;
  };

// ---------------------------------------------------------------------------------------------
// The real CLI
// ---------------------------------------------------------------------------------------------

/** A port nothing listens on right now (bound and released; the CLI needs a number, 0 means off). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

export interface CliServer {
  readonly child: ChildProcess;
  readonly base: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `node --import tsx src/cli/main.ts <args> --rest_api_port=<free>` and waits for its ready line. */
export async function startCli(args: readonly string[], timeoutMs = 20_000): Promise<CliServer> {
  const restPort = await freePort();
  const grpcPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(REPO_ROOT, "src/cli/main.ts"),
      `--rest_api_port=${restPort}`,
      `--port=${grpcPort}`,
      ...args,
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`CLI not ready after ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ts-serving ready: .* on https?:\/\/localhost:\d+/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    child,
    base: `http://127.0.0.1:${restPort}`,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
