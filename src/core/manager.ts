import { Code, invalidArgument, notFound, ServingError } from "../errors.js";
import { loadServable, type Servable } from "../runtime/servable.js";
import type { AspiredVersion } from "./fs-source.js";
import { type LoadFn, loadWithRetries, RetryControl, type WarmupFn } from "./load-retry.js";
import { type LabelMap, resolveLabel } from "./version-labels.js";
import { descending } from "./version-policy.js";

/** A version's place in its lifecycle (TF Serving's ModelVersionStatus.State); states only move forward. */
export type VersionState = "START" | "LOADING" | "AVAILABLE" | "UNLOADING" | "END";

/** One version in a model's status; `error` is set on END after a failed load. */
export interface VersionStatus {
  readonly version: bigint;
  readonly state: VersionState;
  readonly error?: ServingError;
}

/** A state change, as the manager makes it (listeners run synchronously, in order). */
export interface StateChangeEvent extends VersionStatus {
  readonly model: string;
  readonly dir: string;
  /** performance.now() at the change. */
  readonly timeMs: number;
}

/** A failed load attempt that will be retried. */
export interface LoadRetryEvent {
  readonly model: string;
  readonly version: bigint;
  readonly attempt: number;
  readonly error: ServingError;
}

export interface ManagerEvents {
  state: (event: StateChangeEvent) => void;
  loadRetry: (event: LoadRetryEvent) => void;
}

/** A request's hold on a version: the servable stays loaded until `release()` (idempotent). */
export interface ServableHandle {
  readonly model: string;
  readonly version: bigint;
  readonly servable: Servable;
  release(): void;
}

/** Which version a request wants: a number, a label, or (neither) the latest available. */
export interface VersionRequest {
  readonly version?: bigint | undefined;
  readonly label?: string | undefined;
  /**
   * The request's headers (REST) or metadata (gRPC) by lower-case name: a traffic split's sticky
   * key is read from it when the request names neither version nor label (see traffic-split.ts).
   */
  readonly header?: ((name: string) => string | undefined) | undefined;
}

export interface ManagerOptions {
  /** Loads a version directory (default `loadServable`). */
  readonly load?: LoadFn;
  /** Runs while LOADING, after the load (warmup); a failure fails the load. */
  readonly warmup?: WarmupFn;
  /** Retries after a failed load (default 5). */
  readonly maxNumLoadRetries?: number;
  /** Wait between load attempts (default 60 000 ms). */
  readonly loadRetryIntervalMs?: number;
}

interface VersionRecord {
  readonly model: string;
  readonly version: bigint;
  readonly dir: string;
  state: VersionState;
  error?: ServingError;
  servable?: Servable;
  refs: number;
  drained?: () => void;
  retry?: RetryControl;
}

/** A request's hold on one version record (a class, not a closure: one is made per request). */
class VersionHandle implements ServableHandle {
  private released = false;

  constructor(
    readonly model: string,
    readonly version: bigint,
    readonly servable: Servable,
    private readonly record: VersionRecord,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.record.refs--;
    if (this.record.refs === 0) this.record.drained?.();
  }
}

interface ModelRecord {
  /** What the source wants served: version → directory. */
  aspired: Map<bigint, string>;
  /** Versions being managed (not END, or END after a failed load while still aspired). */
  readonly live: Map<bigint, VersionRecord>;
  /** Last status of every version ever seen (the state monitor: END entries are never pruned). */
  readonly history: Map<bigint, VersionStatus>;
  /** AVAILABLE versions, highest first: what requests are routed to. */
  serving: VersionRecord[];
  loading: boolean;
}

/**
 * Loads, serves and unloads model versions (TF Serving's AspiredVersionsManager with the
 * availability-preserving policy). Per model, one load at a time, highest new version first; a
 * version no longer aspired is unloaded only once an aspired version is AVAILABLE (or none is
 * aspired at all, or more than one unaspired version is AVAILABLE), so traffic never finds the
 * model without a version during a roll. Unloading waits for in-flight handles, then closes.
 *
 * @example
 * const manager = new ServableManager({ maxNumLoadRetries: 0 });
 * manager.setAspiredVersions("ranking", [{ version: 2n, dir: "/models/ranking/2" }]);
 * const handle = manager.acquire("ranking", {}); // NOT_FOUND until version 2 is AVAILABLE
 * try { await handle.servable.signatures.get("serving_default")!.run(inputs); } finally { handle.release(); }
 */
export class ServableManager {
  private readonly models = new Map<string, ModelRecord>();
  private readonly listeners: { [K in keyof ManagerEvents]: Set<ManagerEvents[K]> } = {
    state: new Set(),
    loadRetry: new Set(),
  };
  private readonly tasks = new Set<Promise<void>>();
  private readonly load: LoadFn;
  private readonly warmup: WarmupFn | undefined;
  private readonly maxNumLoadRetries: number;
  private readonly loadRetryIntervalMs: number;
  private labels: LabelMap = new Map();
  private stopping = false;

  constructor(options: ManagerOptions = {}) {
    this.load = options.load ?? ((dir) => loadServable(dir));
    this.warmup = options.warmup;
    this.maxNumLoadRetries = Math.max(0, Math.trunc(options.maxNumLoadRetries ?? 5));
    this.loadRetryIntervalMs = Math.max(0, options.loadRetryIntervalMs ?? 60_000);
  }

  /** Subscribes to state changes or retried loads; returns the unsubscribe function. */
  on<K extends keyof ManagerEvents>(type: K, listener: ManagerEvents[K]): () => void {
    const set = this.listeners[type] as Set<ManagerEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * The versions the source wants served for `model` (replacing the previous list; empty = unload all).
   * New versions start loading, dropped ones are unloaded as the availability-preserving policy allows.
   */
  setAspiredVersions(model: string, versions: readonly AspiredVersion[]): void {
    if (this.stopping && versions.length > 0) return;
    const record = this.models.get(model) ?? this.addModel(model);
    record.aspired = new Map(versions.map((v) => [v.version, v.dir]));
    this.reconcile(model, record);
  }

  /** Replaces every model's labels (validate with computeLabelMap first). */
  setLabels(labels: LabelMap): void {
    this.labels = labels;
  }

  labelMap(): LabelMap {
    return this.labels;
  }

  /**
   * A handle on the version a request asks for, counted until released. Errors as TF Serving's:
   * NOT_FOUND `Servable not found for request: Specific(<m>, <v>)` / `Latest(<m>)` when that version
   * (or any version) is not AVAILABLE; INVALID_ARGUMENT `Unrecognized servable version label: <l>`.
   */
  acquire(model: string, request: VersionRequest = {}): ServableHandle {
    if (request.version !== undefined && request.label !== undefined) {
      throw invalidArgument("A request may name a version or a version label, not both");
    }
    const version =
      request.label !== undefined ? resolveLabel(this.labels, model, request.label) : request.version;
    const serving = this.models.get(model)?.serving;
    const record =
      version === undefined ? serving?.[0] : serving?.find((candidate) => candidate.version === version);
    if (!record?.servable) {
      throw notFound(
        `Servable not found for request: ${version === undefined ? `Latest(${model})` : `Specific(${model}, ${version})`}`,
      );
    }
    record.refs++;
    return new VersionHandle(model, record.version, record.servable, record);
  }

  /**
   * A model's versions, highest first, each with its last state (END entries included). NOT_FOUND
   * `Could not find any versions of model <m>` / `Could not find version <v> of model <m>`, as
   * TF Serving's GetModelStatus.
   */
  status(model: string, version?: bigint): VersionStatus[] {
    const history = this.models.get(model)?.history;
    if (!history || history.size === 0) throw notFound(`Could not find any versions of model ${model}`);
    if (version !== undefined) {
      const status = history.get(version);
      if (!status) throw notFound(`Could not find version ${version} of model ${model}`);
      return [status];
    }
    return [...history.values()].sort((a, b) => descending(a.version, b.version));
  }

  /** The state of one version, or undefined if the manager never saw it. */
  stateOf(model: string, version: bigint): VersionState | undefined {
    return this.models.get(model)?.history.get(version)?.state;
  }

  /** AVAILABLE versions of a model, highest first. */
  availableVersions(model: string): bigint[] {
    return (this.models.get(model)?.serving ?? []).map((r) => r.version);
  }

  /** Models the manager has seen, in the order first seen. */
  modelNames(): string[] {
    return [...this.models.keys()];
  }

  /**
   * Resolves once `done()` holds, checked now and after every state change; rejects on `signal`.
   */
  waitUntil(done: () => boolean, signal?: AbortSignal): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: unknown): void => {
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onAbort = (): void => finish(ServingError.from(signal?.reason ?? "aborted", Code.CANCELLED));
      const unsubscribe = this.on("state", () => {
        if (done()) finish();
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Unloads every version (waiting for in-flight handles and loads) and refuses new versions. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const [model, record] of this.models) {
      record.aspired = new Map();
      this.reconcile(model, record);
    }
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  private addModel(model: string): ModelRecord {
    const record: ModelRecord = {
      aspired: new Map(),
      live: new Map(),
      history: new Map(),
      serving: [],
      loading: false,
    };
    this.models.set(model, record);
    return record;
  }

  /** Applies the availability-preserving policy: start what may start now, given the current states. */
  private reconcile(model: string, m: ModelRecord): void {
    for (const [version, dir] of m.aspired) {
      if (!m.live.has(version)) {
        const record: VersionRecord = { model, version, dir, state: "START", refs: 0 };
        m.live.set(version, record);
        this.setState(m, record, "START");
      }
    }
    for (const record of m.live.values()) {
      if (m.aspired.has(record.version)) continue;
      if (record.state === "START") {
        m.live.delete(record.version);
        this.setState(m, record, "END");
      } else if (record.state === "END") {
        m.live.delete(record.version);
      } else if (record.state === "LOADING") {
        record.retry?.cancel();
      }
    }

    const live = [...m.live.values()];
    const aspired = live.filter((r) => m.aspired.has(r.version));
    const unaspiredAvailable = live
      .filter((r) => !m.aspired.has(r.version) && r.state === "AVAILABLE")
      .sort((a, b) => descending(a.version, b.version));
    const aspiredAvailable = aspired.some((r) => r.state === "AVAILABLE");
    // Keep the highest unaspired version while nothing aspired serves yet (availability first).
    const toUnload =
      aspired.length === 0 || aspiredAvailable ? unaspiredAvailable : unaspiredAvailable.slice(1);
    for (const record of toUnload) this.track(this.unload(m, record));

    if (!m.loading) {
      const next = aspired
        .filter((r) => r.state === "START")
        .sort((a, b) => descending(a.version, b.version))[0];
      if (next) this.track(this.loadVersion(m, next));
    }
  }

  private async loadVersion(m: ModelRecord, record: VersionRecord): Promise<void> {
    m.loading = true;
    record.retry = new RetryControl();
    if (this.stopping) record.retry.cancel();
    this.setState(m, record, "LOADING");
    try {
      record.servable = await loadWithRetries(
        record.dir,
        { model: record.model, version: record.version },
        {
          load: this.load,
          warmup: this.warmup,
          maxNumLoadRetries: this.maxNumLoadRetries,
          loadRetryIntervalMs: this.loadRetryIntervalMs,
        },
        record.retry,
        (attempt, error) =>
          this.emit("loadRetry", { model: record.model, version: record.version, attempt, error }),
      );
      record.retry = undefined;
      this.setState(m, record, "AVAILABLE");
    } catch (error: unknown) {
      record.retry = undefined;
      record.error = ServingError.from(error);
      if (!m.aspired.has(record.version)) m.live.delete(record.version);
      this.setState(m, record, "END");
    } finally {
      m.loading = false;
    }
    this.reconcile(record.model, m);
  }

  private async unload(m: ModelRecord, record: VersionRecord): Promise<void> {
    this.setState(m, record, "UNLOADING");
    if (record.refs > 0) await new Promise<void>((resolve) => (record.drained = resolve));
    try {
      await record.servable?.close();
    } catch {
      // The version is gone either way; a failed close leaves nothing to serve.
    }
    record.servable = undefined;
    m.live.delete(record.version);
    this.setState(m, record, "END");
    this.reconcile(record.model, m);
  }

  private setState(m: ModelRecord, record: VersionRecord, state: VersionState): void {
    record.state = state;
    const error = state === "END" ? record.error : undefined;
    const status: VersionStatus = { version: record.version, state, ...(error ? { error } : {}) };
    m.history.set(record.version, status);
    m.serving = [...m.live.values()]
      .filter((r) => r.state === "AVAILABLE")
      .sort((a, b) => descending(a.version, b.version));
    this.emit("state", { ...status, model: record.model, dir: record.dir, timeMs: performance.now() });
  }

  private emit<K extends keyof ManagerEvents>(type: K, event: Parameters<ManagerEvents[K]>[0]): void {
    for (const listener of this.listeners[type]) {
      try {
        (listener as (e: typeof event) => void)(event);
      } catch {
        // A failing listener (a log sink) must not break the lifecycle.
      }
    }
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    const done = (): void => {
      this.tasks.delete(task);
    };
    task.then(done, done);
  }
}
