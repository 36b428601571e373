/**
 * Loading and schema validation of the Kubernetes manifests in `deploy/k8s`, with
 * `kubernetes-models` (the Kubernetes OpenAPI schemas compiled to validators).
 *
 * @module
 */
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { listFiles, readRequired } from "./paths.ts";
import { at, isMap, parseYamlDocuments, type YamlMap } from "./yaml_docs.ts";

/** A manifest object and the file it came from. */
export interface Manifest {
  file: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  object: YamlMap;
}

type ModelClass = new (data: never) => { validate(): void };

/** The kinds this platform ships, by `apiVersion/kind`. */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "batch/v1/CronJob": CronJob,
  "networking.k8s.io/v1/Ingress": Ingress,
};

/**
 * Validates one object against the Kubernetes schema of its kind; throws naming the object and
 * the offending field, or when the kind is not one this platform uses.
 *
 * @example
 * ```ts
 * validateManifest({ apiVersion: "v1", kind: "Namespace", metadata: { name: "x" } });
 * ```
 */
export function validateManifest(object: YamlMap): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  const name = at(object, "metadata", "name");
  if (!Model) throw new Error(`${key} ${name}: no schema known for this kind`);
  try {
    new Model(object as never).validate();
  } catch (error) {
    throw new Error(`${key} ${name}: ${(error as Error).message}`);
  }
}

/**
 * Reads every YAML document of the given files in a directory, validating each.
 *
 * @example
 * ```ts
 * const manifests = await loadManifests(new URL("k8s/", DEPLOY_DIR), ["namespace.yaml"]);
 * ```
 */
export async function loadManifests(dir: URL, files: readonly string[]): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const file of files) {
    const text = await readRequired(new URL(file, dir), "a Kubernetes manifest");
    for (const object of parseYamlDocuments(text, file)) {
      if (!isMap(object)) throw new Error(`${file}: a document is not a mapping`);
      validateManifest(object);
      manifests.push({
        file,
        kind: String(object.kind),
        name: String(at(object, "metadata", "name")),
        namespace: at(object, "metadata", "namespace") as string | undefined,
        object,
      });
    }
  }
  return manifests;
}

/**
 * The manifest files of a directory: `*.yaml` except the kustomization itself.
 *
 * @example
 * ```ts
 * const files = await manifestFiles(new URL("k8s/", DEPLOY_DIR));
 * ```
 */
export async function manifestFiles(dir: URL): Promise<string[]> {
  return (await listFiles(dir, [".yaml", ".yml"])).filter((f) => f !== "kustomization.yaml");
}

/**
 * The pod template of a workload (Deployment or CronJob), or undefined for other kinds.
 *
 * @example
 * ```ts
 * const pod = podTemplate(deployment.object);
 * ```
 */
export function podTemplate(object: YamlMap): YamlMap | undefined {
  const template = object.kind === "CronJob"
    ? at(object, "spec", "jobTemplate", "spec", "template")
    : object.kind === "Deployment"
    ? at(object, "spec", "template")
    : undefined;
  return isMap(template) ? template : undefined;
}

/**
 * The containers of a pod template.
 *
 * @example
 * ```ts
 * for (const container of containers(pod)) console.log(container.name);
 * ```
 */
export function containers(template: YamlMap): YamlMap[] {
  const list = at(template, "spec", "containers");
  return Array.isArray(list) ? list.filter(isMap) : [];
}

/**
 * True when every label of the selector is on the object with the same value (an empty
 * selector selects nothing here, which is what a Service or PDB should never have).
 *
 * @example
 * ```ts
 * selects({ app: "x" }, { app: "x", version: "blue" }); // true
 * ```
 */
export function selects(selector: unknown, labels: unknown): boolean {
  if (!isMap(selector) || !isMap(labels) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
