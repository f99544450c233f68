// Validates deploy/k8s and deploy/kserve offline: every YAML document parses and names its apiVersion,
// kind and name; the objects agree with each other (selectors and labels, ports and probes, the
// metrics path, the Secret, the image tag); container args parse with the real ts-serving flag table;
// and, when kubectl is installed, `kubectl kustomize deploy/k8s` builds the kustomization. Each
// object's schema (the Kubernetes OpenAPI one, via kubernetes-models) is checked in schema.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import type { ServerFlags } from "../../src/cli/server-flags.js";
import { MonitoringConfigSchema } from "../../src/proto/gen/tensorflow_serving/config/monitoring_config_pb.js";
import { parseTextProto } from "../../src/proto/text-format.js";
import { REPO_ROOT } from "../fixtures.js";
import { parseDockerfile } from "./dockerfile-parser.js";
import { parseServerArgs } from "./server-args.js";
import { yamlDocuments } from "./yaml-documents.js";

// ---------------------------------------------------------------------------------------------
// The objects, typed as far as the checks read them
// ---------------------------------------------------------------------------------------------

type Labels = Record<string, string>;
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels; annotations?: Labels };
  file: string;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  grpc?: { port: number; service?: string };
  failureThreshold?: number;
  periodSeconds?: number;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Labels; limits?: Labels };
  securityContext?: {
    runAsUser?: number;
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Deployment extends Manifest {
  spec: {
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels };
      spec: {
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string }; emptyDir?: object }[];
      };
    };
  };
}
interface Service extends Manifest {
  spec: { selector: Labels; ports: { name: string; port: number; targetPort: string | number }[] };
}
interface ServiceMonitor extends Manifest {
  spec: { selector: { matchLabels: Labels }; endpoints: { port: string; path: string }[] };
}
interface Hpa extends Manifest {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: { type: string; resource?: { name: string; target: { type: string } } }[];
  };
}
interface Pdb extends Manifest {
  spec: { selector: { matchLabels: Labels } };
}
interface ConfigMap extends Manifest {
  data: Record<string, string>;
}
interface Secret extends Manifest {
  stringData: Record<string, string>;
}
interface Kustomization extends Manifest {
  resources: string[];
  images?: { name: string; newTag?: string }[];
}
interface ServingRuntime extends Manifest {
  spec: {
    annotations?: Labels;
    supportedModelFormats: { name: string; version?: string; autoSelect?: boolean }[];
    protocolVersions?: string[];
    containers: Container[];
  };
}
interface InferenceService extends Manifest {
  spec: { predictor: { model: { modelFormat: { name: string }; runtime?: string; storageUri: string } } };
}

/** The apiVersion each kind must use (the current, non-deprecated one). */
const API_VERSIONS: Record<string, string> = {
  ConfigMap: "v1",
  Secret: "v1",
  Service: "v1",
  Deployment: "apps/v1",
  HorizontalPodAutoscaler: "autoscaling/v2",
  PodDisruptionBudget: "policy/v1",
  ServiceMonitor: "monitoring.coreos.com/v1",
  Kustomization: "kustomize.config.k8s.io/v1beta1",
  ServingRuntime: "serving.kserve.io/v1alpha1",
  InferenceService: "serving.kserve.io/v1beta1",
};
const DEFAULT_METRICS_PATH = "/monitoring/prometheus/metrics";
const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const K8S_DIR = join(REPO_ROOT, "deploy/k8s");
const KSERVE_DIR = join(REPO_ROOT, "deploy/kserve");

function load(dir: string): Manifest[] {
  return yamlDocuments(dir).map(({ file, value }) => ({ ...(value as unknown as Manifest), file }));
}

const manifests = [...load(K8S_DIR), ...load(KSERVE_DIR)];
function only<T extends Manifest>(kind: string, dir = K8S_DIR): T {
  const found = manifests.filter((m) => m.kind === kind && readdirSync(dir).includes(m.file));
  assert.equal(found.length, 1, `one ${kind} in ${dir}`);
  return found[0] as T;
}
const subset = (selector: Labels, labels: Labels | undefined): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The container's args, read with the real flag table (an unknown flag throws). */
function flagsOf(container: Container): ServerFlags {
  assert.deepEqual(container.command, ["ts-serving"]);
  return parseServerArgs(container.args ?? []);
}
const containerPort = (container: Container, port: string | number): number | undefined =>
  typeof port === "number" ? port : container.ports?.find((p) => p.name === port)?.containerPort;

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };

// ---------------------------------------------------------------------------------------------

describe("deploy/ manifests", () => {
  it("parse, and each document names a known kind at its current apiVersion, and a DNS-1123 name", () => {
    assert.ok(manifests.length >= 9, `found ${manifests.length} documents`);
    for (const m of manifests) {
      assert.equal(m.apiVersion, API_VERSIONS[m.kind], `${m.file}: ${m.kind} at ${m.apiVersion}`);
      if (m.kind === "Kustomization") continue;
      assert.match(m.metadata?.name ?? "", DNS_1123, `${m.file}: metadata.name`);
    }
  });

  it("kustomization.yaml lists every manifest of deploy/k8s except the examples, pinned to this version", () => {
    const kustomization = only<Kustomization>("Kustomization");
    const files = readdirSync(K8S_DIR).filter(
      (f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && !f.includes(".example."),
    );
    assert.deepEqual([...kustomization.resources].sort(), files.sort());
    assert.deepEqual(kustomization.images, [{ name: "ts-serving", newTag: pkg.version }]);
  });

  it("Deployment: TF Serving's ports, S3 model repository, probes on the status endpoints, non-root", () => {
    const deployment = only<Deployment>("Deployment");
    const pod = deployment.spec.template;
    assert.ok(
      subset(deployment.spec.selector.matchLabels, pod.metadata.labels),
      "selector matches the pod labels",
    );
    const [container] = pod.spec.containers;
    assert.ok(container);
    assert.match(container.image, /^ts-serving:\d+\.\d+\.\d+$/, "a pinned tag, never latest");

    const flags = flagsOf(container);
    assert.equal(flags.int("port"), 8500);
    assert.equal(flags.int("rest_api_port"), 8501);
    assert.equal(containerPort(container, "grpc"), flags.int("port"));
    assert.equal(containerPort(container, "http"), flags.int("rest_api_port"));
    const model = flags.string("model_name");
    assert.match(flags.string("model_base_path"), new RegExp(`^s3://[^/]+/.+/${model}$`));

    // Probes: the model's REST status, and gRPC health on the gRPC port.
    for (const probe of [container.startupProbe, container.readinessProbe]) {
      assert.equal(probe?.httpGet?.path, `/v1/models/${model}`);
      assert.equal(containerPort(container, probe?.httpGet?.port ?? ""), flags.int("rest_api_port"));
    }
    assert.equal(container.livenessProbe?.grpc?.port, flags.int("port"));
    const startup = container.startupProbe;
    assert.ok(
      (startup?.failureThreshold ?? 0) * (startup?.periodSeconds ?? 0) >= 120,
      "time for the first load",
    );

    // Credentials from the Secret the example defines, keys included; the SDK reads AWS_* itself.
    const secret = only<Secret>("Secret");
    const fromSecret = (container.env ?? []).filter((e) => e.valueFrom?.secretKeyRef);
    assert.deepEqual(fromSecret.map((e) => e.name).sort(), ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    for (const e of fromSecret) {
      assert.equal(e.valueFrom?.secretKeyRef?.name, secret.metadata.name);
      assert.ok((e.valueFrom?.secretKeyRef?.key ?? "") in secret.stringData);
    }
    assert.ok(container.env?.some((e) => e.name === "AWS_REGION" && e.value));

    // The monitoring config file comes from the ConfigMap, mounted where the flag points.
    const configFile = flags.string("monitoring_config_file");
    const mount = container.volumeMounts?.find((v) => configFile.startsWith(`${v.mountPath}/`));
    const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
    const configMap = only<ConfigMap>("ConfigMap");
    assert.equal(volume?.configMap?.name, configMap.metadata.name);
    assert.ok(configFile.slice((mount?.mountPath.length ?? 0) + 1) in configMap.data);

    // Resources (the HPA needs a CPU request) and a locked-down, non-root container.
    assert.ok(container.resources?.requests?.cpu && container.resources.requests.memory);
    assert.ok(container.resources?.limits?.memory);
    assert.equal(pod.spec.securityContext?.runAsNonRoot, true);
    assert.notEqual(pod.spec.securityContext?.runAsUser, 0);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext?.capabilities?.drop, ["ALL"]);
    if (container.securityContext?.readOnlyRootFilesystem) {
      // S3 versions are downloaded to --model_cache_dir: it and /tmp must be writable volumes.
      for (const dir of ["/tmp", flags.string("model_cache_dir")]) {
        const writable = container.volumeMounts?.find((v) => v.mountPath === dir);
        assert.ok(pod.spec.volumes?.find((v) => v.name === writable?.name)?.emptyDir, `a writable ${dir}`);
      }
    }
  });

  it("Service: grpc 8500 and http 8501 onto the container's ports, selecting the pods", () => {
    const service = only<Service>("Service");
    const deployment = only<Deployment>("Deployment");
    const container = deployment.spec.template.spec.containers[0] as Container;
    assert.ok(subset(service.spec.selector, deployment.spec.template.metadata.labels));
    assert.deepEqual(
      service.spec.ports.map((p) => [p.name, p.port, containerPort(container, p.targetPort)]),
      [
        ["grpc", 8500, 8500],
        ["http", 8501, 8501],
      ],
    );
  });

  it("ServiceMonitor scrapes the Service's http port at the path the monitoring config enables", () => {
    const monitor = only<ServiceMonitor>("ServiceMonitor");
    const service = only<Service>("Service");
    assert.ok(subset(monitor.spec.selector.matchLabels, service.metadata.labels));
    const [endpoint] = monitor.spec.endpoints;
    assert.ok(service.spec.ports.some((p) => p.name === endpoint?.port));
    const configMap = only<ConfigMap>("ConfigMap");
    const config = parseTextProto(
      MonitoringConfigSchema,
      configMap.data["monitoring.config"] ?? "",
      "monitoring.config",
    );
    assert.equal(config.prometheusConfig?.enable, true);
    assert.equal(endpoint?.path, config.prometheusConfig?.path || DEFAULT_METRICS_PATH);
    assert.equal(endpoint?.path, DEFAULT_METRICS_PATH);
  });

  it("HorizontalPodAutoscaler scales the Deployment on CPU; the PodDisruptionBudget selects its pods", () => {
    const hpa = only<Hpa>("HorizontalPodAutoscaler");
    const deployment = only<Deployment>("Deployment");
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: deployment.metadata.name,
    });
    assert.ok(hpa.spec.minReplicas >= 1 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
    assert.ok(hpa.spec.metrics.some((m) => m.type === "Resource" && m.resource?.name === "cpu"));
    const pdb = only<Pdb>("PodDisruptionBudget");
    assert.ok(subset(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels));
  });

  it("KServe ServingRuntime runs ts-serving for tensorflow and onnx as KServe's TF Serving runtime does", () => {
    const runtime = only<ServingRuntime>("ServingRuntime", KSERVE_DIR);
    const formats = new Set(runtime.spec.supportedModelFormats.map((f) => f.name));
    assert.deepEqual([...formats].sort(), ["onnx", "tensorflow"]);
    assert.deepEqual(runtime.spec.protocolVersions, ["v1", "grpc-v1"]);
    const [container] = runtime.spec.containers;
    assert.equal(container?.name, "kserve-container");
    const flags = flagsOf(container as Container);
    assert.equal(flags.string("model_name"), "{{.Name}}");
    assert.equal(flags.string("model_base_path"), "/mnt/models");
    assert.equal(flags.int("rest_api_port"), 8080);
    assert.equal(flags.int("port"), 9000);
    // Metrics: the annotated port and path are the REST port and the image's monitoring config.
    assert.equal(runtime.spec.annotations?.["prometheus.kserve.io/port"], String(flags.int("rest_api_port")));
    assert.equal(runtime.spec.annotations?.["prometheus.kserve.io/path"], DEFAULT_METRICS_PATH);
    assert.equal(imageFileSource(flags.string("monitoring_config_file")), "deploy/docker/monitoring.config");
    const shipped = readFileSync(join(REPO_ROOT, "deploy/docker/monitoring.config"), "utf8");
    assert.equal(
      parseTextProto(MonitoringConfigSchema, shipped, "monitoring.config").prometheusConfig?.enable,
      true,
    );
    assert.equal(container?.securityContext?.runAsNonRoot, true);

    const service = only<InferenceService>("InferenceService", KSERVE_DIR);
    assert.equal(service.spec.predictor.model.runtime, runtime.metadata.name);
    assert.ok(formats.has(service.spec.predictor.model.modelFormat.name));
  });

  it("kubectl kustomize deploy/k8s builds the kustomization", (t) => {
    const which = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
    if (which.error) {
      t.skip("kubectl is not on PATH: the structural checks above still ran");
      return;
    }
    const built = spawnSync("kubectl", ["kustomize", K8S_DIR], { encoding: "utf8" });
    assert.equal(built.status, 0, built.stderr);
    const docs = parseAllDocuments(built.stdout).map((d) => d.toJS() as Manifest);
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      "ConfigMap",
      "Deployment",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "Service",
      "ServiceMonitor",
    ]);
    const deployment = docs.find((d) => d.kind === "Deployment") as Deployment;
    assert.equal(deployment.spec.template.spec.containers[0]?.image, `ts-serving:${pkg.version}`);
  });
});

/** The repository file that the Dockerfile's runtime stage copies to `target` in the image. */
function imageFileSource(target: string): string | undefined {
  const stage = parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8")).stages.at(-1);
  const copy = stage?.instructions.find((i) => i.keyword === "COPY" && i.rest.split(/\s+/).at(-1) === target);
  return copy?.rest.split(/\s+/)[0];
}
