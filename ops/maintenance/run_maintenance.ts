/**
 * The manual's daily-maintenance.sh as one run: retention (retention.ts: old published outbox
 * rows, the orchestrator's rows of long-closed tasks), ANALYZE, VACUUM (ANALYZE), the bloat report
 * (before and after the vacuum), index usage, and REINDEX INDEX CONCURRENTLY of the skill-tags GIN
 * index when asked or in the configured hour. A failed step is reported and the others still run.
 *
 * @module
 */
import { type Sql, withTimeout } from "../shared/db.ts";
import { errorMessage } from "../shared/errors.ts";
import {
  bloatReport,
  type BloatRow,
  indexSize,
  indexUsage,
  type IndexUsageRow,
} from "./queries.ts";
import {
  describeRetention,
  OUTBOX_TABLES,
  type RetentionSettings,
  trimClosedTasks,
  trimOutbox,
} from "./retention.ts";

/** The index the manual reindexes. */
export const SKILL_TAGS_INDEX = "idx_users_skill_tags_gin";

/** A table with more dead tuples than this (in %) is flagged. */
export const BLOAT_WARN_PERCENT = 20;

/** One step's outcome. */
export interface StepResult {
  /** The step, e.g. `VACUUM (ANALYZE)`. */
  step: string;
  /** Whether it ran, failed or was skipped. */
  status: "ok" | "failed" | "skipped";
  /** How long it took, in milliseconds. */
  ms: number;
  /** The error, or why it was skipped. */
  detail?: string;
}

/** The full maintenance report. */
export interface MaintenanceReport {
  /** The database maintained. */
  database: string;
  /** When maintenance started, ISO 8601 UTC. */
  startedAt: string;
  /** Each step's outcome, in order. */
  steps: StepResult[];
  /** Dead tuples per table before the steps. */
  bloatBefore: BloatRow[];
  /** Dead tuples per table after the steps. */
  bloatAfter: BloatRow[];
  /** Index usage, after the steps. */
  indexes: IndexUsageRow[];
  /** Findings an operator should act on, each with the manual's suggested action. */
  problems: { problem: string; action: string }[];
}

/** When to reindex: always, never, or only in the configured hour. */
export type ReindexMode = "yes" | "no" | "auto";

/** Options of {@link runMaintenance}. */
export interface MaintenanceOptions {
  /** A connection to the database to maintain. */
  sql: Sql;
  /** Its name, for the report. */
  database: string;
  /** Whether to rebuild the skill tags index (`REINDEX INDEX CONCURRENTLY`). */
  reindex: ReindexMode;
  /** The hour (0-23, local time) in which "auto" reindexes. */
  reindexHour: number;
  /** The clock (default: the system's), for the report and the reindex hour. */
  now?: () => Date;
  /** Called as each step starts (progress for terminals). */
  onStep?: (step: string) => void;
  /** What to delete before the vacuum (retention.ts); absent: nothing. */
  retention?: RetentionSettings;
}

/**
 * Runs maintenance and returns the report (never throws for a failed step).
 *
 * @example
 * ```ts
 * const report = await runMaintenance({ sql, database: "freelance_platform", reindex: "auto", reindexHour: 3 });
 * ```
 */
export async function runMaintenance(options: MaintenanceOptions): Promise<MaintenanceReport> {
  const { sql } = options;
  const now = options.now ?? (() => new Date());
  const steps: StepResult[] = [];
  const problems: MaintenanceReport["problems"] = [];

  const step = async (name: string, work: () => Promise<string | void>) => {
    options.onStep?.(name);
    const started = performance.now();
    try {
      const detail = await work();
      steps.push({
        step: name,
        status: "ok",
        ms: performance.now() - started,
        detail: detail || undefined,
      });
    } catch (error) {
      steps.push({
        step: name,
        status: "failed",
        ms: performance.now() - started,
        detail: errorMessage(error),
      });
      problems.push({
        problem: `${name} failed: ${errorMessage(error)}`,
        action: "check the PostgreSQL log and re-run deno task maintenance",
      });
    }
  };

  const bloatBefore = await withTimeout(bloatReport(sql), 60_000, "bloat report");
  const retention = options.retention;
  if (retention) {
    for (const table of OUTBOX_TABLES) {
      await step(`retention ${table}`, async () => {
        return describeRetention(await trimOutbox(sql, table, retention), retention.outboxDays);
      });
    }
    await step("retention closed tasks", async () => {
      return describeRetention(await trimClosedTasks(sql, retention), retention.closedTaskDays);
    });
  }
  await step("ANALYZE", async () => {
    await sql.unsafe("ANALYZE");
  });
  await step("VACUUM (ANALYZE)", async () => {
    await sql.unsafe("VACUUM (ANALYZE)");
  });

  const reindexName = `REINDEX INDEX CONCURRENTLY ${SKILL_TAGS_INDEX}`;
  const hour = now().getHours();
  const size = await indexSize(sql, SKILL_TAGS_INDEX);
  if (size === undefined) {
    steps.push({ step: reindexName, status: "skipped", ms: 0, detail: "index does not exist" });
    problems.push({
      problem: `index ${SKILL_TAGS_INDEX} is missing (skill searches scan the whole users table)`,
      action: `CREATE INDEX CONCURRENTLY ${SKILL_TAGS_INDEX} ON users USING gin(skill_tags);`,
    });
  } else if (
    options.reindex === "yes" || (options.reindex === "auto" && hour === options.reindexHour)
  ) {
    await step(reindexName, async () => {
      await sql.unsafe(`REINDEX INDEX CONCURRENTLY ${SKILL_TAGS_INDEX}`);
      const after = await indexSize(sql, SKILL_TAGS_INDEX);
      const why = options.reindex === "yes"
        ? "asked with --reindex"
        : `hour ${hour} is MAINTENANCE_REINDEX_HOUR`;
      return `${why}; ${size} -> ${after} bytes`;
    });
  } else {
    steps.push({
      step: reindexName,
      status: "skipped",
      ms: 0,
      detail: options.reindex === "no"
        ? "--no-reindex"
        : `runs at hour ${options.reindexHour} (MAINTENANCE_REINDEX_HOUR), now ${hour}; --reindex forces it`,
    });
  }

  const bloatAfter = await withTimeout(bloatReport(sql), 60_000, "bloat report");
  const indexes = await withTimeout(indexUsage(sql), 60_000, "index usage");
  for (const row of bloatAfter) {
    if (row.deadPercent !== null && row.deadPercent > BLOAT_WARN_PERCENT && row.deadRows > 1000) {
      problems.push({
        problem: `${row.table} still has ${row.deadPercent}% dead tuples after VACUUM ` +
          "(a long transaction may hold them)",
        action: "deno task doctor (look for idle-in-transaction sessions), then VACUUM again",
      });
    }
  }
  for (const index of indexes.filter((i) => !i.valid)) {
    problems.push({
      problem:
        `index ${index.index} on ${index.table} is INVALID (a failed CREATE/REINDEX CONCURRENTLY)`,
      action: index.index.endsWith("_ccnew") || index.index.endsWith("_ccold")
        ? `DROP INDEX CONCURRENTLY ${index.index};`
        : `REINDEX INDEX CONCURRENTLY ${index.index};`,
    });
  }
  return {
    database: options.database,
    startedAt: now().toISOString(),
    steps,
    bloatBefore,
    bloatAfter,
    indexes,
    problems,
  };
}
