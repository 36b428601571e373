/**
 * deploy/grafana/freelance-platform.json: a dashboard Grafana can import, whose queries read
 * only metrics that the services, the exporters or the recording rules provide.
 */
import assert from "node:assert/strict";
import { knownSeries } from "./testing/metric_contract.ts";
import { DEPLOY_DIR, readRequired } from "./testing/paths.ts";
import { metricNames } from "./testing/promql.ts";
import { parseYamlMap, type YamlMap } from "./testing/yaml_docs.ts";

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(
  await readRequired(new URL("grafana/freelance-platform.json", DEPLOY_DIR), "the dashboard"),
);
const panels = dashboard.panels as Panel[];
const recording = parseYamlMap(
  await readRequired(new URL("prometheus/recording_rules.yml", DEPLOY_DIR), "recording rules"),
  "recording_rules.yml",
);
const recorded = (recording.groups as YamlMap[])
  .flatMap((g) => g.rules as YamlMap[])
  .map((r) => String(r.record));

Deno.test("the dashboard has an id, a data source variable and unique panels", () => {
  assert.equal(dashboard.uid, "freelance-platform");
  assert.ok(dashboard.title);
  const variables = dashboard.templating.list as { name: string; type: string }[];
  assert.ok(variables.some((v) => v.name === "datasource" && v.type === "datasource"));
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
});

Deno.test("panels do not overlap on the grid", () => {
  const cells = new Map<string, string>();
  for (const panel of panels) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        assert.equal(other, undefined, `${panel.title} overlaps ${other}`);
        cells.set(`${i},${j}`, panel.title);
      }
    }
  }
});

Deno.test("every query uses the data source variable and reads metrics that exist", () => {
  const known = knownSeries(recorded);
  const queried = new Set<string>();
  for (const panel of panels.filter((p) => p.type !== "row")) {
    assert.equal(panel.datasource?.uid, "${datasource}", panel.title);
    assert.ok(panel.targets?.length, `${panel.title} has queries`);
    for (const target of panel.targets ?? []) {
      assert.equal(target.datasource?.uid, "${datasource}", panel.title);
      const unknown = metricNames(target.expr).filter((name) => !known.has(name));
      assert.deepEqual(unknown, [], `${panel.title}: ${target.expr}`);
      metricNames(target.expr).forEach((name) => queried.add(name));
    }
  }
  // The manual's key metrics are on it.
  for (
    const name of [
      "job:grpc_server_handled:rate5m",
      "job:grpc_server_error_rate:ratio_rate5m",
      "job:grpc_server_handling_seconds:p95_rate5m",
      "grpc_server_active_connections",
      "tasks_created_total",
      "job:matching_success_rate:ratio_rate5m",
      "users_online_count",
      "job:proposal_response_time_seconds:p95_rate5m",
      "pg_connections_active",
      "redis_memory_used_bytes",
      "container_cpu_usage_percent",
      "container_memory_usage_percent",
    ]
  ) {
    assert.ok(queried.has(name), `the dashboard shows ${name}`);
  }
});
