// Counter and histogram families for the per-request metrics. prom-client's Counter and Histogram
// hash their label object and allocate on every inc/observe; here a caller keeps a series handle per
// label combination, and an update is a few arithmetic operations. The families plug into a
// prom-client Registry through its collector interface (`get()`), so the exposition is prom-client's.
import type { Registry } from "prom-client";

/** One sample as prom-client's registry prints it. */
interface SampleValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

/** What prom-client's Registry reads from a metric (`registerMetric` / `metrics()`). */
interface CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly values: SampleValue[];
  readonly aggregator: "sum";
}

abstract class Family<L extends string, S> {
  protected readonly all = new Map<string, { labels: Readonly<Record<L, string>>; series: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    // prom-client's registry only calls get(), reset() and reads name; the cast is that interface.
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  /** The series of one label combination (created at first use; keep it for the hot path). */
  series(labels: Readonly<Record<L, string>>): S {
    const key = this.labelNames.map((name) => labels[name]).join("\u0000");
    let entry = this.all.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, series: this.create() };
      this.all.set(key, entry);
    }
    return entry.series;
  }

  reset(): void {
    this.all.clear();
  }

  protected abstract create(): S;
}

/** A monotonically increasing count. */
export class CounterSeries {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/**
 * A counter family.
 *
 * @example
 * const requests = new CounterFamily("requests", "Requests.", ["status"], registry);
 * const ok = requests.series({ status: "OK" });
 * ok.inc();
 */
export class CounterFamily<L extends string> extends Family<L, CounterSeries> {
  protected create(): CounterSeries {
    return new CounterSeries();
  }

  async get(): Promise<CollectedMetric> {
    const values = [...this.all.values()].map(({ labels, series }) => ({ value: series.value, labels }));
    return { name: this.name, help: this.help, type: "counter", values, aggregator: "sum" };
  }
}

/** Observations of one label combination: per-bucket counts (not cumulative), sum and count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram family with fixed upper bounds (plus +Inf).
 *
 * @example
 * const latency = new HistogramFamily("latency", "µs.", ["model"], [10, 100, 1000], registry);
 * latency.series({ model: "m" }).observe(42);
 */
export class HistogramFamily<L extends string> extends Family<L, HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected create(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  async get(): Promise<CollectedMetric> {
    const values: SampleValue[] = [];
    for (const { labels, series } of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i] ?? 0;
        const le = i < this.bounds.length ? (this.bounds[i] as number) : "+Inf";
        values.push({ value: cumulative, labels: { ...labels, le }, metricName: `${this.name}_bucket` });
      }
      values.push({ value: series.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: "histogram", values, aggregator: "sum" };
  }
}
