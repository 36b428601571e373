/**
 * Emergency: sessions idle in a transaction for too long (they hold locks and block VACUUM), and
 * their termination: the manual's `pg_terminate_backend(...) WHERE state = 'idle in transaction'`.
 *
 * @module
 */
import { OPS_APPLICATION_PREFIX, type Sql, withTimeout } from "../shared/db.ts";

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
 * Never includes our own session; includes the ops programs' (see {@link isOpsSession}), which
 * the caller must spare.
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
 * True for a session of the ops programs (`fp-ops-*`), e.g. a running backup's snapshot
 * session, idle in a transaction for the whole dump by design: terminating it would fail the
 * backup. terminate-idle and the doctor leave these alone.
 *
 * @example
 * ```ts
 * isOpsSession({ application: "fp-ops-backup" }); // true
 * ```
 */
export function isOpsSession(session: { application: string }): boolean {
  return session.application.startsWith(OPS_APPLICATION_PREFIX);
}

/**
 * Terminates sessions, but only those still idle in a transaction (one that woke up meanwhile is
 * left alone), and never a session of the ops programs. Returns per pid whether it was terminated.
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
        AND state_change < now() - make_interval(secs => ${olderThanMs / 1000})
        AND application_name NOT LIKE ${OPS_APPLICATION_PREFIX + "%"}`;
    results.push({ pid, terminated: rows[0]?.done === true });
  }
  return results;
}
