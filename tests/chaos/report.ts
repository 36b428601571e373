/**
 * The chaos suite's closing table and verdict.
 *
 * @module
 */
import type { FaultResult } from "./runner.ts";

/**
 * The results as a fixed-width table with a totals line.
 *
 * @example
 * ```ts
 * console.log(resultsTable(results));
 * ```
 */
export function resultsTable(results: FaultResult[]): string {
  const header = [
    "fault",
    "acked",
    "stored",
    "ev.unique",
    "ev.dup",
    "ev.missing",
    "proposals",
    "prop.dup",
    "stranded",
    "recover s",
    "health",
    "exits",
    "result",
  ];
  const rows = results.map((r) => [
    r.fault,
    String(r.acknowledged),
    String(r.stored),
    String(r.eventsUnique),
    String(r.eventsDuplicated + r.eventIdsDuplicated),
    String(r.eventsMissing),
    String(r.proposals),
    String(r.proposalsDuplicated + r.proposalEventsMissing),
    String(r.strandedTasks + r.strandedAccepts),
    Number.isFinite(r.recoverySeconds) ? r.recoverySeconds.toFixed(2) : "never",
    r.health === "yes" ? "ok" : r.health === "n/a" ? "-" : "WRONG",
    String(r.exits),
    r.problems.length === 0 ? "ok" : "FAIL",
  ]);
  const sum = (f: (r: FaultResult) => number) => String(results.reduce((n, r) => n + f(r), 0));
  rows.push([
    "total",
    sum((r) => r.acknowledged),
    sum((r) => r.stored),
    sum((r) => r.eventsUnique),
    sum((r) => r.eventsDuplicated + r.eventIdsDuplicated),
    sum((r) => r.eventsMissing),
    sum((r) => r.proposals),
    sum((r) => r.proposalsDuplicated + r.proposalEventsMissing),
    sum((r) => r.strandedTasks + r.strandedAccepts),
    Math.max(...results.map((r) => r.recoverySeconds)).toFixed(2),
    results.every((r) => r.health === "yes" || r.health === "n/a") ? "ok" : "WRONG",
    sum((r) => r.exits),
    results.every((r) => r.problems.length === 0) ? "ok" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
