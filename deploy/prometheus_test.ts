/**
 * deploy/prometheus: the manual's alerts as rules promtool accepts and proves with its own unit
 * tests (deploy/prometheus/tests), written against metrics the services really export.
 *
 * Needs promtool on PATH (`apt-get install -y prometheus`); fails, saying so, without it.
 */
import assert from "node:assert/strict";
import { Metrics } from "@platform/lib/metrics";
import { COMPONENT_METRICS, knownSeries, SERVICE_METRICS } from "./testing/metric_contract.ts";
import { DEPLOY_DIR, listFiles, readRequired, repoFile } from "./testing/paths.ts";
import { metricNames } from "./testing/promql.ts";
import { promtool } from "./testing/promtool.ts";
import { at, isMap, parseYamlMap, type YamlMap } from "./testing/yaml_docs.ts";

const PROMETHEUS_DIR = new URL("prometheus/", DEPLOY_DIR);
const RULE_FILES = ["recording_rules.yml", "alerts.yml"];

/** The manual's "Alert Thresholds": condition, duration, severity. */
const MANUAL_ALERTS = {
  ServiceDown: { expr: "up == 0", for: "30s", severity: "critical" },
  HighErrorRate: {
    expr: "job:grpc_server_error_rate:ratio_rate5m > 0.05",
    for: "2m",
    severity: "critical",
  },
  DatabaseConnectionPoolExhausted: {
    expr: "pg_connections_active / pg_connections_max > 0.9",
    for: "1m",
    severity: "critical",
  },
  HighMemoryUsage: { expr: "container_memory_usage_percent > 90", for: "5m", severity: "critical" },
  ElevatedLatency: {
    expr: "job:grpc_server_handling_seconds:p95_rate5m > 1",
    for: "5m",
    severity: "warning",
  },
  LowMatchingSuccessRate: {
    expr: "job:matching_success_rate:ratio_rate5m < 0.8",
    for: "10m",
    severity: "warning",
  },
  HighCPUUsage: { expr: "container_cpu_usage_percent > 80", for: "10m", severity: "warning" },
  // Not in the manual: client errors apart from the error rate that pages (docs/operations.md).
  HighClientErrorRate: {
    expr: "job:grpc_server_client_error_rate:ratio_rate5m > 0.25",
    for: "10m",
    severity: "warning",
  },
  // Not in the manual: login and registration limits refusing a burst (docs/operations.md).
  LoginThrottleBurst: {
    expr: "sum by (job, reason) (increase(auth_throttled_total[5m])) > 50",
    for: "2m",
    severity: "warning",
  },
  // Not in the manual: the last line against a dependency's bug (lib/server/unhandled_rejections.ts).
  UnhandledRejections: {
    expr: "increase(process_unhandled_rejections_total[10m]) > 0",
    for: "0s",
    severity: "warning",
  },
} as const;

/** What each recording rule the alerts use must compute from (the manual's formulas). */
const RECORDINGS = {
  "job:grpc_server_error_rate:ratio_rate5m": ["grpc_server_handled_total"],
  "job:grpc_server_client_error_rate:ratio_rate5m": ["grpc_server_handled_total"],
  "job:grpc_server_handling_seconds:p95_rate5m": ["grpc_server_handling_seconds_bucket"],
  "job:matching_success_rate:ratio_rate5m": ["matches_successful_total", "matches_attempted_total"],
  "pg_connections_active": ["pg_stat_activity_count"],
  "pg_connections_max": ["pg_settings_max_connections"],
  "container_memory_usage_percent": [
    "container_memory_working_set_bytes",
    "container_spec_memory_limit_bytes",
  ],
  "container_cpu_usage_percent": [
    "container_cpu_usage_seconds_total",
    "container_spec_cpu_quota",
    "container_spec_cpu_period",
  ],
} as const;

async function rules(file: string): Promise<YamlMap[]> {
  const doc = parseYamlMap(
    await readRequired(new URL(file, PROMETHEUS_DIR), "Prometheus rules"),
    file,
  );
  return (doc.groups as YamlMap[]).flatMap((g) => g.rules as YamlMap[]);
}

async function check(args: string[], cwd: URL = PROMETHEUS_DIR): Promise<string> {
  const { success, output } = await promtool(args, cwd);
  assert.ok(success, `promtool ${args.join(" ")} failed:\n${output}`);
  return output;
}

const alerting = await rules("alerts.yml");
const recording = await rules("recording_rules.yml");
const testFiles = await listFiles(new URL("tests/", PROMETHEUS_DIR), [".yml", ".yaml"]);

Deno.test("promtool accepts the rule files", async () => {
  await check(["check", "rules", ...RULE_FILES]);
});

Deno.test("promtool accepts the compose scrape config and the rule files it loads", async () => {
  const output = await check(["check", "config", "prometheus.yml"]);
  assert.match(output, /SUCCESS: 2 rule files found/);
});

Deno.test("promtool accepts the Kubernetes scrape config", async () => {
  const first = await promtool(
    ["check", "config", "--syntax-only", "prometheus-kubernetes.yml"],
    PROMETHEUS_DIR,
  );
  if (first.success) return;
  // Debian's promtool is built without Kubernetes service discovery: check everything else.
  assert.match(first.output, /field kubernetes_sd_configs not found/, first.output);
  const config = parseYamlMap(
    await readRequired(new URL("prometheus-kubernetes.yml", PROMETHEUS_DIR), "k8s config"),
    "prometheus-kubernetes.yml",
  );
  for (const job of config.scrape_configs as YamlMap[]) {
    if (job.kubernetes_sd_configs) {
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ["placeholder:1"] }];
    }
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/prometheus.yml`, JSON.stringify(config));
    await check(["check", "config", "--syntax-only", `${dir}/prometheus.yml`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.deepEqual(config.rule_files, RULE_FILES);
});

Deno.test("promtool's unit tests prove every alert fires and stays silent as it should", async () => {
  assert.ok(testFiles.length > 0, "no tests in deploy/prometheus/tests");
  const output = await check(["test", "rules", ...testFiles.map((f) => `tests/${f}`)]);
  assert.doesNotMatch(output, /FAILED/);
});

Deno.test("alerts.yml holds exactly the manual's alerts, with its conditions", () => {
  assert.deepEqual(alerting.map((r) => r.alert).sort(), Object.keys(MANUAL_ALERTS).sort());
  for (const rule of alerting) {
    const want = MANUAL_ALERTS[rule.alert as keyof typeof MANUAL_ALERTS];
    assert.equal(String(rule.expr).trim(), want.expr, `${rule.alert} condition`);
    assert.equal(rule.for, want.for, `${rule.alert} duration`);
    assert.equal(at(rule, "labels", "severity"), want.severity, `${rule.alert} severity`);
    for (const annotation of ["summary", "description", "runbook_url"]) {
      assert.ok(at(rule, "annotations", annotation), `${rule.alert} needs ${annotation}`);
    }
    assert.match(
      String(at(rule, "annotations", "runbook_url")),
      /^docs\/operations\.md#[a-z0-9-]+$/,
    );
  }
});

Deno.test("the recording rules compute the manual's quantities from the real metrics", () => {
  const byName = new Map(recording.map((r) => [String(r.record), String(r.expr)]));
  for (const [name, sources] of Object.entries(RECORDINGS)) {
    const expr = byName.get(name);
    assert.ok(expr, `recording rule ${name} is missing`);
    assert.deepEqual(metricNames(expr).sort(), [...sources].sort(), name);
  }
  // The error rate that pages counts the server's failures only; client errors have their own.
  const serverCodes = "Unknown|Internal|Unavailable|DataLoss|DeadlineExceeded";
  assert.ok(
    byName.get("job:grpc_server_error_rate:ratio_rate5m")!.includes(`grpc_code=~"${serverCodes}"`),
  );
  assert.ok(
    byName.get("job:grpc_server_client_error_rate:ratio_rate5m")!.includes(
      `grpc_code!~"OK|${serverCodes}"`,
    ),
  );
});

Deno.test("every alert is tested both firing and silent", async () => {
  const cases = new Map<string, { firing: boolean; silent: boolean }>();
  for (const file of testFiles) {
    const doc = parseYamlMap(
      await readRequired(new URL(`tests/${file}`, PROMETHEUS_DIR), "promtool test"),
      file,
    );
    assert.deepEqual(doc.rule_files, RULE_FILES.map((f) => `../${f}`), `${file} rule_files`);
    for (const test of doc.tests as YamlMap[]) {
      for (const tc of (test.alert_rule_test ?? []) as YamlMap[]) {
        const seen = cases.get(String(tc.alertname)) ?? { firing: false, silent: false };
        const expected = (tc.exp_alerts ?? []) as unknown[];
        if (expected.length > 0) seen.firing = true;
        else seen.silent = true;
        cases.set(String(tc.alertname), seen);
      }
    }
  }
  for (const alert of Object.keys(MANUAL_ALERTS)) {
    assert.deepEqual(cases.get(alert), { firing: true, silent: true }, alert);
  }
});

Deno.test("the rules read only metrics that something exports", () => {
  const known = knownSeries(recording.map((r) => String(r.record)));
  for (const rule of [...recording, ...alerting]) {
    const unknown = metricNames(String(rule.expr)).filter((name) => !known.has(name));
    assert.deepEqual(unknown, [], `${rule.record ?? rule.alert}`);
  }
});

Deno.test("the services export the metrics the rules rely on", async () => {
  const metrics = new Metrics({ service: "contract-test" });
  const exported = new Set(
    (await metrics.registry.getMetricsAsJSON()).map((m: { name: string }) => m.name),
  );
  for (const name of SERVICE_METRICS) assert.ok(exported.has(name), `lib exports ${name}`);

  // Business, pool and outbox metrics are registered by name in the services and the lib.
  const sources: string[] = [];
  for (const dir of ["lib", "services"]) {
    for await (const file of walkTs(repoFile(`${dir}/`))) {
      sources.push(await Deno.readTextFile(file));
    }
  }
  const text = sources.join("\n");
  for (const name of COMPONENT_METRICS) {
    assert.ok(text.includes(`"${name}"`), `no source in lib/ or services/ registers ${name}`);
  }
});

async function* walkTs(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walkTs(url);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) yield url;
  }
}

Deno.test("the compose scrape config covers the services and both exporters", async () => {
  const config = parseYamlMap(
    await readRequired(new URL("prometheus.yml", PROMETHEUS_DIR), "scrape config"),
    "prometheus.yml",
  );
  const jobs = new Map((config.scrape_configs as YamlMap[]).map((j) => [j.job_name, j]));
  for (
    const [job, port] of [["userservice", 50051], ["taskservice", 50052], ["orchestrator", 50053]]
  ) {
    const sd = at(jobs.get(job), "dns_sd_configs", 0);
    assert.ok(isMap(sd), `${job}: one target per replica through DNS`);
    assert.deepEqual(sd.names, [job]);
    assert.equal(sd.port, port);
  }
  assert.ok(jobs.has("postgres-exporter") && jobs.has("redis-exporter"));
  assert.deepEqual(config.rule_files, RULE_FILES);
  // `for: 30s` needs a scrape interval short enough to see the target down twice.
  assert.equal(at(config, "global", "scrape_interval"), "15s");
});
