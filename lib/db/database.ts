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

  /** One connection of its own for the health check, so a busy pool does not fail /health. */
  private readonly probe: Sql;

  constructor(url: string, readonly pool: PoolConfig, applicationName: string) {
    this.probe = postgres(url, {
      max: 1,
      idle_timeout: 60,
      connect_timeout: pool.connectTimeoutSeconds,
      connection: { application_name: `${applicationName}-health` },
      onnotice: () => {},
    }) as unknown as Sql;
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
        let current: { cancel?: () => void } | undefined;
        onExpiry(() => current?.cancel?.());
        // Every query `work` makes goes through this guard: once the time is up, the one
        // running is cancelled and no new one starts.
        const guarded = guardQueries(connection as unknown as Sql, (query) => {
          if (expired()) throw unavailable(timeoutMs);
          current = query;
        });
        return await work(guarded);
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
    // Counted until the work settles, which may be after the caller was told "unavailable".
    running.finally(() => this.active--).catch(() => {});
    try {
      return await Promise.race([running, timeout]);
    } catch (error) {
      if (isConnectionError(error)) throw new DependencyUnavailableError("database", error);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The health check: `SELECT 1` within the signal's deadline. */
  async ping(signal?: AbortSignal): Promise<void> {
    const query = this.probe`SELECT 1`;
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
  async close(timeoutSeconds = 5): Promise<void> {
    await Promise.all([
      this.sql.end({ timeout: timeoutSeconds }),
      this.probe.end({ timeout: 1 }),
    ]);
  }
}

/**
 * A view of `sql` that calls `onQuery` with every query made through it (as a tagged template
 * or `unsafe`) before it can run; `onQuery` may throw to refuse it.
 */
function guardQueries(sql: Sql, onQuery: (query: { cancel?: () => void }) => void): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const query = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      if (Array.isArray(args[0]) && "raw" in args[0]) onQuery(query as { cancel?: () => void });
      return query;
    },
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "unsafe") {
        return (...args: unknown[]) => {
          const query = (value as (...a: unknown[]) => unknown).apply(target, args);
          onQuery(query as { cancel?: () => void });
          return query;
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Sql;
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
