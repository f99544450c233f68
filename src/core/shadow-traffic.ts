// Shadow traffic: a sampled share of a model's requests is run a second time, on a candidate
// version, after the real answer is computed; the copy's answer is discarded and only its latency
// and its difference from the real answer are kept, to judge a version before it gets traffic.

import type { Servable } from "../runtime/servable.js";
import type { RunOptions, SignatureRunner } from "../runtime/signature-runner.js";
import type { Tensor } from "../tensor/tensor.js";
import type { ServableHandle } from "./manager.js";
import type { SplitTarget } from "./traffic-split.js";
import type { LabelMap } from "./version-labels.js";

/** A model's shadow: `percent` of its requests are mirrored to `target`. */
export interface ShadowConfig {
  readonly key: string;
  readonly target: SplitTarget;
  /** 0 < percent ≤ 100. */
  readonly percent: number;
}

/** What the mirrored runs of one model measured so far. */
export interface ShadowReport {
  readonly model: string;
  /** The shadow target as the split file names it. */
  readonly target: string;
  /** Mirrored runs that completed and were compared. */
  readonly compared: number;
  /** Mirrored runs that failed (the real request was not affected). */
  readonly failures: number;
  /** Sampled requests not mirrored: too many shadow runs in flight, or the target not AVAILABLE. */
  readonly skipped: number;
  /** Sum of the real runs' and of the shadow runs' latency over the compared runs, ms. */
  readonly primaryMsTotal: number;
  readonly shadowMsTotal: number;
  /** Largest absolute difference of any numeric output element seen. */
  readonly maxAbsDiff: number;
  /** Compared runs whose outputs differed at all (values, shapes, dtypes or missing outputs). */
  readonly differing: number;
  readonly lastError?: string;
}

type Stats = { -readonly [K in keyof ShadowReport]: ShadowReport[K] } & { inFlight: number };

/**
 * Mirrors sampled requests to each model's shadow target (see ServerCore.acquire). The real request
 * never waits for its copy: the copy starts after the real run resolved, on its own handle, and at
 * most `maxInFlight` copies per model run at once (more are skipped, so shadowing cannot pile up).
 *
 * @example
 * const mirror = new ShadowMirror();
 * const handle = mirror.mirror(manager.acquire("ranking", {}), shadow, labels, (v) => manager.acquire("ranking", { version: v }));
 * mirror.report(); // [{ model: "ranking", target: "3", compared: 12, maxAbsDiff: 0.004, ... }]
 */
export class ShadowMirror {
  private readonly stats = new Map<string, Stats>();

  constructor(
    private readonly random: () => number = Math.random,
    private readonly maxInFlight = 4,
  ) {}

  /** `handle`, or for a sampled request a handle whose signature runs are mirrored. */
  mirror(
    handle: ServableHandle,
    shadow: ShadowConfig | undefined,
    labels: LabelMap,
    acquire: (version: bigint) => ServableHandle,
  ): ServableHandle {
    if (!shadow) return handle;
    const version =
      "version" in shadow.target ? shadow.target.version : labels.get(handle.model)?.get(shadow.target.label);
    if (version === handle.version || this.random() * 100 >= shadow.percent) return handle;
    const stats = this.statsFor(handle.model, shadow.key);
    const mirrored = (runner: SignatureRunner): SignatureRunner => ({
      key: runner.key,
      def: runner.def,
      run: async (inputs, options) => {
        const start = performance.now();
        const outputs = await runner.run(inputs, options);
        const primaryMs = performance.now() - start;
        if (version === undefined) stats.skipped++;
        else this.runCopy(stats, () => acquire(version), runner.key, inputs, options, outputs, primaryMs);
        return outputs;
      },
    });
    const signatures = new Map([...handle.servable.signatures].map(([key, r]) => [key, mirrored(r)]));
    return {
      model: handle.model,
      version: handle.version,
      servable: withSignatures(handle.servable, signatures),
      release: () => handle.release(),
    };
  }

  /** Per model with a shadow: what its copies measured. */
  report(): ShadowReport[] {
    return [...this.stats.values()].map(({ inFlight: _, ...report }) => ({ ...report }));
  }

  private runCopy(
    stats: Stats,
    acquire: () => ServableHandle,
    signature: string,
    inputs: ReadonlyMap<string, Tensor>,
    options: RunOptions | undefined,
    primary: ReadonlyMap<string, Tensor>,
    primaryMs: number,
  ): void {
    if (stats.inFlight >= this.maxInFlight) {
      stats.skipped++;
      return;
    }
    let handle: ServableHandle;
    try {
      handle = acquire();
    } catch {
      stats.skipped++;
      return;
    }
    const runner = handle.servable.signatures.get(signature);
    if (!runner) {
      handle.release();
      stats.failures++;
      stats.lastError = `the shadow version has no signature ${signature}`;
      return;
    }
    stats.inFlight++;
    const start = performance.now();
    // No abort signal: the copy is the server's own work, not the client's.
    const filter = options?.outputFilter ? { outputFilter: options.outputFilter } : {};
    runner
      .run(inputs, filter)
      .then(
        (outputs) => {
          const diff = outputDifference(primary, outputs);
          stats.compared++;
          stats.primaryMsTotal += primaryMs;
          stats.shadowMsTotal += performance.now() - start;
          stats.maxAbsDiff = Math.max(stats.maxAbsDiff, diff.maxAbsDiff);
          if (diff.differs) stats.differing++;
        },
        (error: unknown) => {
          stats.failures++;
          stats.lastError = error instanceof Error ? error.message : String(error);
        },
      )
      .finally(() => {
        stats.inFlight--;
        handle.release();
      });
  }

  private statsFor(model: string, target: string): Stats {
    let stats = this.stats.get(model);
    if (!stats || stats.target !== target) {
      stats = {
        model,
        target,
        compared: 0,
        failures: 0,
        skipped: 0,
        primaryMsTotal: 0,
        shadowMsTotal: 0,
        maxAbsDiff: 0,
        differing: 0,
        inFlight: 0,
      };
      this.stats.set(model, stats);
    }
    return stats;
  }
}

/**
 * How two runs' outputs differ: the largest absolute difference of numeric elements (NaN where one
 * is NaN and the other not counts as Infinity), and whether anything differs at all.
 *
 * @example
 * outputDifference(new Map([["y", a]]), new Map([["y", b]])); // { maxAbsDiff: 0.5, differs: true }
 */
export function outputDifference(
  primary: ReadonlyMap<string, Tensor>,
  shadow: ReadonlyMap<string, Tensor>,
): { maxAbsDiff: number; differs: boolean } {
  let maxAbsDiff = 0;
  let differs = primary.size !== shadow.size;
  for (const [name, a] of primary) {
    const b = shadow.get(name);
    if (!b || a.dtype !== b.dtype || a.shape.join() !== b.shape.join() || a.data.length !== b.data.length) {
      differs = true;
      continue;
    }
    if (Array.isArray(a.data) || Array.isArray(b.data)) {
      const bs = b.data as Uint8Array[];
      if ((a.data as Uint8Array[]).some((bytes, i) => Buffer.compare(bytes, bs[i]!) !== 0)) differs = true;
      continue;
    }
    for (let i = 0; i < a.data.length; i++) {
      const x = Number(a.data[i]);
      const y = Number(b.data[i]);
      if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
      differs = true;
      const d = Number.isNaN(x) || Number.isNaN(y) ? Number.POSITIVE_INFINITY : Math.abs(x - y);
      if (d > maxAbsDiff) maxAbsDiff = d;
    }
  }
  return { maxAbsDiff, differs };
}

/** The servable with other signature runners; everything else (metadata, close) is the original's. */
function withSignatures(servable: Servable, signatures: ReadonlyMap<string, SignatureRunner>): Servable {
  return new Proxy(servable, {
    get(target, property) {
      if (property === "signatures") return signatures;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
