/**
 * Doctor: the slowest statements from pg_stat_statements (the manual's slow-query check), or how
 * to enable the extension when it is absent.
 *
 * @module
 */
import { type Sql, withTimeout } from "../../shared/db.ts";
import { formatCount, oneLine } from "../../shared/format.ts";
import type { Finding } from "../finding.ts";

/** A statement slower than this on average is flagged (the manual's p95 > 1s alert). */
export const SLOW_MEAN_MS = 1000;

/**
 * The top statements by mean time; warn when one averages over {@link SLOW_MEAN_MS}.
 *
 * @example
 * ```ts
 * const finding = await checkSlowQueries(sql);
 * ```
 */
export async function checkSlowQueries(sql: Sql, limit = 5): Promise<Finding> {
  const [state] = await withTimeout(
    sql<{ installed: boolean; preloaded: string; num: string }[]>`
      SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed,
             current_setting('shared_preload_libraries') AS preloaded,
             current_setting('server_version_num') AS num`,
    10_000,
    "pg_stat_statements",
  );
  const preloaded = state.preloaded.split(",").map((s) => s.trim()).includes("pg_stat_statements");
  if (!state.installed || !preloaded) {
    return {
      group: "database",
      check: "slow queries",
      status: "info",
      summary: "pg_stat_statements is not enabled, so slow queries cannot be listed",
      details: preloaded
        ? [
          "the library is loaded; create the extension in this database:",
          "  CREATE EXTENSION pg_stat_statements;",
        ]
        : [
          "1. load it: shared_preload_libraries = 'pg_stat_statements' in postgresql.conf",
          "   (compose: command: postgres -c shared_preload_libraries=pg_stat_statements)",
          "2. restart PostgreSQL",
          "3. CREATE EXTENSION pg_stat_statements;",
        ],
      data: { installed: state.installed, preloaded },
    };
  }
  // PostgreSQL 13 renamed mean_time/total_time (the manual's names) to *_exec_time.
  const [mean, total] = Number(state.num) >= 130000
    ? ["mean_exec_time", "total_exec_time"]
    : ["mean_time", "total_time"];
  // Maintenance and dumps are slow by nature: not what this check is about.
  const rows = await withTimeout(
    sql.unsafe<{ query: string; calls: string; mean_ms: number; total_ms: number }[]>(
      `SELECT query, calls, ${mean} AS mean_ms, ${total} AS total_ms
       FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND query !~* '^\\s*(vacuum|analyze|reindex|create|copy|alter|drop|begin|commit|set|show)\\M'
       ORDER BY ${mean} DESC LIMIT $1`,
      [limit],
    ),
    10_000,
    "pg_stat_statements",
  );
  const slow = rows.filter((r) => r.mean_ms > SLOW_MEAN_MS);
  return {
    group: "database",
    check: "slow queries",
    status: slow.length > 0 ? "warn" : "ok",
    summary: slow.length > 0
      ? `${slow.length} statement(s) average over ${SLOW_MEAN_MS}ms`
      : rows.length > 0
      ? `slowest statement averages ${rows[0].mean_ms.toFixed(1)}ms`
      : "no statements recorded yet",
    details: rows.map((r) =>
      `${r.mean_ms.toFixed(1)}ms mean x ${formatCount(Number(r.calls))} calls: ${
        oneLine(r.query, 90)
      }`
    ),
    data: rows.map((r) => ({ ...r, calls: Number(r.calls) })),
    action: slow.length === 0 ? undefined : [
      "EXPLAIN ANALYZE the statement; add the index it lacks (CREATE INDEX CONCURRENTLY ...)",
      "deno task maintenance (fresh statistics, less bloat)",
    ],
  };
}
