/**
 * PostgreSQL access for the ops programs: a small postgres.js client whose connection and queries
 * are bounded (postgres.js would retry a dead server forever), errors that say which server (never
 * its password), and the catalog queries several programs share.
 *
 * @module
 */
import postgres from "postgres";
import { redactUrl } from "@platform/lib/config";
import { type Sql, SQLSTATE, sqlState } from "@platform/lib/db";
import { errorMessage, OpsError } from "./errors.ts";

export type { Sql };

/**
 * Rejects when `promise` has not settled after `ms`.
 *
 * @example
 * ```ts
 * await withTimeout(sql`SELECT 1`, 5000, "PostgreSQL");
 * ```
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The database name in a connection URL.
 *
 * @example
 * ```ts
 * databaseName("postgres://u@h:5432/freelance_platform"); // "freelance_platform"
 * ```
 */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ""));
  return name === "" ? "postgres" : name;
}

/**
 * The same server and credentials, another database.
 *
 * @example
 * ```ts
 * withDatabase("postgres://u@h/app", "postgres"); // "postgres://u@h/postgres"
 * ```
 */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/**
 * Where a URL points, for messages: `127.0.0.1:5432/freelance_platform` (no user, no password).
 *
 * @example
 * ```ts
 * describeServer("postgres://app:pw@db:5432/x"); // "db:5432/x"
 * ```
 */
export function describeServer(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "5432"}/${databaseName(url)}`;
  } catch {
    return redactUrl(url);
  }
}

/**
 * Quotes an identifier for SQL text.
 *
 * @example
 * ```ts
 * quoteIdent('my"db'); // "\"my\"\"db\""
 * ```
 */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The ops programs' sessions are named `fp-ops-<program>` in pg_stat_activity. A backup's
 * snapshot session stays idle in a transaction for the whole dump, by design, so terminate-idle
 * and the doctor's idle-in-transaction check spare sessions with this prefix, but only while their
 * transaction is younger than {@link OPS_SESSION_SPARE_MS} (the name alone proves nothing: any
 * client can set it, and a hung backup must still be killable).
 */
export const OPS_APPLICATION_PREFIX = "fp-ops-";

/**
 * How long an ops program's session (`fp-ops-*`) may keep a transaction open before terminate-idle
 * terminates it like any other and the doctor reports it as a problem: 6 hours, far beyond any
 * healthy backup. terminate-idle takes `--spare-ops-for` to change it and `--include-ops` to spare
 * none.
 */
export const OPS_SESSION_SPARE_MS = 6 * 3_600_000;

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** Shown in pg_stat_activity, e.g. "fp-ops-backup". */
  applicationName: string;
  connectTimeoutSeconds?: number;
  /** Connections in the pool (default 2). */
  max?: number;
  /** Session settings sent at connect, e.g. `{ lock_timeout: 2000 }` (milliseconds). */
  settings?: Record<string, string | number>;
  /**
   * Never close the connection for idleness or age (postgres.js would, even inside a transaction
   * opened with a plain `BEGIN`): for a session that holds a transaction open for a long time.
   */
  keepOpen?: boolean;
}

/**
 * Connects and checks the server answers; throws an {@link OpsError} naming the server otherwise.
 *
 * @example
 * ```ts
 * const sql = await openDatabase(config.databaseUrl, { applicationName: "fp-ops-doctor" });
 * ```
 */
export async function openDatabase(url: string, options: OpenOptions): Promise<Sql> {
  const timeoutSeconds = options.connectTimeoutSeconds ?? 5;
  const sql = postgres(url, {
    max: options.max ?? 2,
    connect_timeout: timeoutSeconds,
    // 0 disables postgres.js's timers.
    idle_timeout: options.keepOpen ? 0 : 30,
    ...(options.keepOpen ? { max_lifetime: 0 } : {}),
    onnotice: () => {},
    connection: { ...options.settings, application_name: options.applicationName },
  }) as unknown as Sql;
  try {
    await withTimeout(sql`SELECT 1`, timeoutSeconds * 1000 + 1000, "PostgreSQL");
    return sql;
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw databaseError(url, error);
  }
}

/**
 * An operator-facing error for a failed connection or query.
 *
 * @example
 * ```ts
 * throw databaseError(url, error);
 * ```
 */
export function databaseError(url: string, error: unknown): OpsError {
  const code = sqlState(error);
  const where = describeServer(url);
  if (code === SQLSTATE.invalidCatalogName) {
    return new OpsError(`database does not exist: ${where}`, {
      cause: error,
      hint: "check DATABASE_URL (the database name is the URL's path)",
    });
  }
  if (code === SQLSTATE.invalidPassword || code === SQLSTATE.invalidAuthorization) {
    return new OpsError(`PostgreSQL refused the login at ${where}: ${errorMessage(error)}`, {
      cause: error,
      hint: "check the user and password in DATABASE_URL",
    });
  }
  return new OpsError(`cannot reach PostgreSQL at ${where}: ${errorMessage(error)}`, {
    cause: error,
    hint: `check that the server runs and DATABASE_URL is right (psql -h ${
      new URL(url).hostname
    } -c "SELECT 1;")`,
  });
}

/** Version and identity of the connected server. */
export interface ServerInfo {
  /** e.g. "15.20 (Debian 15.20-0+deb12u1)" */
  version: string;
  /** e.g. 15 */
  major: number;
  database: string;
  user: string;
}

/**
 * The server's version and the current database and user.
 *
 * @example
 * ```ts
 * const info = await serverInfo(sql); // { major: 15, database: "freelance_platform", ... }
 * ```
 */
export async function serverInfo(sql: Sql): Promise<ServerInfo> {
  const [row] = await withTimeout(
    sql<{ version: string; num: string; database: string; user: string }[]>`
      SELECT current_setting('server_version') AS version,
             current_setting('server_version_num') AS num,
             current_database() AS database, current_user AS user`,
    10_000,
    "PostgreSQL",
  );
  return {
    version: row.version,
    major: Math.floor(Number(row.num) / 10000),
    database: row.database,
    user: row.user,
  };
}

/**
 * Exact row counts of every ordinary table outside the system schemas, keyed by name
 * (`users`, or `schema.table` outside `public`), sorted by name. Run it in the backup's snapshot
 * transaction so the counts match the dump.
 *
 * @example
 * ```ts
 * await countRows(sql); // { proposals: 12, tasks: 100000, users: 40, ... }
 * ```
 */
export async function countRows(sql: Sql): Promise<Record<string, number>> {
  const tables = await sql<{ schema: string; name: string }[]>`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2`;
  const counts: Record<string, number> = {};
  for (const { schema, name } of tables) {
    const [row] = await sql.unsafe<{ count: string }[]>(
      `SELECT count(*) AS count FROM ${quoteIdent(schema)}.${quoteIdent(name)}`,
    );
    counts[schema === "public" ? name : `${schema}.${name}`] = Number(row.count);
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Closes a client without waiting long for in-flight queries.
 *
 * @example
 * ```ts
 * await closeQuietly(sql);
 * ```
 */
export async function closeQuietly(sql: Sql | undefined): Promise<void> {
  await sql?.end({ timeout: 2 }).catch(() => {});
}

/**
 * The cluster's `system_identifier` (unique per `initdb`, shared by its physical standbys), or
 * undefined when the server does not let this user read it. It tells apart servers that are
 * reached under the same host name (staging and production both as `postgres:5432`).
 *
 * @example
 * ```ts
 * await systemIdentifier(sql); // "7301843204722373934"
 * ```
 */
export async function systemIdentifier(sql: Sql): Promise<string | undefined> {
  try {
    const [row] = await withTimeout(
      sql<{ id: string }[]>`SELECT system_identifier::text AS id FROM pg_control_system()`,
      10_000,
      "PostgreSQL",
    );
    return row?.id ?? undefined;
  } catch {
    return undefined;
  }
}
