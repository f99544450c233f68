import { Code, invalidArgument, ServingError } from "../errors.js";
import type { ModelServerConfig } from "../proto/gen/tensorflow_serving/config/model_server_config_pb.js";
import {
  type AspiredVersion,
  FileSystemSource,
  type SourceEvent,
  type SourceModelStatus,
} from "./fs-source.js";
import type { LoadFn, WarmupFn } from "./load-retry.js";
import {
  type ManagerEvents,
  type ServableHandle,
  ServableManager,
  type VersionRequest,
  type VersionStatus,
} from "./manager.js";
import { checkNoPlatformChanges, type ModelConfigEntry, modelConfigEntries } from "./model-config.js";
import { ShadowMirror, type ShadowReport } from "./shadow-traffic.js";
import { checkTrafficSplit, TrafficRouter, type TrafficSplit } from "./traffic-split.js";
import { computeLabelMap, type LabelMap } from "./version-labels.js";
import { type RemoteRepositoryOptions, remoteLister, type VersionLister } from "./version-lister.js";

export interface ServerCoreOptions {
  /** The models to serve: validated entries, or a ModelServerConfig (validated here). Not both. */
  readonly models?: readonly ModelConfigEntry[];
  readonly config?: ModelServerConfig;
  /** Version-dir polling period (default 1; fractions allowed); 0 = poll once; negative = never. */
  readonly fileSystemPollWaitSeconds?: number;
  /** Retries after a failed load (default 5). */
  readonly maxNumLoadRetries?: number;
  /** Wait between load attempts (default 60 000 000 µs); negative = no wait. */
  readonly loadRetryIntervalMicros?: number;
  /** Safe pickup: extra polls a new version dir must stay unchanged in (default 1; see fs-source.ts). */
  readonly stabilityPolls?: number;
  /** Safe pickup: polls before a dir without a model file is loaded anyway (default 30). */
  readonly incompletePolls?: number;
  /** Lets a new label point at a version that is not AVAILABLE yet. */
  readonly allowVersionLabelsForUnavailableModels?: boolean;
  /** `s3://` base paths: endpoint, region, download cache (docs/s3.md). */
  readonly remote?: RemoteRepositoryOptions;
  /** Loads a version directory (default `loadServable`). */
  readonly load?: LoadFn;
  /** Runs while a version is LOADING (warmup); a failure fails the load. */
  readonly warmup?: WarmupFn;
  /** Aborts waiting for the models at startup (the core is then stopped). */
  readonly signal?: AbortSignal;
  /** Listeners subscribed before anything loads (so they see startup too); see `on`. */
  readonly listeners?: { readonly [K in keyof ServerCoreEvents]?: ServerCoreEvents[K] };
}

/** What ServerCore reports to listeners: version state changes, retried loads, source events. */
export interface ServerCoreEvents extends ManagerEvents {
  source: (event: SourceEvent) => void;
}

/**
 * The model server without its network front: config → file-system source → manager. Requests
 * acquire a handle on a version; config reloads follow TF Serving's ServerCore rules.
 *
 * @example
 * const core = await ServerCore.create({ config: await readModelConfigFile("/models/models.config") });
 * const handle = core.acquire("ranking", { label: "stable" });
 * try { await handle.servable.signatures.get("serving_default")!.run(inputs); } finally { handle.release(); }
 * await core.stop();
 */
export class ServerCore {
  private readonly manager: ServableManager;
  private readonly source: FileSystemSource;
  private readonly lister: VersionLister;
  private readonly sourceListeners = new Set<(event: SourceEvent) => void>();
  private readonly pollWaitMs: number;
  private readonly allowUnavailableLabels: boolean;
  private readonly traffic = new TrafficRouter();
  private readonly shadow = new ShadowMirror();
  /** For the traffic router: only AVAILABLE versions get a share. */
  private readonly isAvailable = (model: string, version: bigint): boolean =>
    this.manager.stateOf(model, version) === "AVAILABLE";
  private entries: readonly ModelConfigEntry[] = [];
  /** Models a startup or reload waits for. */
  private readonly awaited = new Set<string>();
  /** Per awaited model: the first non-empty aspired versions the source reported. */
  private readonly firstAspired = new Map<string, readonly bigint[]>();
  /** `${model}/${version}` of awaited models that reached AVAILABLE or END. */
  private readonly settled = new Set<string>();
  private reloading: Promise<unknown> = Promise.resolve();
  private stopped = false;

  private constructor(options: ServerCoreOptions) {
    const micros = options.loadRetryIntervalMicros ?? 60_000_000;
    this.manager = new ServableManager({
      ...(options.load ? { load: options.load } : {}),
      ...(options.warmup ? { warmup: options.warmup } : {}),
      maxNumLoadRetries: options.maxNumLoadRetries ?? 5,
      loadRetryIntervalMs: micros < 0 ? 0 : micros / 1000,
    });
    this.lister = remoteLister(options.remote);
    this.source = new FileSystemSource({
      lister: this.lister,
      onAspiredVersions: (model, versions) => this.aspire(model, versions),
      onEvent: (event) => {
        for (const listener of this.sourceListeners) listener(event);
      },
      ...(options.stabilityPolls === undefined ? {} : { stabilityPolls: options.stabilityPolls }),
      ...(options.incompletePolls === undefined ? {} : { incompletePolls: options.incompletePolls }),
    });
    const seconds = options.fileSystemPollWaitSeconds ?? 1;
    this.pollWaitMs = seconds < 0 ? -1 : seconds * 1000;
    this.allowUnavailableLabels = options.allowVersionLabelsForUnavailableModels ?? false;
    const { state, loadRetry, source } = options.listeners ?? {};
    if (state) this.manager.on("state", state);
    if (loadRetry) this.manager.on("loadRetry", loadRetry);
    if (source) this.sourceListeners.add(source);
    this.manager.on("state", (event) => {
      if (this.awaited.has(event.model) && (event.state === "AVAILABLE" || event.state === "END")) {
        this.settled.add(`${event.model}/${event.version}`);
      }
    });
  }

  /**
   * Validates the config, starts polling, and resolves once every model's first aspired versions
   * have become AVAILABLE or failed (END). Rejects like TF Serving's startup, UNKNOWN
   * `N servable(s) did not become available: {...}`, if some model has no AVAILABLE version, and on a
   * config error (INVALID_ARGUMENT; labels FAILED_PRECONDITION). A model without any version
   * directory is waited for (TF Serving keeps polling), except in poll-once mode, where it fails.
   */
  static async create(options: ServerCoreOptions): Promise<ServerCore> {
    if (options.models && options.config) throw invalidArgument("Pass either models or config, not both");
    const entries = options.models ?? (options.config ? modelConfigEntries(options.config) : []);
    const core = new ServerCore(options);
    try {
      await core.apply(entries, "servable", options.signal, () => core.source.start(core.pollWaitMs));
    } catch (error: unknown) {
      await core.stop();
      throw error;
    }
    return core;
  }

  /**
   * Replaces the config as TF Serving's ReloadConfig: an empty config changes nothing; a
   * custom_model_config, a duplicate name, a relative base path, an unknown platform or a changed
   * platform is INVALID_ARGUMENT; a label rule violation FAILED_PRECONDITION; nothing changes on
   * these errors. Models left out are unloaded; policies and labels apply at once; resolves after
   * the added models have a version AVAILABLE (UNKNOWN `N model(s) did not become available` if not).
   * Reloads run one at a time.
   */
  reloadConfig(config: ModelServerConfig, signal?: AbortSignal): Promise<void> {
    const run = this.reloading.then(async () => {
      if (this.stopped) throw new ServingError(Code.FAILED_PRECONDITION, "The server is stopping");
      if (config.config.case === undefined) return;
      const next = modelConfigEntries(config);
      checkNoPlatformChanges(this.entries, next);
      await this.apply(next, "model", signal, () =>
        this.pollWaitMs === 0 ? this.source.pollUntilSettled() : this.source.poll(),
      );
    });
    this.reloading = run.catch(() => undefined);
    return run;
  }

  /**
   * A handle on the requested version (see ServableManager.acquire for the errors); a request naming
   * no version or label goes where the model's traffic split sends it, and a sampled one may be
   * mirrored to the split's shadow version (see setTrafficSplit).
   */
  acquire(model: string, request: VersionRequest = {}): ServableHandle {
    const split = this.traffic.get().get(model);
    // Most models have no split: nothing to route or mirror.
    if (split === undefined) return this.manager.acquire(model, request);
    const labels = this.manager.labelMap();
    const handle = this.manager.acquire(model, this.traffic.route(model, request, labels, this.isAvailable));
    return this.shadow.mirror(handle, split.shadow, labels, (version) =>
      this.manager.acquire(model, { version }),
    );
  }

  /** What each model's shadow traffic measured (latency, output difference) since startup. */
  shadowReport(): ShadowReport[] {
    return this.shadow.report();
  }

  /**
   * Replaces the traffic split (docs/canary.md); INVALID_ARGUMENT, and nothing changes, when it names
   * a model outside the config or a label the model does not define.
   */
  setTrafficSplit(split: TrafficSplit): void {
    checkTrafficSplit(split, this.entries);
    this.traffic.set(split);
  }

  /** The traffic split in force (empty: every model serves its latest version, as TF Serving). */
  trafficSplit(): TrafficSplit {
    return this.traffic.get();
  }

  /** A model's versions, highest first, END entries included (see ServableManager.status). */
  status(model: string, version?: bigint): VersionStatus[] {
    return this.manager.status(model, version);
  }

  /** Versions currently AVAILABLE, highest first. */
  availableVersions(model: string): bigint[] {
    return this.manager.availableVersions(model);
  }

  /** The models of the current config. */
  models(): readonly ModelConfigEntry[] {
    return this.entries;
  }

  /** The current labels: model → (label → version). */
  labels(): LabelMap {
    return this.manager.labelMap();
  }

  /** What the last poll of a model's base path found: an error (missing base path), pending versions. */
  sourceStatus(model: string): SourceModelStatus | undefined {
    return this.source.status(model);
  }

  /** Subscribes to state changes, retried loads or source events; returns the unsubscribe function. */
  on<K extends keyof ServerCoreEvents>(type: K, listener: ServerCoreEvents[K]): () => void {
    if (type === "source") {
      const sourceListener = listener as ServerCoreEvents["source"];
      this.sourceListeners.add(sourceListener);
      return () => this.sourceListeners.delete(sourceListener);
    }
    return this.manager.on(type as keyof ManagerEvents, listener as ManagerEvents[keyof ManagerEvents]);
  }

  /** Polls every base path now (tests; polls never overlap). */
  pollNow(): Promise<void> {
    return this.source.poll();
  }

  /** Stops polling, waits for in-flight requests and loads, and unloads every version. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.source.stop();
    await this.manager.stop();
    await this.lister.close();
  }

  /** Labels first (as TF Serving), then the source's models, then waits for the new ones. */
  private async apply(
    next: readonly ModelConfigEntry[],
    noun: "servable" | "model",
    signal: AbortSignal | undefined,
    poll: () => Promise<void>,
  ): Promise<void> {
    const labels = computeLabelMap(
      next,
      this.manager.labelMap(),
      (model, version) => this.manager.stateOf(model, version) === "AVAILABLE",
      this.allowUnavailableLabels,
    );
    const known = new Set(this.entries.map((m) => m.name));
    const added = next.filter((m) => !known.has(m.name)).map((m) => m.name);
    for (const model of added) this.awaited.add(model);
    try {
      this.manager.setLabels(labels);
      this.entries = next;
      this.source.setModels(next);
      await poll();
      if (this.pollWaitMs <= 0) {
        const empty = added.filter((model) => !this.firstAspired.has(model));
        if (empty.length > 0) throw this.notAvailable(empty, noun);
      }
      await this.manager.waitUntil(() => added.every((m) => this.outcome(m) !== "pending"), signal);
      const failed = added.filter((m) => this.outcome(m) === "failed");
      if (failed.length > 0) throw this.notAvailable(failed, noun);
    } finally {
      for (const model of added) {
        this.awaited.delete(model);
        this.firstAspired.delete(model);
        for (const key of this.settled) if (key.startsWith(`${model}/`)) this.settled.delete(key);
      }
    }
  }

  private aspire(model: string, versions: readonly AspiredVersion[]): void {
    if (this.awaited.has(model) && versions.length > 0 && !this.firstAspired.has(model)) {
      this.firstAspired.set(
        model,
        versions.map((v) => v.version),
      );
    }
    this.manager.setAspiredVersions(model, versions);
  }

  /** Whether an awaited model is still loading, serves a version, or has failed. */
  private outcome(model: string): "pending" | "available" | "failed" {
    const first = this.firstAspired.get(model);
    if (!first) return "pending";
    if (!first.every((v) => this.settled.has(`${model}/${v}`))) return "pending";
    if (this.manager.availableVersions(model).length > 0) return "available";
    const inFlight = this.manager.status(model).some((s) => s.state === "START" || s.state === "LOADING");
    return inFlight ? "pending" : "failed";
  }

  /** UNKNOWN `N servable(s) did not become available: {{{name: m version: v} due to error: ...}, }`. */
  private notAvailable(models: readonly string[], noun: "servable" | "model"): ServingError {
    const failures: string[] = [];
    for (const model of models) {
      const versions = this.failedVersions(model);
      if (versions.length === 0) {
        const source = this.source.status(model);
        const why = source?.error
          ? `${source.error.codeName}: ${source.error.message}`
          : (source?.warning ?? "");
        failures.push(`{{name: ${model}}${why ? ` due to error: ${why}` : ""}}, `);
      }
      for (const status of versions) {
        const why = status.error ? ` due to error: ${status.error.codeName}: ${status.error.message}` : "";
        failures.push(`{{name: ${model} version: ${status.version}}${why}}, `);
      }
    }
    const count = noun === "servable" ? failures.length : models.length;
    return new ServingError(
      Code.UNKNOWN,
      `${count} ${noun}(s) did not become available: {${failures.join("")}}`,
    );
  }

  private failedVersions(model: string): VersionStatus[] {
    try {
      return this.manager.status(model).filter((s) => s.state === "END" && s.error);
    } catch {
      return [];
    }
  }
}
