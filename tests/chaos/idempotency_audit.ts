/**
 * What CreateTask's idempotency keys did under faults: every load task carries its key in its
 * description (tests/chaos/load.ts), so the tasks stored per key are counted in PostgreSQL. A key
 * with more than one task is a duplicate (a retry that created again: the bar is 0); tasks
 * stored for keys whose call ended in an error are reported (the call's outcome was unknown to
 * its client: the figure issue 21 asked to see). An attempt answered `unavailable` promised
 * that nothing was done: one whose key was stored while it ran broke that promise (bar: 0).
 *
 * @module
 */
import postgres from "postgres";

/** The figures. */
export interface IdempotencyFigures {
  /** Keys the load used that have a task. */
  keysStored: number;
  /** Keys with more than one task (the bar: 0). */
  duplicatedKeys: number;
  /** Calls that ended in an error (after their retries). */
  erroredCalls: number;
  /** Of those, calls whose task was stored all the same. */
  storedForErrors: number;
  /** Attempts answered `unavailable`. */
  unavailableAnswers: number;
  /**
   * Of those, attempts whose task was stored while they ran: `unavailable` although the work was
   * done (the bar: 0).
   */
  unavailableButDone: number;
}

/**
 * Counts the load's tasks per key.
 *
 * @example
 * ```ts
 * const figures = await auditIdempotency(platform.databaseUrl, load.keys.errored);
 * ```
 */
export async function auditIdempotency(
  databaseUrl: string,
  erroredKeys: ReadonlySet<string>,
  unavailable: ReadonlyArray<{ key: string; from: number; to: number }> = [],
): Promise<IdempotencyFigures> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ key: string; n: number }[]>`
      SELECT substring(description FROM 'key ([0-9a-f-]{36})$') AS key, count(*)::int AS n
      FROM tasks WHERE description LIKE 'created under faults; key %'
      GROUP BY 1`;
    const claimed = new Map(
      (await sql<{ key: string; at: Date }[]>`
        SELECT key, created_at AS at FROM task_idempotency_keys
        WHERE key = ANY(${[...new Set(unavailable.map((u) => u.key))]}::text[])`)
        .map((r) => [r.key, r.at.getTime()]),
    );
    const unavailableButDone = unavailable.filter((u) => {
      const at = claimed.get(u.key);
      return at !== undefined && at >= u.from - 5 && at <= u.to;
    }).length;
    return {
      unavailableAnswers: unavailable.length,
      unavailableButDone,
      keysStored: rows.length,
      duplicatedKeys: rows.filter((r) => r.n > 1).length,
      erroredCalls: erroredKeys.size,
      storedForErrors: rows.filter((r) => erroredKeys.has(r.key)).length,
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * One line for the report.
 *
 * @example
 * ```ts
 * console.log(describeIdempotency(figures, load.keys.retries));
 * ```
 */
export function describeIdempotency(figures: IdempotencyFigures, retries: number): string {
  return `idempotency: ${retries} CreateTask retries with the same key, ${figures.keysStored} ` +
    `keys stored, ${figures.duplicatedKeys} keys with more than one task, ` +
    `${figures.erroredCalls} calls ended in an error of which ${figures.storedForErrors} ` +
    `were stored all the same, ${figures.unavailableAnswers} answers "unavailable" of which ` +
    `${figures.unavailableButDone} had been done`;
}
