/**
 * Emergency: sessions idle in a transaction for too long (they hold locks and block VACUUM), and
 * their termination: the manual's `pg_terminate_backend(...) WHERE state = 'idle in transaction'`.
 *
 * @module
 */
import { type Sql, withTimeout } from "../shared/db.ts";

/** A session idle in a transaction. */
export interface IdleSession {
  pid: number;
  user: string;
  application: string;
  client: string | null;
  database: string;
  idleSeconds: number;
  transactionSeconds: number;
  lastQuery: string;
}

/**
 * Sessions idle in a transaction for longer than `olderThanMs` (since their last statement
 * ended), oldest first: those of the connected database, or of every database when `allDatabases`.
 * Never includes our own.
 *
 * @example
 * ```ts
 * const sessions = await findIdleInTransaction(sql, 3_600_000);
 * ```
 */
export async function findIdleInTransaction(
  sql: Sql,
  olderThanMs: number,
  allDatabases = false,
): Promise<IdleSession[]> {
  const rows = await withTimeout(
    sql<
      {
        pid: number;
        user: string | null;
        app: string;
        client: string | null;
        db: string | null;
        idle: string;
        xact: string;
        query: string;
      }[]
    >`
      SELECT pid, usename AS user, application_name AS app, host(client_addr) AS client,
             datname AS db, extract(epoch FROM now() - state_change)::int AS idle,
             extract(epoch FROM now() - xact_start)::int AS xact, query
      FROM pg_stat_activity
      WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
        AND state_change < now() - make_interval(secs => ${olderThanMs / 1000})
        AND pid <> pg_backend_pid()
        AND (${allDatabases} OR datname = current_database())
      ORDER BY state_change`,
    10_000,
    "PostgreSQL",
  );
  return rows.map((r) => ({
    pid: r.pid,
    user: r.user ?? "",
    application: r.app,
    client: r.client,
    database: r.db ?? "",
    idleSeconds: Number(r.idle),
    transactionSeconds: Number(r.xact),
    lastQuery: r.query,
  }));
}

/**
 * Terminates sessions, but only those still idle in a transaction (one that woke up meanwhile is
 * left alone). Returns per pid whether it was terminated.
 *
 * @example
 * ```ts
 * await terminateIdle(sql, [12345], 3_600_000);
 * ```
 */
export async function terminateIdle(
  sql: Sql,
  pids: number[],
  olderThanMs: number,
): Promise<{ pid: number; terminated: boolean }[]> {
  const results: { pid: number; terminated: boolean }[] = [];
  for (const pid of pids) {
    const rows = await sql<{ done: boolean }[]>`
      SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
      WHERE pid = ${pid}
        AND state IN ('idle in transaction', 'idle in transaction (aborted)')
        AND state_change < now() - make_interval(secs => ${olderThanMs / 1000})`;
    results.push({ pid, terminated: rows[0]?.done === true });
  }
  return results;
}
