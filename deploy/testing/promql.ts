/**
 * Just enough PromQL reading to list the metric names an expression uses, so rules and
 * dashboards can be checked against the metrics that really exist.
 *
 * @module
 */

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "inf",
  "nan",
  // aggregation operators, written `sum by (job) (...)` as well as `sum(...)`
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
]);

/**
 * The metric names in a PromQL expression (functions, keywords, label names and Grafana
 * variables are left out).
 *
 * @example
 * ```ts
 * metricNames('sum by (job) (rate(up{job="a"}[5m]))'); // ["up"]
 * ```
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // range and subquery selectors
    .replace(/\$\{?\w+\}?/g, "") // Grafana variables ($__rate_interval, ${job})
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1")
    .replace(/#.*$/gm, "") // comments
    .replace(/(?<![\w:.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, ""); // numbers (1e3 is no metric)
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const [word, call] = [match[0], match[1]];
    if (call) continue; // a function
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^\d/.test(word)) continue;
    names.add(word);
  }
  return [...names];
}
