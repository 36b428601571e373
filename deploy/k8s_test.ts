/**
 * deploy/k8s: every manifest valid against the Kubernetes schemas (kubernetes-models), and the
 * references between them right: selectors, probes, ports, HPA targets, secrets and config maps,
 * the blue-green switch of the manual, the ops CronJobs.
 */
import assert from "node:assert/strict";
import {
  containers,
  loadManifests,
  type Manifest,
  manifestFiles,
  podTemplate,
  selects,
  validateManifest,
} from "./testing/k8s_manifests.ts";
import { hasCommand } from "../tests/harness/processes.ts";
import { taskPermissions } from "../scripts/dev/task_flags.ts";
import { DEPLOY_DIR, readRequired, repoFile } from "./testing/paths.ts";
import { at, isMap, parseYamlMap, type YamlMap } from "./testing/yaml_docs.ts";

const NAMESPACE = "freelance-platform";
const K8S_DIR = new URL("k8s/", DEPLOY_DIR);
const EXAMPLES_DIR = new URL("k8s/examples/", DEPLOY_DIR);

/** The manual's services: Deployment replicas (restore script), port, HPA guidelines. */
const SERVICES = {
  userservice: {
    main: "services/users/main.ts",
    port: 50051,
    replicas: 3,
    cpu: 70,
    min: 2,
    max: 10,
  },
  taskservice: {
    main: "services/tasks/main.ts",
    port: 50052,
    replicas: 2,
    cpu: 70,
    min: 2,
    max: 8,
  },
  orchestrator: {
    main: "services/orchestrator/main.ts",
    port: 50053,
    replicas: 2,
    cpu: 60,
    min: 2,
    max: 6,
  },
} as const;

const files = await manifestFiles(K8S_DIR);
const manifests = await loadManifests(K8S_DIR, files);
const examples = await loadManifests(EXAMPLES_DIR, await manifestFiles(EXAMPLES_DIR));
const everything = [...manifests, ...examples];
const kustomization = parseYamlMap(
  await readRequired(new URL("kustomization.yaml", K8S_DIR), "the kustomization"),
  "kustomization.yaml",
);
const denoTasks = Object.keys(
  JSON.parse(await readRequired(repoFile("deno.json"), "deno tasks")).tasks,
);

function find(kind: string, name: string, list: Manifest[] = manifests): Manifest {
  const found = list.find((m) => m.kind === kind && m.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
}

function ofKind(kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

function workloads(): Manifest[] {
  return manifests.filter((m) => podTemplate(m.object) !== undefined);
}

function podLabels(m: Manifest): YamlMap {
  return at(podTemplate(m.object), "metadata", "labels") as YamlMap;
}

function configValue(name: string): string | undefined {
  const data = at(find("ConfigMap", "platform-config").object, "data");
  return isMap(data) ? data[name] as string | undefined : undefined;
}

/** A container's variable, from `env` or from the config maps it loads with envFrom. */
function envValue(container: YamlMap, name: string): string | undefined {
  const env = (container.env ?? []) as YamlMap[];
  const direct = env.find((e) => e.name === name);
  if (direct) return direct.value as string | undefined;
  for (const source of (container.envFrom ?? []) as YamlMap[]) {
    const configMap = at(source, "configMapRef", "name");
    if (configMap === "platform-config" && configValue(name) !== undefined) {
      return configValue(name);
    }
  }
  return undefined;
}

function portNumber(container: YamlMap, port: unknown): number | undefined {
  const ports = (container.ports ?? []) as YamlMap[];
  const match = ports.find((p) => p.name === port || p.containerPort === port);
  return match?.containerPort as number | undefined;
}

Deno.test("every manifest is valid against the Kubernetes schema of its kind", () => {
  assert.ok(manifests.length >= 15, `found ${manifests.length} objects in ${files.join(", ")}`);
  assert.ok(examples.some((m) => m.kind === "Secret"));
});

Deno.test("the schema validation rejects broken manifests", () => {
  const deployment = find("Deployment", "userservice").object;
  const broken: [string, (copy: YamlMap) => void][] = [
    ["replicas as a string", (d) => (d.spec as YamlMap).replicas = "3"],
    ["a container without a name", (d) => delete containers(podTemplate(d)!)[0].name],
    ["a probe port as an object", (d) => {
      (containers(podTemplate(d)!)[0].readinessProbe as YamlMap).httpGet = { port: {} };
    }],
    ["an unknown restart strategy type", (d) => {
      ((d.spec as YamlMap).strategy as YamlMap).type = { rolling: true };
    }],
  ];
  for (const [what, breakIt] of broken) {
    const copy = structuredClone(deployment);
    breakIt(copy);
    assert.throws(() => validateManifest(copy), /Deployment userservice: /, what);
  }
  const hpa = structuredClone(find("HorizontalPodAutoscaler", "userservice").object);
  (hpa.spec as YamlMap).maxReplicas = "10";
  assert.throws(() => validateManifest(hpa), /maxReplicas must be integer/);
  assert.throws(() => validateManifest({ apiVersion: "v9", kind: "Gadget" }), /no schema known/);
});

Deno.test("everything lives in the freelance-platform namespace", () => {
  for (const m of everything) {
    if (m.kind === "Namespace") assert.equal(m.name, NAMESPACE);
    else assert.equal(m.namespace, NAMESPACE, `${m.kind} ${m.name} in ${m.file}`);
  }
  assert.equal(kustomization.namespace, NAMESPACE);
});

Deno.test("the kustomization lists every manifest but the green release and the examples", () => {
  const resources = kustomization.resources as string[];
  assert.deepEqual(
    [...resources].sort(),
    files.filter((f) => f !== "userservice-green.yaml").sort(),
  );
});

const kubectl = hasCommand("kubectl");

Deno.test({
  name: kubectl
    ? "kubectl kustomize renders the platform"
    : "kubectl kustomize renders the platform (skipped: kubectl not installed)",
  ignore: !kubectl,
  fn: async () => {
    const out = await new Deno.Command("kubectl", { args: ["kustomize", K8S_DIR.pathname] })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const rendered = new TextDecoder().decode(out.stdout);
    for (const name of Object.keys(SERVICES)) {
      assert.match(
        rendered,
        new RegExp(`kind: Deployment\\nmetadata:\\n(.*\\n)*?  name: ${name}\\n`),
      );
    }
  },
});

Deno.test("the Deployments have the manual's names and replica counts", async () => {
  for (const [name, want] of Object.entries(SERVICES)) {
    const d = find("Deployment", name).object;
    assert.equal(at(d, "spec", "replicas"), want.replicas, name);
    assert.ok(
      selects(at(d, "spec", "selector", "matchLabels"), podLabels(find("Deployment", name))),
    );
    const [container] = containers(podTemplate(d)!);
    // `kubectl set image deployment/userservice userservice=...` names the container.
    assert.equal(container.name, name);
    assert.match(String(container.image), new RegExp(`^freelance-platform/${name}:`));
    // The permissions of `deno task start:*` (deno.json), never -A.
    const task = `start:${want.main.split("/")[1]}`;
    assert.deepEqual(container.args, ["deno", "run", ...await taskPermissions(task), want.main]);
    assert.equal(envValue(container, "PORT"), String(want.port));
    assert.equal(portNumber(container, "http"), want.port);
    assert.equal(at(d, "spec", "strategy", "rollingUpdate", "maxUnavailable"), 0);
  }
});

Deno.test("probes: startup on /livez, readiness and liveness by native gRPC health (HTTP for the web app), on the served port", () => {
  for (const m of ofKind("Deployment")) {
    for (const container of containers(podTemplate(m.object)!)) {
      const where = `${m.name}/${container.name}`;
      const servicePort = envValue(container, "PORT");
      const port = Number(servicePort ?? envValue(container, "WEB_PORT"));
      const httpGet = at(container, "startupProbe", "httpGet");
      assert.ok(isMap(httpGet), `${where} has an HTTP startupProbe`);
      assert.equal(httpGet.path, "/livez", `${where} startupProbe`);
      assert.equal(portNumber(container, httpGet.port), port, `${where} startupProbe port`);
      // grpc.health.v1 names served by lib/server/grpc_health.ts: as /readyz and /livez answer.
      // The web app speaks no gRPC: its probes are /readyz and /livez.
      for (
        const [probe, service, path] of [
          ["readinessProbe", "readiness", "/readyz"],
          ["livenessProbe", "liveness", "/livez"],
        ]
      ) {
        if (servicePort === undefined) {
          const get = at(container, probe, "httpGet");
          assert.ok(isMap(get), `${where} has an HTTP ${probe}`);
          assert.equal(get.path, path, `${where} ${probe}`);
          assert.equal(portNumber(container, get.port), port, `${where} ${probe} port`);
          continue;
        }
        const grpc = at(container, probe, "grpc");
        assert.ok(isMap(grpc), `${where} has a gRPC ${probe}`);
        assert.equal(grpc.service, service, `${where} ${probe}`);
        assert.equal(grpc.port, port, `${where} ${probe} port is the port the service listens on`);
      }
    }
  }
});

Deno.test("pods outlive the preStop pause plus the services' shutdown grace", () => {
  for (const m of ofKind("Deployment")) {
    const template = podTemplate(m.object)!;
    const grace = at(template, "spec", "terminationGracePeriodSeconds") as number;
    for (const container of containers(template)) {
      const command = at(container, "lifecycle", "preStop", "exec", "command") as string[];
      assert.equal(command?.[0], "sleep", `${m.name} preStop pauses (the image has sleep)`);
      const pause = Number(command[1]);
      const drainMs = Number(envValue(container, "SHUTDOWN_GRACE_MS"));
      assert.ok(pause > 0 && drainMs > 0, `${m.name}: preStop ${pause}s, SHUTDOWN_GRACE_MS`);
      assert.ok(
        grace > pause + drainMs / 1000,
        `${m.name}: terminationGracePeriodSeconds ${grace} <= ${pause}s + ${drainMs}ms`,
      );
    }
  }
});

Deno.test("every container has CPU and memory requests and limits and runs as non-root", () => {
  for (const m of workloads()) {
    const template = podTemplate(m.object)!;
    assert.equal(at(template, "spec", "securityContext", "runAsNonRoot"), true, m.name);
    // The image's `deno` user; a numeric id lets the kubelet verify runAsNonRoot.
    assert.equal(at(template, "spec", "securityContext", "runAsUser"), 1993, m.name);
    for (const container of containers(template)) {
      for (const kind of ["requests", "limits"]) {
        for (const resource of ["cpu", "memory"]) {
          assert.ok(at(container, "resources", kind, resource), `${m.name} ${kind}.${resource}`);
        }
      }
      assert.equal(at(container, "securityContext", "allowPrivilegeEscalation"), false);
    }
  }
});

Deno.test("Services select pods and target a port those pods serve", () => {
  const deployments = ofKind("Deployment");
  for (const svc of ofKind("Service")) {
    const selector = at(svc.object, "spec", "selector");
    const backends = deployments.filter((d) => selects(selector, podLabels(d)));
    assert.ok(backends.length > 0, `Service ${svc.name} selects no pods`);
    assert.equal(at(svc.object, "spec", "type"), "ClusterIP");
    for (const port of at(svc.object, "spec", "ports") as YamlMap[]) {
      for (const d of backends) {
        const served = containers(podTemplate(d.object)!).some((c) =>
          portNumber(c, port.targetPort) === port.port
        );
        assert.ok(served, `Service ${svc.name} port ${port.port} -> ${d.name}`);
      }
    }
  }
  for (const [name, { port }] of Object.entries(SERVICES)) {
    const ports = at(find("Service", name).object, "spec", "ports") as YamlMap[];
    assert.deepEqual(ports.map((p) => [p.name, p.port]), [["http", port]]);
  }
});

Deno.test("blue-green: the manual's selector patch moves userservice from blue to green", async () => {
  const greenFile = await loadManifests(K8S_DIR, ["userservice-green.yaml"]);
  const blue = find("Deployment", "userservice");
  const green = find("Deployment", "userservice-green", greenFile);
  assert.deepEqual(podLabels(green), { ...podLabels(blue), version: "green" });
  assert.equal(podLabels(blue).version, "blue");
  assert.equal(at(green.object, "spec", "replicas"), SERVICES.userservice.replicas);
  assert.equal(containers(podTemplate(green.object)!)[0].name, "userservice");

  const service = find("Service", "userservice").object;
  const selector = at(service, "spec", "selector") as YamlMap;
  assert.ok(selects(selector, podLabels(blue)) && !selects(selector, podLabels(green)));
  // kubectl patch service userservice -p '{"spec":{"selector":{"version":"green"}}}' (a merge).
  const patched = { ...selector, ...{ version: "green" } };
  assert.ok(selects(patched, podLabels(green)) && !selects(patched, podLabels(blue)));

  // curl http://userservice-green:50051/health reaches the green pods only.
  const greenService = at(find("Service", "userservice-green", greenFile).object, "spec");
  assert.ok(selects(at(greenService, "selector"), podLabels(green)));
  assert.ok(!selects(at(greenService, "selector"), podLabels(blue)));
  // The selectors of the two Deployments must not overlap (each owns its pods).
  assert.ok(!selects(at(blue.object, "spec", "selector", "matchLabels"), podLabels(green)));
});

Deno.test("HPAs follow the manual's scaling guidelines and target existing Deployments", () => {
  for (const hpa of ofKind("HorizontalPodAutoscaler")) {
    const target = at(hpa.object, "spec", "scaleTargetRef") as YamlMap;
    assert.equal(target.kind, "Deployment");
    find("Deployment", String(target.name));
  }
  for (const [name, want] of Object.entries(SERVICES)) {
    const spec = at(find("HorizontalPodAutoscaler", name).object, "spec") as YamlMap;
    assert.equal(at(spec, "scaleTargetRef", "name"), name);
    assert.equal(spec.minReplicas, want.min, `${name} min`);
    assert.equal(spec.maxReplicas, want.max, `${name} max`);
    const targets = Object.fromEntries(
      (spec.metrics as YamlMap[]).map((m) => [
        at(m, "resource", "name"),
        at(m, "resource", "target", "averageUtilization"),
      ]),
    );
    assert.deepEqual(targets, { cpu: want.cpu, memory: 80 }, name);
  }
});

Deno.test("PodDisruptionBudgets cover each service's pods", () => {
  for (const name of Object.keys(SERVICES)) {
    const pdb = find("PodDisruptionBudget", name).object;
    const selector = at(pdb, "spec", "selector", "matchLabels");
    assert.ok(selects(selector, podLabels(find("Deployment", name))), `PDB ${name} selector`);
    assert.equal(at(pdb, "spec", "maxUnavailable"), 1);
  }
});

Deno.test("secret and config map references resolve", () => {
  const secrets = everything.filter((m) => m.kind === "Secret");
  const secretKeys = (name: string) => {
    const s = secrets.find((m) => m.name === name)?.object;
    return s ? Object.keys({ ...(s.stringData as YamlMap), ...(s.data as YamlMap) }) : undefined;
  };
  for (const m of workloads()) {
    for (const container of containers(podTemplate(m.object)!)) {
      const where = `${m.name}/${container.name}`;
      for (const env of (container.env ?? []) as YamlMap[]) {
        const ref = at(env, "valueFrom", "secretKeyRef") as YamlMap | undefined;
        if (ref && ref.optional !== true) {
          assert.ok(
            secretKeys(String(ref.name))?.includes(String(ref.key)),
            `${where} ${env.name}`,
          );
        }
      }
      for (const source of (container.envFrom ?? []) as YamlMap[]) {
        const configMap = at(source, "configMapRef", "name");
        if (configMap) find("ConfigMap", String(configMap));
        const secret = at(source, "secretRef") as YamlMap | undefined;
        if (secret && secret.optional !== true) assert.ok(secretKeys(String(secret.name)));
        if (secret) assert.ok(secretKeys(String(secret.name)), `example for ${secret.name}`);
      }
    }
  }
});

Deno.test("the JWT secret is the comma-separated JWT_SECRETS the services read", () => {
  for (const name of Object.keys(SERVICES)) {
    const [container] = containers(podTemplate(find("Deployment", name).object)!);
    const env = (container.env as YamlMap[]).find((e) => e.name === "JWT_SECRETS");
    assert.deepEqual(at(env, "valueFrom", "secretKeyRef"), {
      name: "jwt-secrets",
      key: "JWT_SECRETS",
    });
  }
  // The example's placeholder is too short for the services (>= 32 characters): applied by
  // mistake, it stops them at start instead of running with a published secret.
  const example = at(find("Secret", "jwt-secrets", examples).object, "stringData", "JWT_SECRETS");
  assert.ok(String(example).length < 32);
  assert.equal(configValue("USERS_URL"), "http://userservice:50051");
});

Deno.test("CronJobs run the nightly backup and the 03:00 maintenance as deno tasks", () => {
  const jobs = Object.fromEntries(
    ofKind("CronJob").map((m) => {
      const [container] = containers(podTemplate(m.object)!);
      return [(container.args as string[]).join(" "), at(m.object, "spec") as YamlMap];
    }),
  );
  assert.ok(jobs["deno task backup"], "a CronJob runs deno task backup");
  assert.ok(jobs["deno task maintenance"], "a CronJob runs deno task maintenance");
  assert.match(String(jobs["deno task backup"].schedule), /^0 [0-5] \* \* \*$/, "nightly");
  assert.equal(jobs["deno task maintenance"].schedule, "0 3 * * *");
  for (const spec of Object.values(jobs)) {
    assert.equal(spec.concurrencyPolicy, "Forbid");
    assert.equal(spec.timeZone, "Etc/UTC");
  }
  for (const task of ["backup", "maintenance"]) {
    assert.ok(denoTasks.includes(task), `deno.json has no task ${task}`);
  }
});

Deno.test("the web app runs web/main.ts same-origin behind the Ingress, as compose's edge", async () => {
  const web = find("Deployment", "web");
  const [container] = containers(podTemplate(web.object)!);
  assert.deepEqual(container.args, [
    "deno",
    "run",
    ...await taskPermissions("start:web"),
    "web/main.ts",
  ]);
  assert.equal(envValue(container, "WEB_SAME_ORIGIN"), "true");
  assert.equal(portNumber(container, "http"), Number(envValue(container, "WEB_PORT")));
  assert.ok(selects(at(find("Service", "web").object, "spec", "selector"), podLabels(web)));
});

Deno.test("the Ingresses route each RPC service and the status paths to a Service port that exists", async () => {
  const ingresses = ofKind("Ingress");
  assert.ok(ingresses.length > 0, "no Ingress");
  const routes = new Map<string, string>();
  for (const ingress of ingresses) {
    for (const rule of at(ingress.object, "spec", "rules") as YamlMap[]) {
      for (const path of at(rule, "http", "paths") as YamlMap[]) {
        const service = at(path, "backend", "service") as YamlMap;
        const svc = find("Service", String(service.name));
        const ports = at(svc.object, "spec", "ports") as YamlMap[];
        assert.ok(
          ports.some((p) => p.name === at(service, "port", "name")),
          `${ingress.name} ${path.path}: Service ${service.name} has no port ${
            at(service, "port", "name")
          }`,
        );
        routes.set(String(path.path), String(service.name));
      }
    }
  }
  // Every RPC service of the protos the page calls, as in deploy/nginx/edge.conf.
  const edge = await readRequired(repoFile("deploy/nginx/edge.conf"), "the edge proxy");
  const rpcPrefixes = [
    ...edge.matchAll(/location (\/platform\.[\w.]+\/) \{\n\s+set \$upstream http:\/\/(\w+):/g),
  ];
  assert.ok(rpcPrefixes.length >= 4);
  for (const [, prefix, upstream] of rpcPrefixes) {
    assert.equal(routes.get(prefix), upstream, `Ingress routes ${prefix} to ${upstream}`);
  }
  assert.equal(routes.get("/"), "web");
  for (const name of ["users", "tasks", "orchestrator"]) {
    assert.ok(routes.has(`/services/${name}/(health|metrics|livez)$`), `status path of ${name}`);
  }
});
