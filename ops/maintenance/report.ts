/**
 * The maintenance report as text: steps, bloat table, index usage, problems.
 *
 * @module
 */
import { formatBytes, formatCount, formatDuration } from "../shared/format.ts";
import { renderTable } from "../shared/table.ts";
import type { MaintenanceReport } from "./run_maintenance.ts";

/**
 * Renders the report for a terminal or a log.
 *
 * @example
 * ```ts
 * output.line(renderMaintenanceReport(report));
 * ```
 */
export function renderMaintenanceReport(report: MaintenanceReport): string {
  const parts: string[] = [];
  parts.push(`Maintenance of ${report.database}`);
  parts.push(
    renderTable(
      [{ header: "step" }, { header: "result" }, { header: "time", align: "right" }, {
        header: "detail",
      }],
      report.steps.map((
        s,
      ) => [s.step, s.status, s.status === "skipped" ? "" : formatDuration(s.ms), s.detail ?? ""]),
    ),
  );
  const before = new Map(report.bloatBefore.map((row) => [row.table, row]));
  parts.push("\nBloat (dead tuples per table, before and after VACUUM):");
  parts.push(
    renderTable(
      [
        { header: "table" },
        { header: "size", align: "right" },
        { header: "live rows", align: "right" },
        { header: "dead before", align: "right" },
        { header: "dead % before", align: "right" },
        { header: "dead after", align: "right" },
        { header: "dead % after", align: "right" },
      ],
      report.bloatAfter.map((row) => {
        const old = before.get(row.table);
        const pct = (
          n: number | null | undefined,
        ) => (n === null || n === undefined ? "-" : `${n.toFixed(2)}%`);
        return [
          row.table,
          formatBytes(row.sizeBytes),
          formatCount(row.liveRows),
          old ? formatCount(old.deadRows) : "-",
          pct(old?.deadPercent),
          formatCount(row.deadRows),
          pct(row.deadPercent),
        ];
      }),
    ),
  );
  parts.push("\nIndex usage (since statistics were last reset):");
  parts.push(
    renderTable(
      [
        { header: "index" },
        { header: "table" },
        { header: "scans", align: "right" },
        { header: "tuples read", align: "right" },
        { header: "size", align: "right" },
        { header: "note" },
      ],
      report.indexes.map((i) => [
        i.index,
        i.table,
        formatCount(i.scans),
        formatCount(i.tuplesRead),
        formatBytes(i.sizeBytes),
        !i.valid ? "INVALID" : i.scans === 0 && !i.unique ? "unused" : "",
      ]),
    ),
  );
  if (report.problems.length === 0) {
    parts.push("\nNo problems found. Database maintenance completed.");
  } else {
    parts.push(`\n${report.problems.length} problem(s):`);
    for (const p of report.problems) parts.push(`  - ${p.problem}\n    action: ${p.action}`);
  }
  return parts.join("\n");
}
