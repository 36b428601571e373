/**
 * The PostgreSQL pool (postgres.js) with the manual's settings, every query bounded by a
 * client-side timeout (postgres.js would otherwise wait forever on a stalled server), and the
 * pool's use exported as metrics.
 *
 * @module
 */
import postgres from "postgres";
import type { PoolConfig } from "../config/base_config.ts";
import { DependencyUnavailableError } from "../errors.ts";
import type { Metrics } from "../metrics/registry.ts";

/** The postgres.js client type used by stores. */
export type Sql = postgres.Sql<Record<string, never>>;
/** A transaction's client. */
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;

/**
 * A pool and a way to run bounded work on it.
 *
 * @example
 * ```ts
 * const db = new Database(url, pool, "users");
 * const rows = await db.run((sql) => sql`SELECT 1 AS one`);
 * ```
 */
export class Database {
  readonly sql: Sql;
  private active = 0;

  constructor(url: string, readonly pool: PoolConfig, applicationName: string) {
    this.sql = postgres(url, {
      max: pool.maxConnections,
      max_lifetime: pool.maxLifetimeSeconds,
      idle_timeout: pool.idleTimeoutSeconds,
      connect_timeout: pool.connectTimeoutSeconds,
      connection: {
        application_name: applicationName,
        statement_timeout: pool.queryTimeoutMs,
        idle_in_transaction_session_timeout: pool.queryTimeoutMs * 4,
      },
      onnotice: () => {},
      types: { bigint: postgres.BigInt },
    }) as unknown as Sql;
  }

  /**
   * Runs `work` with the pool, failing with {@link DependencyUnavailableError} when the database
   * does not answer within the query timeout (or `timeoutMs`).
   */
  async run<T>(work: (sql: Sql) => Promise<T>, timeoutMs = this.pool.queryTimeoutMs): Promise<T> {
    this.active++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new DependencyUnavailableError(
              "database",
              new Error(`no answer within ${timeoutMs}ms`),
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([work(this.sql), timeout]);
    } catch (error) {
      if (isConnectionError(error)) throw new DependencyUnavailableError("database", error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.active--;
    }
  }

  /** Runs `work` in a transaction, bounded like {@link run}. */
  transaction<T>(work: (tx: TransactionSql) => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.run(
      (sql) => sql.begin((tx) => work(tx as TransactionSql)) as Promise<T>,
      timeoutMs,
    );
  }

  /** The health check: `SELECT 1` within the signal's deadline. */
  async ping(signal?: AbortSignal): Promise<void> {
    const query = this.sql`SELECT 1`;
    signal?.addEventListener("abort", () => query.cancel(), { once: true });
    await query;
  }

  /** Exports `db_pool_connections_max` and `db_pool_connections_active`. */
  registerMetrics(metrics: Metrics): void {
    metrics.gauge("db_pool_connections_max", "Most connections the pool may open.", [], (g) => {
      g.set(this.pool.maxConnections);
    });
    metrics.gauge(
      "db_pool_connections_active",
      "Pool operations in progress (each holds a connection or waits for one).",
      [],
      (g) => {
        g.set(this.active);
      },
    );
  }

  /** Closes the pool, letting running queries finish for up to `timeoutSeconds`. */
  close(timeoutSeconds = 5): Promise<void> {
    return this.sql.end({ timeout: timeoutSeconds });
  }
}

/**
 * True for errors that mean the database could not be reached (not a SQL error).
 *
 * @example
 * ```ts
 * isConnectionError({ code: "ECONNREFUSED" }); // true
 * ```
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" &&
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT|57P01|57P02|57P03|53300)$/
      .test(code);
}
