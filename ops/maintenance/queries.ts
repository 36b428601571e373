/**
 * The statistics maintenance reports on: dead tuples per table (the manual's bloat report, with
 * its `tablename` column fixed to pg_stat_user_tables' `relname`) and index usage.
 *
 * @module
 */
import type { Sql } from "../shared/db.ts";

/** One table's bloat line. */
export interface BloatRow {
  /** The table's name. */
  table: string;
  /** Its total size on disk (indexes and TOAST included). */
  sizeBytes: number;
  /** Live tuples, as the statistics estimate. */
  liveRows: number;
  /** Dead tuples waiting for vacuum. */
  deadRows: number;
  /** Dead tuples as a percentage of all tuples (null for an empty table). */
  deadPercent: number | null;
  /** When it was last vacuumed by hand, ISO 8601; null if never. */
  lastVacuum: string | null;
  /** When autovacuum last vacuumed it, ISO 8601; null if never. */
  lastAutovacuum: string | null;
  /** When it was last analyzed by hand, ISO 8601; null if never. */
  lastAnalyze: string | null;
}

/**
 * Dead tuples per table, most bloated first.
 *
 * @example
 * ```ts
 * const rows = await bloatReport(sql); // [{ table: "tasks", deadPercent: 12.5, ... }, ...]
 * ```
 */
export async function bloatReport(sql: Sql): Promise<BloatRow[]> {
  const rows = await sql<
    {
      schema: string;
      name: string;
      size: string;
      live: string;
      dead: string;
      pct: string | null;
      last_vacuum: Date | null;
      last_autovacuum: Date | null;
      last_analyze: Date | null;
    }[]
  >`
    SELECT schemaname AS schema, relname AS name, pg_total_relation_size(relid) AS size,
           n_live_tup AS live, n_dead_tup AS dead,
           CASE WHEN n_live_tup + n_dead_tup > 0
                THEN round(100.0 * n_dead_tup / (n_live_tup + n_dead_tup), 2) END AS pct,
           last_vacuum, last_autovacuum, greatest(last_analyze, last_autoanalyze) AS last_analyze
    FROM pg_stat_user_tables
    ORDER BY pct DESC NULLS LAST, pg_total_relation_size(relid) DESC, relname`;
  return rows.map((r) => ({
    table: r.schema === "public" ? r.name : `${r.schema}.${r.name}`,
    sizeBytes: Number(r.size),
    liveRows: Number(r.live),
    deadRows: Number(r.dead),
    deadPercent: r.pct === null ? null : Number(r.pct),
    lastVacuum: r.last_vacuum?.toISOString() ?? null,
    lastAutovacuum: r.last_autovacuum?.toISOString() ?? null,
    lastAnalyze: r.last_analyze?.toISOString() ?? null,
  }));
}

/** One index's usage line. */
export interface IndexUsageRow {
  /** The index's name. */
  index: string;
  /** Its table. */
  table: string;
  /** Index scans since the statistics were reset. */
  scans: number;
  /** Index entries returned by those scans. */
  tuplesRead: number;
  /** Live table rows fetched through it. */
  tuplesFetched: number;
  /** Its size on disk. */
  sizeBytes: number;
  /** Whether it is a unique (or primary key) index. */
  unique: boolean;
  /** False for an index a failed CREATE INDEX CONCURRENTLY left invalid. */
  valid: boolean;
}

/**
 * Every user index with its scans since the statistics were reset, largest first.
 *
 * @example
 * ```ts
 * const unused = (await indexUsage(sql)).filter((i) => i.scans === 0 && !i.unique);
 * ```
 */
export async function indexUsage(sql: Sql): Promise<IndexUsageRow[]> {
  const rows = await sql<
    {
      schema: string;
      table_name: string;
      index_name: string;
      scans: string;
      tup_read: string;
      tup_fetch: string;
      size: string;
      is_unique: boolean;
      is_valid: boolean;
    }[]
  >`
    SELECT s.schemaname AS schema, s.relname AS table_name, s.indexrelname AS index_name,
           s.idx_scan AS scans, s.idx_tup_read AS tup_read, s.idx_tup_fetch AS tup_fetch,
           pg_relation_size(s.indexrelid) AS size,
           (i.indisunique OR i.indisprimary) AS is_unique, i.indisvalid AS is_valid
    FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
    ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname`;
  return rows.map((r) => ({
    index: r.schema === "public" ? r.index_name : `${r.schema}.${r.index_name}`,
    table: r.table_name,
    scans: Number(r.scans),
    tuplesRead: Number(r.tup_read),
    tuplesFetched: Number(r.tup_fetch),
    sizeBytes: Number(r.size),
    unique: r.is_unique,
    valid: r.is_valid,
  }));
}

/**
 * The size of an index in bytes, or undefined when it does not exist.
 *
 * @example
 * ```ts
 * await indexSize(sql, "idx_users_skill_tags_gin"); // 16384
 * ```
 */
export async function indexSize(sql: Sql, name: string): Promise<number | undefined> {
  const rows = await sql<{ size: string }[]>`
    SELECT pg_relation_size(c.oid) AS size FROM pg_class c
    WHERE c.relkind = 'i' AND c.relname = ${name} AND pg_table_is_visible(c.oid)`;
  return rows.length === 0 ? undefined : Number(rows[0].size);
}
