// Validates every Kubernetes object under deploy/ against its schema with a maintained validator:
// kubernetes-models (the Kubernetes OpenAPI schemas compiled to ajv validators) and
// @kubernetes-models/prometheus-operator (the ServiceMonitor CRD's schema). No cluster is needed,
// unlike `kubectl apply --dry-run`. A document whose apiVersion/kind has no model here fails: a new
// manifest must be added to MODELS (or, with a reason, to STRUCTURAL_ONLY), never pass unchecked.
// What these schemas do not catch: unknown (e.g. misspelt) field names, since the Kubernetes OpenAPI
// schemas allow them; manifests.test.ts reads the fields the deployment depends on by name.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Container } from "kubernetes-models/v1/Container";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { REPO_ROOT } from "../fixtures.js";
import { type YamlDocument, yamlDocuments } from "./yaml-documents.js";

/** A kubernetes-models class: its apiVersion and kind, and `validate()`, which throws on a schema error. */
interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  // `never`: the YAML's shape is what the schema checks, so the compiler is not asked to.
  new (data: never): { validate(): void };
}

/** The models, keyed by "apiVersion kind" as each class declares them. */
const MODELS = new Map<string, ModelClass>(
  [ConfigMap, Secret, Service, Deployment, HorizontalPodAutoscaler, PodDisruptionBudget, ServiceMonitor].map(
    (model: ModelClass) => [`${model.apiVersion} ${model.kind}`, model],
  ),
);

/** Documents that keep the structural checks of manifests.test.ts only, and why. */
const STRUCTURAL_ONLY = new Map<string, string>([
  // No maintained schema package for KServe's CRDs is installed; manifests.test.ts checks the fields
  // KServe reads (formats, protocol versions, container args with the real flag table, the runtime name),
  // and the ServingRuntime's containers are validated below as core/v1 Containers.
  ["serving.kserve.io/v1alpha1 ServingRuntime", "KServe CRD"],
  ["serving.kserve.io/v1beta1 InferenceService", "KServe CRD"],
  // kustomize's own build file, not an API object: `kubectl kustomize` builds it when kubectl is present.
  ["kustomize.config.k8s.io/v1beta1 Kustomization", "kustomize build file"],
]);

const typeOf = (value: Record<string, unknown>): string =>
  `${String(value.apiVersion)} ${String(value.kind)}`;

/**
 * Validates one object against the schema of its apiVersion and kind; throws on a schema error and
 * on an apiVersion/kind that has no model (a typo, a removed API version or a new kind alike).
 */
function validateObject(value: Record<string, unknown>): void {
  const model = MODELS.get(typeOf(value));
  if (!model) throw new Error(`no schema for ${typeOf(value)}: add its model to MODELS`);
  new model(value as never).validate();
}

const documents: YamlDocument[] = ["deploy/k8s", "deploy/kserve"].flatMap((dir) =>
  yamlDocuments(join(REPO_ROOT, dir)).map((d) => ({ ...d, file: `${dir}/${d.file}` })),
);
const deploymentDoc = documents.find((d) => d.value.kind === "Deployment");

describe("deploy/ manifests against the Kubernetes schemas (kubernetes-models)", () => {
  it("covers every object of deploy/k8s, the example Secret included", () => {
    const validated = documents.filter((d) => MODELS.has(typeOf(d.value))).map((d) => d.file);
    for (const file of [
      "deploy/k8s/deployment.yaml",
      "deploy/k8s/service.yaml",
      "deploy/k8s/hpa.yaml",
      "deploy/k8s/pdb.yaml",
      "deploy/k8s/monitoring-configmap.yaml",
      "deploy/k8s/servicemonitor.yaml",
      "deploy/k8s/s3-secret.example.yaml",
    ]) {
      assert.ok(validated.includes(file), `${file} is schema-validated`);
    }
  });

  for (const { file, value } of documents) {
    const type = typeOf(value);
    if (STRUCTURAL_ONLY.has(type)) {
      it(`${file}: ${type} (${STRUCTURAL_ONLY.get(type)}): structural checks only, in manifests.test.ts`, () => {
        assert.ok(!MODELS.has(type));
      });
      continue;
    }
    it(`${file}: ${type} matches its schema`, () => {
      assert.doesNotThrow(() => validateObject(value), `${file}`);
    });
  }

  it("deploy/kserve/serving-runtime.yaml: its containers match core/v1 Container's schema (KServe embeds it)", () => {
    const runtime = documents.find((d) => d.value.kind === "ServingRuntime");
    const containers = (runtime?.value.spec as { containers?: unknown[] } | undefined)?.containers ?? [];
    assert.ok(containers.length > 0);
    for (const container of containers) new Container(container as never).validate();
    assert.throws(
      () => new Container({ name: "x", args: [8500] } as never).validate(),
      /args\/0 must be string/,
    );
  });

  // The validator is live: the same checks fail on broken objects.
  describe("rejects", () => {
    it("the real Deployment with a string containerPort", () => {
      assert.ok(deploymentDoc, "deploy/k8s has a Deployment");
      const broken = structuredClone(deploymentDoc.value) as {
        spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } };
      };
      const port = broken.spec.template.spec.containers[0]?.ports[0];
      assert.ok(port);
      port.containerPort = "8500";
      assert.doesNotThrow(() => validateObject(deploymentDoc.value), "the original still validates");
      assert.throws(
        () => validateObject(broken as unknown as Record<string, unknown>),
        /containers\/0\/ports\/0\/containerPort must be integer/,
      );
    });

    it("a Deployment without a selector, and a Service port without its number", () => {
      assert.throws(
        () =>
          validateObject({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "x" },
            spec: { template: { spec: { containers: [{ name: "x" }] } } },
          }),
        /spec must have required property '?selector'?/,
      );
      assert.throws(
        () =>
          validateObject({
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "x" },
            spec: { ports: [{ name: "http", targetPort: "http" }] },
          }),
        /ports\/0 must have required property '?port'?/,
      );
    });

    it("a label that is not a string, a quantity that is not one, a scrape interval that is not a duration", () => {
      assert.throws(
        () =>
          validateObject({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "x", labels: { a: 1 } },
          }),
        /labels\/a must be string/,
      );
      assert.throws(
        () =>
          validateObject({
            apiVersion: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata: { name: "x" },
            spec: {
              scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "x" },
              maxReplicas: 3,
              metrics: [
                {
                  type: "Resource",
                  resource: { name: "cpu", target: { type: "AverageValue", averageValue: "lots" } },
                },
              ],
            },
          }),
        /averageValue must match format "quantity"/,
      );
      assert.throws(
        () =>
          validateObject({
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: "x" },
            spec: { selector: {}, endpoints: [{ port: "http", interval: "15 seconds" }] },
          }),
        /endpoints\/0\/interval must match pattern/,
      );
    });

    it("an unknown kind or an apiVersion no model has, instead of passing silently", () => {
      assert.throws(
        () => validateObject({ apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } }),
        /no schema for apps\/v1 Deploymnet/,
      );
      // Removed in Kubernetes 1.26: the manifests must use autoscaling/v2.
      assert.throws(
        () =>
          validateObject({
            apiVersion: "autoscaling/v2beta2",
            kind: "HorizontalPodAutoscaler",
            metadata: {},
          }),
        /no schema for autoscaling\/v2beta2 HorizontalPodAutoscaler/,
      );
    });
  });
});
