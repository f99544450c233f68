import { readConfigFile } from "../core/config-file.js";
import { invalidArgument } from "../errors.js";
import { MonitoringConfigSchema } from "../proto/gen/tensorflow_serving/config/monitoring_config_pb.js";
import { parseTextProto } from "../proto/text-format.js";

/** TF Serving's default path of the Prometheus endpoint (on the REST port). */
export const DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics";

/**
 * Reads `--monitoring_config_file` (text MonitoringConfig) and returns the path to serve Prometheus
 * metrics at, or undefined when `prometheus_config { enable: true }` is not set. An empty path is TF
 * Serving's default; a path under /v1/ would shadow the model API and is refused.
 *
 * @example
 * // monitoring.config: prometheus_config { enable: true, path: "/metrics" }
 * await prometheusPath("monitoring.config"); // "/metrics"
 */
export async function prometheusPath(file: string): Promise<string | undefined> {
  const text = await readConfigFile(file);
  const prometheus = parseTextProto(MonitoringConfigSchema, text, file).prometheusConfig;
  if (!prometheus?.enable) return undefined;
  const path = prometheus.path === "" ? DEFAULT_PROMETHEUS_PATH : prometheus.path;
  if (!path.startsWith("/"))
    throw invalidArgument(`${file}: prometheus_config.path must start with /: ${path}`);
  if (/^\/v1\//i.test(path))
    throw invalidArgument(`${file}: prometheus_config.path must not be under /v1/: ${path}`);
  return path;
}
