/**
 * Emergency: sessions idle in a transaction for too long (they hold locks and block VACUUM), and
 * their termination: the manual's `pg_terminate_backend(...) WHERE state = 'idle in transaction'`.
 *
 * @module
 */
import {
  OPS_APPLICATION_PREFIX,
  OPS_SESSION_SPARE_MS,
  type Sql,
  withTimeout,
} from "../shared/db.ts";

/** A session idle in a transaction. */
export interface IdleSession {
  /** The backend's process id (what gets terminated). */
  pid: number;
  /** The role it is connected as. */
  user: string;
  /** Its `application_name` (`fp-ops-*` for the ops programs). */
  application: string;
  /** The client's address; null for a Unix socket. */
  client: string | null;
  /** The database it is connected to. */
  database: string;
  /** Seconds since its last statement ended. */
  idleSeconds: number;
  /** Seconds since its transaction began. */
  transactionSeconds: number;
  /** The text of its last statement. */
  lastQuery: string;
}

/**
 * Sessions idle in a transaction for longer than `olderThanMs` (since their last statement
 * ended), oldest first: those of the connected database, or of every database when `allDatabases`.
 * Never includes our own session; includes the ops programs' (see {@link isOpsSession}), which
 * the caller decides about (see {@link isSparedOpsSession}).
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
             floor(extract(epoch FROM now() - xact_start))::int AS xact, query
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
 * session, idle in a transaction for the whole dump by design. Only a name: any client can set
 * it, so it spares a session only for a while (see {@link isSparedOpsSession}).
 *
 * @example
 * ```ts
 * isOpsSession({ application: "fp-ops-backup" }); // true
 * ```
 */
export function isOpsSession(session: { application: string }): boolean {
  return session.application.startsWith(OPS_APPLICATION_PREFIX);
}

/** Which ops sessions terminate-idle spares. */
export interface SpareOpsOptions {
  /** Spare ops sessions whose transaction is younger than this (default 6h). */
  spareOpsForMs?: number;
  /** Spare none: terminate ops sessions like any other. */
  includeOps?: boolean;
}

/**
 * True for an ops program's session that terminate-idle leaves alone: one whose transaction is
 * younger than `spareOpsForMs` (terminating a running backup's snapshot would fail it). An older
 * one is presumed stuck (pg_dump hung, backup host cut off) and is terminated like any other, as
 * is every one with `includeOps`.
 *
 * @example
 * ```ts
 * isSparedOpsSession({ application: "fp-ops-backup", transactionSeconds: 60 }); // true
 * ```
 */
export function isSparedOpsSession(
  session: { application: string; transactionSeconds: number },
  options: SpareOpsOptions = {},
): boolean {
  if (options.includeOps || !isOpsSession(session)) return false;
  return session.transactionSeconds * 1000 < (options.spareOpsForMs ?? OPS_SESSION_SPARE_MS);
}

/**
 * Terminates sessions, but only those still idle in a transaction (one that woke up meanwhile is
 * left alone), and never an ops program's session still within its grace (see
 * {@link isSparedOpsSession}). Returns per pid whether it was terminated.
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
  options: SpareOpsOptions = {},
): Promise<{ pid: number; terminated: boolean }[]> {
  const includeOps = options.includeOps === true;
  const spareSeconds = (options.spareOpsForMs ?? OPS_SESSION_SPARE_MS) / 1000;
  const results: { pid: number; terminated: boolean }[] = [];
  for (const pid of pids) {
    const rows = await sql<{ done: boolean }[]>`
      SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
      WHERE pid = ${pid}
        AND state IN ('idle in transaction', 'idle in transaction (aborted)')
        AND state_change < now() - make_interval(secs => ${olderThanMs / 1000})
        AND (${includeOps}
          OR left(application_name, ${OPS_APPLICATION_PREFIX.length}) <> ${OPS_APPLICATION_PREFIX}
          OR xact_start <= now() - make_interval(secs => ${spareSeconds}))`;
    results.push({ pid, terminated: rows[0]?.done === true });
  }
  return results;
}
