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
   * Runs `work` on a connection of the pool, failing with {@link DependencyUnavailableError}
   * when the database does not answer within the query timeout (or `timeoutMs`), the wait for a
   * connection included. `work` starts only once a connection is held, so a call that timed out
   * waiting never runs later; one that times out while running is cancelled. A caller told
   * "unavailable" can retry without doubling a write. Several statements that must commit
   * together belong in {@link transaction}.
   */
  run<T>(work: (sql: Sql) => Promise<T>, timeoutMs = this.pool.queryTimeoutMs): Promise<T> {
    return this.bounded(timeoutMs, async (expired, onExpiry) => {
      const connection = await this.sql.reserve();
      try {
        if (expired()) throw unavailable(timeoutMs);
        const pending = work(connection as unknown as Sql);
        onExpiry(() => (pending as { cancel?: () => void }).cancel?.());
        return await pending;
      } finally {
        connection.release();
      }
    });
  }

  /**
   * Runs `work` in a transaction, bounded like {@link run}. When the time runs out, the
   * transaction rolls back (at the latest before it would commit), so a caller told
   * "unavailable" never finds its change committed after all.
   */
  transaction<T>(
    work: (tx: TransactionSql) => Promise<T>,
    timeoutMs = this.pool.queryTimeoutMs,
  ): Promise<T> {
    return this.bounded(timeoutMs, (expired) =>
      this.sql.begin(async (tx) => {
        if (expired()) throw unavailable(timeoutMs);
        const result = await work(tx as TransactionSql);
        if (expired()) throw unavailable(timeoutMs);
        return result;
      }) as Promise<T>);
  }

  private async bounded<T>(
    timeoutMs: number,
    attempt: (expired: () => boolean, onExpiry: (cancel: () => void) => void) => Promise<T>,
  ): Promise<T> {
    this.active++;
    let timedOut = false;
    let cancel = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const running = attempt(() => timedOut, (fn) => (cancel = fn));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        cancel();
        reject(unavailable(timeoutMs));
      }, timeoutMs);
    });
    try {
      return await Promise.race([running, timeout]);
    } catch (error) {
      if (isConnectionError(error)) throw new DependencyUnavailableError("database", error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.active--;
      running.catch(() => {}); // it settles after a timeout: the caller was answered already
    }
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

function unavailable(timeoutMs: number): DependencyUnavailableError {
  return new DependencyUnavailableError("database", new Error(`no answer within ${timeoutMs}ms`));
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
