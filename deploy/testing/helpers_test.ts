/** The small readers the deployment tests stand on. */
import assert from "node:assert/strict";
import { execForm, parseDockerfile } from "./dockerfile.ts";
import { parseDurationMs } from "./durations.ts";
import { metricNames } from "./promql.ts";
import { parseYamlDocuments } from "./yaml_docs.ts";

Deno.test("metricNames finds metrics, not functions, keywords, labels or variables", () => {
  assert.deepEqual(
    metricNames(
      'histogram_quantile(0.95, sum by (job, le) (rate(x_bucket{grpc_type="unary"}[5m])))',
    ),
    ["x_bucket"],
  );
  assert.deepEqual(
    metricNames("(sum(rate(a[5m])) or b * 0) / on (job) group_left c > bool 1e3").sort(),
    ["a", "b", "c"],
  );
  assert.deepEqual(metricNames("sum(rate(tasks_created_total[$__rate_interval]))"), [
    "tasks_created_total",
  ]);
  assert.deepEqual(metricNames("job:foo:ratio_rate5m < 0.8"), ["job:foo:ratio_rate5m"]);
});

Deno.test("parseDurationMs reads compound durations and rejects others", () => {
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("20s"), 20_000);
  assert.throws(() => parseDurationMs("20"));
  assert.throws(() => parseDurationMs("5 m"));
});

Deno.test("parseDockerfile joins continued lines and skips comments", () => {
  const parsed = parseDockerfile('# c\nFROM x\nRUN a \\\n  # note\n  b\nCMD ["sh", "-c", "x"]\n');
  assert.deepEqual(parsed.map((i) => i.keyword), ["FROM", "RUN", "CMD"]);
  assert.equal(parsed[1].args, "a b");
  assert.deepEqual(execForm(parsed[2].args), ["sh", "-c", "x"]);
});

Deno.test("parseYamlDocuments rejects duplicate keys and keeps every document", () => {
  assert.equal(parseYamlDocuments("a: 1\n---\nb: 2\n---\n", "t").length, 2);
  assert.throws(() => parseYamlDocuments("a: 1\na: 2\n", "t"), /t: /);
});
