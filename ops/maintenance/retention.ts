/**
 * Retention of the tables that would otherwise grow forever, run by `deno task maintenance`
 * before its VACUUM (so the space is reclaimed in the same run):
 *
 * - the outboxes (`task_outbox`, `proposal_outbox`, `user_outbox`): rows published more than
 *   RETENTION_OUTBOX_DAYS (7) ago. The relay never reads them again (JetStream has the events;
 *   its duplicate window is minutes). Walked in `seq` order from the oldest, a batch at a time,
 *   up to the first rows younger than that, so each batch reads the batch (an old row the relay
 *   still owes is left for it);
 * - the orchestrator's rows of closed tasks (`match_tasks` CLOSED, their `proposals` and
 *   `match_task_terms`): those closed more than RETENTION_CLOSED_TASK_DAYS (365) ago, oldest
 *   first through idx_match_tasks_closed. A late event for such a task is long past.
 *
 * Each batch is its own transaction of at most RETENTION_BATCH rows (5000), so the deletes hold
 * no lock long and replicate in small pieces. 0 days turns a table's retention off. A task's
 * history (`task_transitions`) is kept: it is the task's record, and read per task by index.
 *
 * @module
 */
import type { Sql } from "../shared/db.ts";

/** How long rows are kept, and how many go in one batch. */
export interface RetentionSettings {
  /** Published outbox rows older than this many days go; 0 keeps them all. */
  outboxDays: number;
  /** The orchestrator's rows of tasks closed longer ago than this go; 0 keeps them all. */
  closedTaskDays: number;
  /** Rows deleted per transaction. */
  batch: number;
}

/** The outboxes retention trims. */
export const OUTBOX_TABLES = ["task_outbox", "proposal_outbox", "user_outbox"] as const;

/** What one table's retention deleted. */
export interface TableRetentionResult {
  /** The table trimmed. */
  table: string;
  /** Its rows deleted. */
  deleted: number;
  /** Rows of other tables deleted with them (the proposals and terms of closed tasks). */
  alsoDeleted?: Record<string, number>;
}

/**
 * Deletes the published outbox rows of `table` older than the retention, oldest first.
 *
 * @example
 * ```ts
 * const { deleted } = await trimOutbox(sql, "task_outbox", { outboxDays: 7, closedTaskDays: 365, batch: 5000 });
 * ```
 */
export async function trimOutbox(
  sql: Sql,
  table: (typeof OUTBOX_TABLES)[number],
  settings: RetentionSettings,
): Promise<TableRetentionResult> {
  let deleted = 0;
  if (settings.outboxDays <= 0) return { table, deleted };
  let after = 0n;
  for (;;) {
    // One batch along the seq index from where the last one ended: its old, published rows are
    // deleted (an old row the relay still owes stays); the walk stops at the batch that reaches
    // rows younger than the retention (seq follows time, so the rest are younger still).
    const [row] = await sql<{ deleted: number; young: number; last: bigint | null }[]>`
      WITH batch AS (
        SELECT id, seq, published_at,
               created_at >= now() - make_interval(days => ${settings.outboxDays}) AS young
        FROM ${sql(table)}
        WHERE seq > ${after.toString()}::int8
        ORDER BY seq
        LIMIT ${settings.batch}),
      gone AS (
        DELETE FROM ${sql(table)} t USING batch
        WHERE t.id = batch.id AND NOT batch.young AND batch.published_at IS NOT NULL
        RETURNING t.seq)
      SELECT (SELECT count(*)::int FROM gone) AS deleted,
             (SELECT count(*)::int FROM batch WHERE young) AS young,
             (SELECT max(seq) FROM batch) AS last`;
    deleted += row.deleted;
    if (row.young > 0 || row.last === null) break;
    after = BigInt(row.last);
  }
  return { table, deleted };
}

/**
 * Deletes the orchestrator's rows of tasks closed longer ago than the retention: the task's
 * `match_tasks` row, its proposals and its terms, oldest closed first, in batches.
 *
 * @example
 * ```ts
 * const result = await trimClosedTasks(sql, { outboxDays: 7, closedTaskDays: 365, batch: 5000 });
 * ```
 */
export async function trimClosedTasks(
  sql: Sql,
  settings: RetentionSettings,
): Promise<TableRetentionResult> {
  const result = {
    table: "match_tasks",
    deleted: 0,
    alsoDeleted: { proposals: 0, match_task_terms: 0 },
  };
  if (settings.closedTaskDays <= 0) return result;
  // Tasks per batch: a task has a few proposals and terms, so the batch of rows stays near
  // RETENTION_BATCH.
  const tasksPerBatch = Math.max(1, Math.floor(settings.batch / 4));
  for (;;) {
    const [row] = await sql<{ tasks: number; proposals: number; terms: number }[]>`
      WITH doomed AS (
        SELECT task_id FROM match_tasks
        WHERE state = 'CLOSED'
          AND updated_at < now() - make_interval(days => ${settings.closedTaskDays})
        ORDER BY updated_at
        LIMIT ${tasksPerBatch}
        FOR UPDATE SKIP LOCKED),
      p AS (DELETE FROM proposals WHERE task_id IN (SELECT task_id FROM doomed) RETURNING 1),
      t AS (DELETE FROM match_task_terms WHERE task_id IN (SELECT task_id FROM doomed)
            RETURNING 1),
      m AS (DELETE FROM match_tasks WHERE task_id IN (SELECT task_id FROM doomed) RETURNING 1)
      SELECT (SELECT count(*)::int FROM m) AS tasks, (SELECT count(*)::int FROM p) AS proposals,
             (SELECT count(*)::int FROM t) AS terms`;
    result.deleted += row.tasks;
    result.alsoDeleted.proposals += row.proposals;
    result.alsoDeleted.match_task_terms += row.terms;
    if (row.tasks < tasksPerBatch) break;
  }
  return result;
}

/** A line for the report: `1200 rows (and 3600 proposals, 1200 match_task_terms)`. */
export function describeRetention(result: TableRetentionResult, settingDays: number): string {
  if (settingDays <= 0) return "retention off (0 days)";
  const also = Object.entries(result.alsoDeleted ?? {}).map(([t, n]) => `${n} ${t}`);
  return `${result.deleted} rows older than ${settingDays} days deleted${
    also.length ? ` (and ${also.join(", ")})` : ""
  }`;
}
