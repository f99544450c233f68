// The Grafana dashboard in deploy/ must only query metrics ts-serving exports: every metric name in
// every PromQL expression (panels and template variables) is one the ServingMetrics registry defines.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO_ROOT } from "../../test/fixtures.js";
import { ServingMetrics } from "./metrics.js";

const DASHBOARD = join(REPO_ROOT, "deploy/grafana/ts-serving-dashboard.json");

/** PromQL words that are not metric names. */
const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/**
 * The metric names an expression selects: identifiers outside label matchers, label lists, ranges
 * and strings, that are neither functions (followed by `(`) nor keywords.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names: string[] = [];
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = bare.slice((match.index ?? 0) + match[0].length).trimStart();
    if (after.startsWith("(") || KEYWORDS.has(match[0])) continue;
    names.push(match[0]);
  }
  return names;
}

interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly title?: string;
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly definition?: string }[] };
}

describe("deploy/grafana/ts-serving-dashboard.json", () => {
  it("parses, and every PromQL expression queries metrics ts-serving defines", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as Dashboard;
    const metrics = new ServingMetrics();
    const defined = new Set<string>();
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      defined.add(metric.name);
      if (String(metric.type) === "histogram")
        for (const suffix of ["_bucket", "_sum", "_count"]) defined.add(metric.name + suffix);
    }
    const exprs: { where: string; expr: string }[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) exprs.push({ where: panel.title ?? "?", expr: target.expr });
      }
    }
    for (const variable of dashboard.templating.list) {
      if (variable.definition) exprs.push({ where: `$${variable.name}`, expr: variable.definition });
    }
    assert.ok(exprs.length >= 10);
    const seen = new Set<string>();
    for (const { where, expr } of exprs) {
      const names = metricNamesIn(expr.replace(/^label_values\((.*), \w+\)$/, "$1"));
      assert.ok(names.length > 0, `${where}: no metric in ${expr}`);
      for (const name of names) {
        assert.ok(defined.has(name), `${where}: ${name} is not a ts-serving metric (${expr})`);
        seen.add(name);
      }
    }
    // The panels: QPS, P99, error rate, batch size, versions loaded.
    for (const name of [
      ":tensorflow:serving:request_count",
      ":tensorflow:serving:request_latency_bucket",
      ":tensorflow:serving:batching_session:processed_batch_size_bucket",
      "ts_serving_model_versions_loaded",
    ]) {
      assert.ok(seen.has(name), `the dashboard shows ${name}`);
    }
  });

  it("finds metric names in PromQL (and not functions, labels, or ranges)", () => {
    assert.deepEqual(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, model_name) (rate(:a:b_bucket{x=~"$m"}[5m]))) / 1000',
      ),
      [":a:b_bucket"],
    );
    assert.deepEqual(metricNamesIn("a / ignoring(status) group_left sum by (m) (b)"), ["a", "b"]);
  });
});
