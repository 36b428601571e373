/**
 * compose.yaml: valid against the Compose JSON Schema, and right in what a schema cannot see
 * (the platform's services, the manual's ports, health-based start order, scalability).
 */
import assert from "node:assert/strict";
import { hasCommand } from "../tests/harness/processes.ts";
import { taskPermissions } from "../scripts/dev/task_flags.ts";
import { loadComposeValidator } from "./testing/compose_schema.ts";
import { parseDurationMs } from "./testing/durations.ts";
import { readRequired, repoFile } from "./testing/paths.ts";
import { at, isMap, parseYamlMap, type YamlMap } from "./testing/yaml_docs.ts";

/** The manual's ports and the entry point of each service. */
const APP_SERVICES = {
  userservice: { port: 50051, main: "services/users/main.ts", build: "users" },
  taskservice: { port: 50052, main: "services/tasks/main.ts", build: "tasks" },
  orchestrator: { port: 50053, main: "services/orchestrator/main.ts", build: "orchestrator" },
} as const;

const REQUIRED_SERVICES = [
  "postgres",
  "nats",
  "redis",
  ...Object.keys(APP_SERVICES),
  "prometheus",
  "postgres-exporter",
  "redis-exporter",
];

const composeText = await readRequired(repoFile("compose.yaml"), "the compose file under test");
const compose = parseYamlMap(composeText, "compose.yaml");
const services = compose.services as Record<string, YamlMap>;

function service(name: string): YamlMap {
  const value = services[name];
  assert.ok(isMap(value), `compose.yaml has no service ${name}`);
  return value;
}

function healthcheckCommand(svc: YamlMap): string {
  const test = at(svc, "healthcheck", "test");
  return Array.isArray(test) ? test.join(" ") : String(test ?? "");
}

Deno.test("compose.yaml is valid against the Compose JSON Schema", async () => {
  const validate = await loadComposeValidator();
  assert.deepEqual(validate(compose), []);
});

Deno.test("the schema check rejects a broken compose file", async () => {
  const validate = await loadComposeValidator();
  const broken = structuredClone(compose);
  (broken.services as Record<string, YamlMap>).orchestrator.depends_on = {
    userservice: { condition: "service_ready" },
  };
  (broken.services as Record<string, YamlMap>).postgres.healthcheck = { interval: 5 };
  const errors = validate(broken);
  assert.ok(errors.some((e) => e.includes("/services/orchestrator/depends_on")), errors.join());
  assert.ok(errors.some((e) => e.includes("/services/postgres/healthcheck")), errors.join());
});

Deno.test("every service the platform needs is defined", () => {
  const missing = REQUIRED_SERVICES.filter((name) => !isMap(services[name]));
  assert.deepEqual(missing, []);
});

Deno.test("the services listen on the manual's ports and start their own main.ts", async () => {
  for (const [name, want] of Object.entries(APP_SERVICES)) {
    const svc = service(name);
    assert.equal(at(svc, "environment", "PORT"), String(want.port), `${name} PORT`);
    assert.deepEqual(svc.expose, [String(want.port)], `${name} expose`);
    // With the permissions of their `deno task start:*` (deno.json), never -A.
    assert.deepEqual(
      svc.command,
      ["deno", "run", ...await taskPermissions(`start:${want.build}`), want.main],
      `${name} command`,
    );
    assert.equal(at(svc, "build", "dockerfile"), "deploy/Dockerfile", `${name} Dockerfile`);
    assert.equal(at(svc, "build", "args", "SERVICE"), want.build, `${name} SERVICE build arg`);
  }
});

Deno.test("the services' healthchecks fetch /health on their own port and need a 200", () => {
  for (const [name, want] of Object.entries(APP_SERVICES)) {
    const command = healthcheckCommand(service(name));
    assert.match(command, /^CMD deno eval /, `${name}: the image has no curl`);
    assert.ok(command.includes(`http://127.0.0.1:${want.port}/health'`), `${name}: ${command}`);
    assert.ok(command.includes("status === 200"), `${name} must fail unless /health is 200`);
  }
});

Deno.test("the three services can be scaled with --scale", () => {
  for (const name of Object.keys(APP_SERVICES)) {
    const svc = service(name);
    assert.equal(svc.container_name, undefined, `${name}: container_name prevents scaling`);
    assert.equal(svc.ports, undefined, `${name}: a published host port clashes between replicas`);
  }
});

Deno.test("depends_on waits for health only where a healthcheck exists", () => {
  const checked: string[] = [];
  for (const [name, svc] of Object.entries(services)) {
    const dependsOn = svc.depends_on;
    assert.ok(dependsOn === undefined || isMap(dependsOn), `${name}: use the long depends_on form`);
    for (const [target, spec] of Object.entries(dependsOn ?? {})) {
      const targetService = service(target);
      const condition = at(spec, "condition");
      if (condition === "service_healthy") {
        assert.ok(isMap(targetService.healthcheck), `${name} waits for ${target}'s health`);
        assert.notEqual(at(targetService, "healthcheck", "disable"), true);
        checked.push(`${name}->${target}`);
      }
    }
  }
  for (
    const [name, deps] of Object.entries({
      userservice: ["postgres"],
      taskservice: ["postgres", "nats"],
      orchestrator: ["postgres", "nats", "userservice"],
    })
  ) {
    for (const dep of deps) {
      assert.ok(checked.includes(`${name}->${dep}`), `${name} must wait for ${dep} to be healthy`);
    }
  }
});

Deno.test("the services get their configuration, with defaults that start a local stack", () => {
  const needed = [
    "DATABASE_URL",
    "NATS_URL",
    "REDIS_URL",
    "JWT_SECRETS",
    "LOG_LEVEL",
    "SHUTDOWN_GRACE_MS",
  ];
  for (const name of Object.keys(APP_SERVICES)) {
    const env = at(service(name), "environment");
    assert.ok(isMap(env), `${name} environment`);
    for (const variable of needed) assert.ok(variable in env, `${name} needs ${variable}`);
    assert.match(String(env.DATABASE_URL), /@postgres:5432\/freelance_platform$/);
    assert.equal(env.NATS_URL, "nats://nats:4222");
    assert.equal(env.REDIS_URL, "redis://redis:6379");
  }
  assert.equal(at(service("orchestrator"), "environment", "USERS_URL"), "http://userservice:50051");
  // Every ${VAR} has a default (or a required-variable message): `docker compose up` works with
  // no .env file.
  const bare = [...composeText.matchAll(/\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}/g)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[0]);
  assert.deepEqual(bare, []);
});

Deno.test("Docker waits for the services' graceful shutdown before killing them", () => {
  for (const name of Object.keys(APP_SERVICES)) {
    const svc = service(name);
    const graceMs = Number(
      String(at(svc, "environment", "SHUTDOWN_GRACE_MS")).match(/(\d+)\}?$/)?.[1],
    );
    assert.ok(graceMs > 0, `${name} SHUTDOWN_GRACE_MS default`);
    assert.ok(parseDurationMs(String(svc.stop_grace_period)) > graceMs, `${name} grace`);
  }
});

Deno.test("NATS runs JetStream with its monitoring port", () => {
  const command = service("nats").command as string[];
  assert.ok(command.includes("-js"), "JetStream");
  assert.equal(command[command.indexOf("-m") + 1], "8222", "monitoring on 8222 (/varz)");
  assert.match(healthcheckCommand(service("nats")), /:8222\/healthz/);
});

Deno.test("Prometheus loads deploy/prometheus and the exporters feed the alerts", async () => {
  const prometheus = service("prometheus");
  assert.ok(
    (prometheus.volumes as string[]).includes("./deploy/prometheus:/etc/prometheus:ro"),
  );
  assert.ok(
    (prometheus.command as string[]).includes("--config.file=/etc/prometheus/prometheus.yml"),
  );
  const config = await readRequired(repoFile("deploy/prometheus/prometheus.yml"), "scrape config");
  assert.match(config, /postgres-exporter:9187/);
  assert.match(config, /redis-exporter:9121/);
  assert.match(
    String(at(service("postgres-exporter"), "environment", "DATA_SOURCE_NAME")),
    /@postgres:5432\//,
  );
  assert.equal(at(service("redis-exporter"), "environment", "REDIS_ADDR"), "redis://redis:6379");
});

Deno.test("named volumes are declared and bind mounts point at files in the repository", async () => {
  const declared = Object.keys(compose.volumes as YamlMap);
  for (const [name, svc] of Object.entries(services)) {
    for (const volume of (svc.volumes ?? []) as string[]) {
      const source = volume.split(":")[0];
      if (source.startsWith("./")) {
        await Deno.stat(repoFile(source)).catch(() => {
          throw new Error(`${name} mounts ${source}, which does not exist`);
        });
      } else if (!source.startsWith("/")) {
        assert.ok(declared.includes(source), `${name} uses undeclared volume ${source}`);
      }
    }
  }
  assert.ok(declared.includes("postgres-data"));
});

Deno.test("the edge proxy publishes the manual's ports and forwards each to its service", async () => {
  const edge = service("edge");
  const published = (edge.ports as string[]).map((p) => p.split(":").slice(-2).join(":"));
  const conf = await readRequired(repoFile("deploy/nginx/edge.conf"), "edge proxy config");
  for (const [name, { port }] of Object.entries(APP_SERVICES)) {
    assert.ok(published.includes(`${port}:${port}`), `edge publishes ${port}`);
    const block = conf.match(new RegExp(`listen ${port};[\\s\\S]*?proxy_pass[^;]*;`))?.[0];
    assert.ok(block?.includes(`http://${name}:${port};`), `edge :${port} -> ${name}:${port}`);
  }
  // The resolver comes from configuration: edge.conf is rendered by the nginx image's template
  // step, with Docker's DNS as the default.
  assert.match(conf, /^resolver \$\{EDGE_RESOLVER\} valid=5s/m, "re-resolves replicas");
  assert.equal(at(edge, "environment", "EDGE_RESOLVER"), "${EDGE_RESOLVER:-127.0.0.11}");
  assert.ok(
    (edge.volumes as string[]).includes(
      "./deploy/nginx/edge.conf:/etc/nginx/templates/default.conf.template:ro",
    ),
    "edge.conf is mounted as a template",
  );
});

Deno.test("Compose v1 accepts the file: no top-level name (docker-compose 1.29 rejects it)", () => {
  assert.equal(compose.name, undefined);
  assert.deepEqual(
    Object.keys(compose).filter((key) => !key.startsWith("x-")).sort(),
    ["services", "volumes"],
  );
});

Deno.test("the image's pg_dump can dump compose's PostgreSQL", async () => {
  // The image installs Debian's postgresql-client unless PG_MAJOR is given; bookworm's is 15,
  // and pg_dump refuses a server newer than itself.
  const dockerfile = await readRequired(repoFile("deploy/Dockerfile"), "image definition");
  assert.match(dockerfile, /^ARG PG_MAJOR=$/m, "no PostgreSQL apt repository by default");
  const major = Number(/^postgres:(\d+)/.exec(String(service("postgres").image))?.[1]);
  assert.ok(major > 0 && major <= 15, `postgres image ${service("postgres").image}`);
});

Deno.test("the edge serves the web app on :8080 with each service's RPCs on the same origin", async () => {
  const edge = service("edge");
  const published = (edge.ports as string[]).map((p) => p.split(":").slice(-2).join(":"));
  assert.ok(published.includes("8080:8080"), "edge publishes 8080");
  const conf = await readRequired(repoFile("deploy/nginx/edge.conf"), "edge proxy config");
  const web = conf.slice(conf.indexOf("listen 8080;"));
  const packages = { userservice: "users", taskservice: "tasks", orchestrator: "orchestrator" };
  for (const [name, { port }] of Object.entries(APP_SERVICES)) {
    const pkg = packages[name as keyof typeof packages];
    const rpc = web.match(new RegExp(`location /platform\\.${pkg}\\.v1\\.\\w+/ \\{[^}]*\\}`))?.[0];
    assert.ok(rpc?.includes(`http://${name}:${port};`), `:8080 routes ${pkg} RPCs to ${name}`);
    const status = web.match(new RegExp(`location ~ \\^/services/${pkg}/[^{]*\\{[^}]*\\}`))?.[0];
    assert.ok(status?.includes(`http://${name}:${port};`), `:8080 /services/${pkg}/ -> ${name}`);
  }
  assert.match(
    web,
    /location \/ \{\s*set \$upstream http:\/\/web:8080;/,
    "the rest is the web app",
  );
  assert.match(conf, /proxy_set_header Host \$http_host;/, "the port survives (same-origin check)");
  const app = service("web");
  assert.equal(at(app, "environment", "WEB_SAME_ORIGIN"), "true");
  assert.match(healthcheckCommand(app), /127\.0\.0\.1:8080\/livez/);
});

// hasCommand never throws: `new Deno.Command("nginx").output()` throws synchronously when nginx
// is missing, before any `.then(..., () => false)` can turn that into a skip.
const nginx = hasCommand("nginx");

Deno.test({
  name: "the edge proxy config passes nginx -t (skipped: nginx not installed)".replace(
    nginx ? / \(skipped.*\)/ : /^$/,
    "",
  ),
  ignore: !nginx,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const main = `${dir}/nginx.conf`;
      // As the nginx image renders the template (only the variables that are set).
      const include = `${dir}/edge.conf`;
      const template = await Deno.readTextFile(repoFile("deploy/nginx/edge.conf"));
      await Deno.writeTextFile(include, template.replaceAll("${EDGE_RESOLVER}", "127.0.0.11"));
      await Deno.writeTextFile(
        main,
        `error_log ${dir}/error.log;\npid ${dir}/nginx.pid;\nevents {}\nhttp { include ${include}; }\n`,
      );
      const result = await new Deno.Command("nginx", { args: ["-t", "-c", main, "-p", dir] })
        .output();
      assert.ok(result.success, new TextDecoder().decode(result.stderr));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the default trace endpoint is a service of this file (the tracing profile), off by default", () => {
  const env = compose["x-app-env"] as YamlMap;
  assert.equal(env.OTEL_DENO, "${OTEL_DENO:-false}");
  const endpoint = /:-(http:\/\/[^}]+)\}/.exec(String(env.OTEL_EXPORTER_OTLP_ENDPOINT))?.[1];
  assert.ok(endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT has a default");
  const { hostname, port } = new URL(endpoint);
  const collector = service(hostname);
  assert.deepEqual(collector.profiles, ["tracing"], "opt-in: never started by a plain `up`");
  assert.equal(port, "4318");
  assert.equal(at(collector, "environment", "COLLECTOR_OTLP_ENABLED"), "true");
});

Deno.test("the web app runs with the permissions of deno task start:web", async () => {
  assert.deepEqual(service("web").command, [
    "deno",
    "run",
    ...await taskPermissions("start:web"),
    "web/main.ts",
  ]);
});
