/**
 * docs/operations.md tells operators what to run: every `deno task` it names must exist, every
 * metric it names must be exported (by the services, the exporters or a recording rule), and
 * every repository file it points to must be there.
 */
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { knownSeries } from "../../deploy/testing/metric_contract.ts";

const root = new URL("../../", import.meta.url);
const doc = await Deno.readTextFile(new URL("docs/operations.md", root));
const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks as Record<
  string,
  string
>;

Deno.test("every deno task the manual names exists", () => {
  const named = new Set([...doc.matchAll(/deno task ([\w:-]+)/g)].map((m) => m[1]));
  assert.ok(named.size >= 8, `only ${named.size} tasks named`);
  const missing = [...named].filter((name) => !(name in tasks));
  assert.deepEqual(missing, [], `tasks named in docs/operations.md but not in deno.json`);
});

Deno.test("every metric the manual names is exported or recorded", async () => {
  const recorded: string[] = [];
  for (const file of ["recording_rules.yml", "alerts.yml"]) {
    const rules = parseYaml(await Deno.readTextFile(new URL(`deploy/prometheus/${file}`, root)));
    for (const group of rules.groups ?? []) {
      for (const rule of group.rules ?? []) if (rule.record) recorded.push(rule.record);
    }
  }
  const known = knownSeries(recorded);
  const blocks = [...doc.matchAll(/```prometheus\n([\s\S]*?)```/g)].map((m) => m[1]).join("\n");
  const tables = [...doc.matchAll(/^\| `([A-Z]\w+)` \| `([^`]+)`/gm)].map((m) => m[2]).join("\n");
  const inText = [...doc.matchAll(/`([a-z][a-z0-9]*(?:_[a-z0-9]+)+)`/g)].map((m) => m[1])
    .filter((name) => /_(total|seconds|bytes|count|percent|backlog|requests)$/.test(name))
    .join("\n");
  const source = `${blocks}\n${tables}\n${inText}`.replace(/#.*$/gm, "").replace(/\{[^}]*\}/g, "");
  const identifiers = new Set(
    [...source.matchAll(/\b([a-z_:][a-z0-9_:]*)\b(?!\s*\()/g)].map((m) => m[1]),
  );
  const promql = new Set(["by", "without", "le", "job", "rate", "sum", "on", "and", "or"]);
  // Named only to say what replaces them (the Go build's metrics).
  const goOriginals = new Set(["go_memstats_alloc_bytes", "go_goroutines"]);
  const candidates = [...identifiers].filter((name) =>
    !promql.has(name) && !goOriginals.has(name) && (name.includes("_") || name === "up")
  );
  const unknown = candidates.filter((name) => !known.has(name));
  assert.deepEqual(unknown, [], "metrics named in docs/operations.md that nothing exports");
});

Deno.test("every repository path the manual points to exists", async () => {
  const paths = new Set(
    [...doc.matchAll(/`((?:deploy|bench|tools|docs|ops|services|lib)\/[\w./*-]+)`/g)].map((m) =>
      m[1]
    )
      .concat([...doc.matchAll(/\]\(([\w.-]+\.md)\)/g)].map((m) => `docs/${m[1]}`)),
  );
  for (const path of paths) {
    const glob = path.includes("*") ? path.slice(0, path.lastIndexOf("/")) : path;
    await Deno.stat(new URL(glob, root)).catch(() => assert.fail(`${path} does not exist`));
  }
});
