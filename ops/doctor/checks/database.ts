/**
 * Doctor: PostgreSQL itself (the manual's "Database Issues" investigation): connection use against
 * max_connections, blocked locks, sessions idle in transaction for over an hour, database and
 * table sizes, and databases left behind by restores.
 *
 * @module
 */
import {
  OPS_APPLICATION_PREFIX,
  OPS_SESSION_SPARE_MS,
  type Sql,
  withTimeout,
} from "../../shared/db.ts";
import { formatBytes, formatCount, formatDuration, oneLine } from "../../shared/format.ts";
import type { Finding } from "../finding.ts";

/** Connection use above this fraction of max_connections is critical (the manual's alert). */
export const CONNECTIONS_CRITICAL = 0.9;
/** Above this, a warning (the manual's "< 80% usage" target). */
export const CONNECTIONS_WARN = 0.8;
/** Idle in transaction for longer than this is a problem (the manual's emergency query). */
export const IDLE_IN_TRANSACTION_MS = 3_600_000;

const q = <T>(promise: Promise<T>) => withTimeout(promise, 10_000, "PostgreSQL");

/**
 * Connections in use against max_connections.
 *
 * @example
 * ```ts
 * const finding = await checkConnections(sql);
 * ```
 */
export async function checkConnections(sql: Sql): Promise<Finding> {
  const [limits] = await q(sql<{ max: string; reserved: string }[]>`
    SELECT current_setting('max_connections') AS max,
           current_setting('superuser_reserved_connections') AS reserved`);
  const rows = await q(sql<{ application: string; state: string; count: string }[]>`
    SELECT coalesce(nullif(application_name, ''), '(none)') AS application,
           coalesce(state, 'unknown') AS state, count(*) AS count
    FROM pg_stat_activity WHERE backend_type = 'client backend'
    GROUP BY 1, 2 ORDER BY 3 DESC`);
  const used = rows.reduce((sum, r) => sum + Number(r.count), 0);
  const max = Number(limits.max);
  const ratio = used / max;
  const byApp = new Map<string, number>();
  for (const r of rows) byApp.set(r.application, (byApp.get(r.application) ?? 0) + Number(r.count));
  const status = ratio > CONNECTIONS_CRITICAL ? "fail" : ratio > CONNECTIONS_WARN ? "warn" : "ok";
  return {
    group: "database",
    check: "connections",
    status,
    summary: `${used} of max_connections ${max} in use (${(ratio * 100).toFixed(0)}%)`,
    details: [...byApp].map(([app, n]) => `${app}: ${n}`),
    data: {
      used,
      max,
      reservedForSuperuser: Number(limits.reserved),
      byApplication: Object.fromEntries(byApp),
      byState: rows,
    },
    action: status === "ok" ? undefined : [
      "see who holds them (details above); idle ones: deno task emergency terminate-idle",
      "lower DB_MAX_CONNS (per replica x replicas must stay under max_connections) or add a pooler",
      "or raise the limit: ALTER SYSTEM SET max_connections = 200; (takes effect after a PostgreSQL restart, not pg_reload_conf)",
    ],
  };
}

/**
 * Sessions waiting for a lock, with the sessions blocking them.
 *
 * @example
 * ```ts
 * const finding = await checkLocks(sql);
 * ```
 */
export async function checkLocks(sql: Sql): Promise<Finding> {
  const rows = await q(sql<
    {
      pid: number;
      user: string;
      app: string;
      waiting_s: string;
      query: string;
      blocked_by: number[];
    }[]
  >`
    SELECT a.pid, a.usename AS user, a.application_name AS app,
           extract(epoch FROM now() - a.query_start)::int AS waiting_s, a.query,
           pg_blocking_pids(a.pid) AS blocked_by
    FROM pg_stat_activity a
    WHERE cardinality(pg_blocking_pids(a.pid)) > 0
    ORDER BY a.query_start`);
  const blockers = [...new Set(rows.flatMap((r) => r.blocked_by))];
  const blocking = blockers.length === 0 ? [] : await q(sql<
    { pid: number; state: string; app: string; query: string }[]
  >`
    SELECT pid, state, application_name AS app, query FROM pg_stat_activity
    WHERE pid = ANY(${blockers}::int[])`);
  return {
    group: "database",
    check: "blocked locks",
    status: rows.length === 0 ? "ok" : "warn",
    summary: rows.length === 0
      ? "no session waits for a lock"
      : `${rows.length} session(s) wait for a lock held by ${blockers.join(", ")}`,
    details: [
      ...rows.map((r) =>
        `pid ${r.pid} (${r.app || r.user}) waits ${r.waiting_s}s for pid(s) ${
          r.blocked_by.join(",")
        }: ${oneLine(r.query, 80)}`
      ),
      ...blocking.map((b) =>
        `blocking pid ${b.pid} (${b.app || "?"}, ${b.state}): ${oneLine(b.query, 80)}`
      ),
    ],
    data: { blocked: rows, blocking },
    action: rows.length === 0 ? undefined : [
      "if the blocking session is stuck, terminate it: SELECT pg_terminate_backend(<blocking pid>);",
      "blocking sessions idle in transaction: deno task emergency terminate-idle",
    ],
  };
}

/**
 * Sessions idle in a transaction for over an hour (they hold locks and stop VACUUM). Sessions of
 * the ops programs (`fp-ops-*`: a running backup keeps its snapshot transaction open for the whole
 * dump, by design) are listed as such but are not a problem while their transaction is younger
 * than `spareOpsForMs` (6h); an older one is presumed stuck and is a problem (warning).
 *
 * @example
 * ```ts
 * const finding = await checkIdleInTransaction(sql);
 * ```
 */
export async function checkIdleInTransaction(
  sql: Sql,
  olderThanMs = IDLE_IN_TRANSACTION_MS,
  spareOpsForMs = OPS_SESSION_SPARE_MS,
): Promise<Finding> {
  const all = await q(
    sql<
      {
        pid: number;
        db: string;
        user: string;
        app: string;
        idle_s: string;
        xact_s: string;
        query: string;
      }[]
    >`
    SELECT pid, datname AS db, usename AS user, application_name AS app,
           extract(epoch FROM now() - state_change)::int AS idle_s,
           floor(extract(epoch FROM now() - xact_start))::int AS xact_s, query
    FROM pg_stat_activity
    WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')
      AND state_change < now() - make_interval(secs => ${olderThanMs / 1000})
    ORDER BY state_change`,
  );
  const isOps = (r: { app: string }) => r.app.startsWith(OPS_APPLICATION_PREFIX);
  const isStale = (r: { xact_s: string }) => Number(r.xact_s) * 1000 >= spareOpsForMs;
  const rows = all.filter((r) => !isOps(r));
  const ops = all.filter((r) => isOps(r) && !isStale(r));
  const stuck = all.filter((r) => isOps(r) && isStale(r));
  const over = formatDuration(olderThanMs);
  const grace = formatDuration(spareOpsForMs);
  const problem = rows.length > 0 || stuck.length > 0;
  return {
    group: "database",
    check: "idle in transaction",
    status: problem ? "warn" : "ok",
    summary:
      (rows.length === 0
        ? `no session idle in a transaction for over ${over}`
        : `${rows.length} session(s) idle in a transaction for over ${over}`) +
      (stuck.length === 0
        ? ""
        : `; ${stuck.length} of the ops programs in a transaction for over ${grace}, presumed stuck`) +
      (ops.length === 0 ? "" : ` (besides ${ops.length} of the ops programs, left alone)`),
    details: [
      ...rows.map((r) =>
        `pid ${r.pid} in ${r.db} (${r.app || r.user}) idle ${
          formatDuration(Number(r.idle_s) * 1000)
        } after: ${oneLine(r.query, 80)}`
      ),
      ...stuck.map((r) =>
        `pid ${r.pid} in ${r.db} (${r.app}) idle ${
          formatDuration(Number(r.idle_s) * 1000)
        }, in a transaction for ${formatDuration(Number(r.xact_s) * 1000)}: an ops program's ` +
        `session past its ${grace} grace, presumed stuck (pg_dump hung, backup host cut off), or ` +
        "a client merely using the fp-ops- name; terminate-idle terminates it"
      ),
      ...ops.map((r) =>
        `pid ${r.pid} in ${r.db} (${r.app}) idle ${
          formatDuration(Number(r.idle_s) * 1000)
        }: an ops program's session (a backup holds its snapshot for the whole dump); ` +
        `not a problem unless that program is stuck; terminate-idle leaves it alone for ${grace} ` +
        "(or terminates it with --include-ops)"
      ),
    ],
    data: { sessions: rows, stuckOpsSessions: stuck, opsSessions: ops },
    action: !problem ? undefined : [
      ...(rows.length === 0 ? [] : [
        "deno task emergency terminate-idle (asks before terminating; this database's sessions)",
        "sessions of other databases: deno task emergency terminate-idle --all-databases",
      ]),
      ...(stuck.length === 0 ? [] : [
        `stuck ops session(s) (pid ${
          stuck.map((r) => r.pid).join(", ")
        }): stop that program (e.g. a hung backup) if it is still running, or ` +
        "deno task emergency terminate-idle --all-databases (terminates ops sessions in a " +
        `transaction for over ${grace}; asks first)`,
      ]),
    ],
  };
}

/**
 * Database size and the largest tables (the manual's table-size query).
 *
 * @example
 * ```ts
 * const finding = await checkSizes(sql);
 * ```
 */
export async function checkSizes(sql: Sql): Promise<Finding> {
  const [db] = await q(sql<{ size: string; name: string }[]>`
    SELECT pg_database_size(current_database()) AS size, current_database() AS name`);
  const tables = await q(sql<{ name: string; size: string; rows: string }[]>`
    SELECT CASE WHEN schemaname = 'public' THEN relname ELSE schemaname || '.' || relname END AS name,
           pg_total_relation_size(relid) AS size, n_live_tup AS rows
    FROM pg_stat_user_tables ORDER BY pg_total_relation_size(relid) DESC, relname LIMIT 10`);
  return {
    group: "database",
    check: "sizes",
    status: "info",
    summary: `database ${db.name} is ${formatBytes(Number(db.size))}`,
    details: tables.map((t) =>
      `${t.name}: ${formatBytes(Number(t.size))} (~${formatCount(Number(t.rows))} rows)`
    ),
    data: {
      databaseBytes: Number(db.size),
      tables: tables.map((t) => ({ table: t.name, bytes: Number(t.size), rows: Number(t.rows) })),
    },
  };
}

/**
 * Databases left behind by `deno task restore` (kept old copies, interrupted restores).
 *
 * @example
 * ```ts
 * const finding = await checkLeftoverDatabases(sql);
 * ```
 */
export async function checkLeftoverDatabases(sql: Sql): Promise<Finding | undefined> {
  const rows = await q(sql<{ name: string; size: string }[]>`
    SELECT datname AS name, pg_database_size(datname) AS size FROM pg_database
    WHERE datname ~ '_(pre_restore|restore|verify|replaced)_[0-9]{8}_[0-9]{6}'
    ORDER BY datname`);
  if (rows.length === 0) return undefined;
  return {
    group: "database",
    check: "restore leftovers",
    status: "info",
    summary: `${rows.length} database(s) left by restores`,
    details: rows.map((r) =>
      `${r.name}: ${
        formatBytes(Number(r.size))
      }; drop when no longer needed: DROP DATABASE "${r.name}";`
    ),
    data: rows.map((r) => ({ database: r.name, bytes: Number(r.size) })),
  };
}
