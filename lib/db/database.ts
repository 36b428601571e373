/**
 * The PostgreSQL pool (postgres.js) with the manual's settings, every query bounded by a
 * client-side timeout (postgres.js would otherwise wait forever on a stalled server), and the
 * pool's use exported as metrics.
 *
 * @module
 */
import postgres from "postgres";
import type { PoolConfig } from "../config/base_config.ts";
import { DependencyUnavailableError, OutcomeUnknownError } from "../errors.ts";
import type { Metrics } from "../metrics/registry.ts";
import { traceDb } from "../tracing/db_spans.ts";
import { isConnectionError, refusesWork, SQLSTATE, sqlState } from "./pg_errors.ts";

/** The postgres.js client type used by stores. */
export type Sql = postgres.Sql<Record<string, never>>;
/** A transaction's client. */
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;

/**
 * The table the health check writes to: one row per application, its last check. Created by
 * `migrate` (migrate.ts) at start, and by the check itself when missing (a database used without it).
 */
export const HEALTH_TABLE_SQL: string = `CREATE TABLE IF NOT EXISTS platform_health_checks (
  application text PRIMARY KEY,
  checked_at timestamptz NOT NULL
)`;

/** The after-commit callbacks of the transactions {@link Database.transaction} runs. */
const commitHooks = new WeakMap<object, Array<() => void>>();

function runHooks(hooks: Array<() => void>): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch { /* a hook's failure is not the transaction's */ }
  }
}

/**
 * Runs `hook` once the transaction `tx` (of {@link Database.transaction}) has committed; never
 * when it rolls back. For a client outside a transaction (autocommit), runs it now: the
 * caller's statement has already committed. For another transaction (one this module did not
 * open), it never runs: such callers must not rely on it for more than a hint.
 *
 * @example
 * ```ts ignore
 * await db.transaction(async (tx) => {
 *   await tx`INSERT INTO task_outbox ...`;
 *   afterCommit(tx, () => wakeOutboxRelays("task_outbox"));
 * });
 * ```
 */
export function afterCommit(tx: Sql | TransactionSql, hook: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(hook);
  else if (!("savepoint" in tx)) runHooks([hook]);
}

/**
 * A pool and a way to run bounded work on it.
 *
 * @example
 * ```ts ignore
 * const db = new Database(url, pool, "users");
 * const rows = await db.run((sql) => sql`SELECT 1 AS one`);
 * ```
 */
export class Database {
  /** The pool, for queries that need no bound (prefer {@linkcode Database.run}). */
  readonly sql: Sql;
  private active = 0;

  /** One connection of its own for the health check, so a busy pool does not fail /health. */
  private probe: Sql;
  /** The health check's query in flight, shared by concurrent checks; and when it started. */
  private probing?: Promise<void>;
  private probeStartedAt = 0;
  private probeFailed = false;
  private maintenance?: ReturnType<typeof setInterval>;
  private closed = false;
  private countIdleChecks: (passed: number, failed: number) => void = () => {};

  /**
   * Creates the pool (connections open on first use) and the health check's connection.
   *
   * @param url DATABASE_URL.
   * @param pool The pool's settings.
   * @param applicationName The `application_name` of its sessions (the probe's gets `-health`).
   */
  constructor(
    private readonly url: string,
    readonly pool: PoolConfig,
    private readonly applicationName: string,
  ) {
    this.probe = this.createProbe();
    this.sql = postgres(url, {
      max: pool.maxConnections,
      max_lifetime: pool.maxLifetimeSeconds,
      idle_timeout: pool.idleTimeoutSeconds,
      connect_timeout: pool.connectTimeoutSeconds,
      backoff: reconnectDelaySeconds,
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
   * A client of its own with one connection, outside the pool, for a session that must stay one
   * (a session-level advisory lock held for a long time): ending it closes that connection, so
   * the server ends the session and drops its locks. Same settings as the pool's connections.
   *
   * @example
   * ```ts ignore
   * const session = db.dedicatedSession("relay");
   * await session`SELECT pg_try_advisory_lock(42)`;
   * await session.end({ timeout: 1 });
   * ```
   */
  dedicatedSession(name: string): Sql {
    return postgres(this.url, {
      max: 1,
      idle_timeout: 0,
      max_lifetime: 0,
      connect_timeout: this.pool.connectTimeoutSeconds,
      backoff: reconnectDelaySeconds,
      connection: {
        application_name: `${this.applicationName}-${name}`,
        statement_timeout: this.pool.queryTimeoutMs,
        // The server notices a peer that vanished without closing (a node lost, a cut network)
        // within about 11 s and ends the session, so its locks do not outlive it by hours.
        tcp_keepalives_idle: 5,
        tcp_keepalives_interval: 2,
        tcp_keepalives_count: 3,
      },
      onnotice: () => {},
    }) as unknown as Sql;
  }

  /** The health check's own single connection. */
  private createProbe(): Sql {
    return postgres(this.url, {
      max: 1,
      idle_timeout: 60,
      connect_timeout: this.pool.connectTimeoutSeconds,
      backoff: reconnectDelaySeconds,
      connection: { application_name: `${this.applicationName}-health` },
      onnotice: () => {},
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
    return traceDb("query", () => this.runBounded(work, timeoutMs));
  }

  /** {@link run} itself (in its span when traced). */
  private runBounded<T>(work: (sql: Sql) => Promise<T>, timeoutMs: number): Promise<T> {
    return this.bounded(timeoutMs, async (expired, onExpiry, outcome) => {
      const connection = await this.sql.reserve();
      try {
        if (expired()) throw unavailable(timeoutMs);
        let current: { cancel?: () => unknown } | undefined;
        onExpiry(() => cancelQuietly(current));
        // Every query `work` makes goes through this guard: once the time is up, the one
        // running is cancelled and no new one starts.
        const guarded = guardQueries(connection as unknown as Sql, (query, text) => {
          if (expired()) throw unavailable(timeoutMs);
          current = query;
          if (!outcome.maybeDone && mayWrite(text)) outcome.maybeDone = true;
        });
        return await work(guarded);
      } finally {
        connection.release();
      }
    });
  }

  /**
   * Runs `work` in a transaction, bounded like {@link run}. When the time runs out or the
   * connection is lost before the COMMIT is sent, the transaction rolls back (at the latest
   * before it would commit) and the call fails with {@link DependencyUnavailableError}: a caller
   * told "unavailable" never finds its change committed after all. Once the COMMIT is sent, a
   * timeout or a lost connection fails with {@link OutcomeUnknownError}: it may have committed.
   */
  transaction<T>(
    work: (tx: TransactionSql) => Promise<T>,
    timeoutMs = this.pool.queryTimeoutMs,
  ): Promise<T> {
    return traceDb("transaction", () => this.transactionBounded(work, timeoutMs));
  }

  /** {@link transaction} itself (in its span when traced); runs the after-commit hooks. */
  private transactionBounded<T>(
    work: (tx: TransactionSql) => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    const hooks: Array<() => void> = [];
    return this.bounded(timeoutMs, async (expired, _onExpiry, outcome) => {
      const result = await (this.sql.begin(async (tx) => {
        commitHooks.set(tx, hooks);
        try {
          if (expired()) throw unavailable(timeoutMs);
          const result = await work(tx as TransactionSql);
          if (expired()) throw unavailable(timeoutMs);
          outcome.maybeDone = true; // postgres.js sends COMMIT as this returns
          return result;
        } finally {
          commitHooks.delete(tx);
        }
      }) as Promise<T>);
      runHooks(hooks);
      return result;
    });
  }

  /**
   * Runs `attempt`, failing after `timeoutMs` (the work is cancelled through `onExpiry` when it
   * can be) or when the connection fails: with {@link DependencyUnavailableError} while nothing
   * can have been done, with {@link OutcomeUnknownError} once `attempt` marked `outcome.maybeDone`
   * (a write was sent, or the COMMIT) unless the server refused the work.
   */
  private async bounded<T>(
    timeoutMs: number,
    attempt: (
      expired: () => boolean,
      onExpiry: (cancel: () => void) => void,
      outcome: { maybeDone: boolean },
    ) => Promise<T>,
  ): Promise<T> {
    this.active++;
    let timedOut = false;
    let cancel = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = { maybeDone: false };
    const running = attempt(() => timedOut, (fn) => (cancel = fn), outcome);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        cancel();
        reject(
          outcome.maybeDone
            ? new OutcomeUnknownError("database", "timeout", noAnswer(timeoutMs))
            : unavailable(timeoutMs),
        );
      }, timeoutMs);
    });
    // Counted until the work settles, which may be after the caller was told "unavailable".
    running.finally(() => this.active--).catch(() => {});
    try {
      return await Promise.race([running, timeout]);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      if (outcome.maybeDone && !refusesWork(error)) {
        throw new OutcomeUnknownError("database", "connection lost", error);
      }
      throw new DependencyUnavailableError("database", error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The health check: a one-row write on the probe's own connection (`probeWrite`: a
   * database that refuses writes is unhealthy too), given up when `signal` aborts.
   * Concurrent checks share one query, and an abandoned query is never cancelled (a cancelled
   * query on a connection still opening used to leave the probe stuck after an outage); a query
   * that has not answered for twice the connect timeout (a frozen or vanished server) is dropped
   * with its connection and the next check opens a new one. The first check that passes after a
   * failed one re-opens the pool's warm minimum at once.
   *
   * @example
   * ```ts ignore
   * await db.ping(AbortSignal.timeout(1000)); // rejects when PostgreSQL does not answer
   * ```
   */
  async ping(signal?: AbortSignal): Promise<void> {
    const stuckAfterMs = Math.max(2 * this.pool.connectTimeoutSeconds * 1000, 2000);
    if (this.probing && Date.now() - this.probeStartedAt > stuckAfterMs) this.replaceProbe();
    if (!this.probing) {
      this.probeStartedAt = Date.now();
      const probing = this.probeWrite(this.probe).finally(() => {
        if (this.probing === probing) this.probing = undefined;
      });
      probing.then(() => {
        if (this.probeFailed) this.checkIdleConnections().catch(() => {});
        this.probeFailed = false;
      }, () => {
        this.probeFailed = true;
      });
      this.probing = probing;
    }
    await abortable(this.probing, signal);
  }

  /**
   * The health check's query: a one-row write (this application's row of
   * `platform_health_checks`, created on first use), so a server that refuses writes (read-only:
   * a standby, `default_transaction_read_only`; disk full) fails the check as one that does not
   * answer does.
   */
  private async probeWrite(probe: Sql): Promise<void> {
    const write = () =>
      probe`
        INSERT INTO platform_health_checks (application, checked_at)
        VALUES (${this.applicationName}, now())
        ON CONFLICT (application) DO UPDATE SET checked_at = EXCLUDED.checked_at`;
    try {
      await write();
    } catch (error) {
      if (sqlState(error) !== SQLSTATE.undefinedTable) throw error;
      await probe.unsafe(HEALTH_TABLE_SQL).catch(() => {}); // another replica may race us
      await write();
    }
  }

  /** Drops the probe's connection (its query stuck) and opens a new one. */
  private replaceProbe(): void {
    const old = this.probe;
    this.probe = this.createProbe();
    this.probing = undefined;
    old.end({ timeout: 0 }).catch(() => {});
  }

  /**
   * Opens the pool's warm minimum (`DB_MIN_CONNS`) now and checks it every
   * `DB_HEALTH_CHECK_PERIOD_SECONDS`: see {@link checkIdleConnections}. Stopped by {@link close}.
   *
   * @example
   * ```ts ignore
   * db.startMaintenance();
   * ```
   */
  startMaintenance(): void {
    if (this.maintenance || this.closed) return;
    const periodMs = (this.pool.healthCheckPeriodSeconds ?? 300) * 1000;
    this.checkIdleConnections().catch(() => {});
    this.maintenance = setInterval(() => this.checkIdleConnections().catch(() => {}), periodMs);
    Deno.unrefTimer(this.maintenance as unknown as number);
  }

  /**
   * The pool's periodic check, as pgxpool's health check: holds `DB_MIN_CONNS` connections at
   * once (postgres.js hands out the longest idle first and opens new ones when fewer are open),
   * runs `SELECT 1` on each and gives them back. A connection that fails is dropped by the pool
   * and the next check opens another, so the warm minimum is kept and a connection that died
   * while idle is found before a request needs it. Skipped while that many calls are running
   * (their connections are evidently alive). Resolves with the connections checked and failed.
   *
   * @example
   * ```ts ignore
   * const { checked, failed } = await db.checkIdleConnections();
   * ```
   */
  async checkIdleConnections(): Promise<{ checked: number; failed: number }> {
    const wanted = Math.min(this.pool.minConnections ?? 0, this.pool.maxConnections);
    if (wanted === 0 || this.closed || this.active >= wanted) return { checked: 0, failed: 0 };
    let arrived = 0;
    let allArrived = () => {};
    const barrier = new Promise<void>((resolve) => (allArrived = resolve));
    const arrive = () => {
      if (++arrived === wanted) allArrived();
    };
    const results = await Promise.allSettled(
      Array.from({ length: wanted }, () =>
        this.run(async (sql) => {
          try {
            await sql`SELECT 1`;
          } finally {
            arrive();
          }
          await barrier; // hold the connection until every check has its own
        }).catch((error) => {
          arrive();
          throw error;
        })),
    );
    const failed = results.filter((r) => r.status === "rejected").length;
    this.countIdleChecks(wanted - failed, failed);
    return { checked: wanted, failed };
  }

  /**
   * Exports `db_pool_connections_max`, `db_pool_connections_min`, `db_pool_connections_active`
   * and `db_pool_idle_checks_total{result}`.
   */
  registerMetrics(metrics: Metrics): void {
    metrics.gauge("db_pool_connections_max", "Most connections the pool may open.", [], (g) => {
      g.set(this.pool.maxConnections);
    });
    metrics.gauge(
      "db_pool_connections_min",
      "Connections the pool keeps open and checks periodically (DB_MIN_CONNS).",
      [],
      (g) => {
        g.set(Math.min(this.pool.minConnections ?? 0, this.pool.maxConnections));
      },
    );
    const checks = metrics.counter(
      "db_pool_idle_checks_total",
      "Connections checked by the pool's periodic health check, by result (passed, failed).",
      ["result"],
    );
    checks.inc({ result: "passed" }, 0);
    checks.inc({ result: "failed" }, 0);
    this.countIdleChecks = (passed, failed) => {
      checks.inc({ result: "passed" }, passed);
      checks.inc({ result: "failed" }, failed);
    };
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
    this.closed = true;
    clearInterval(this.maintenance);
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
function guardQueries(
  sql: Sql,
  onQuery: (query: { cancel?: () => unknown }, text: string) => void,
): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const query = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
      if (Array.isArray(args[0]) && "raw" in args[0]) {
        onQuery(query as { cancel?: () => unknown }, (args[0] as string[]).join("$"));
      }
      return query;
    },
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "unsafe") {
        return (...args: unknown[]) => {
          const query = (value as (...a: unknown[]) => unknown).apply(target, args);
          onQuery(query as { cancel?: () => unknown }, String(args[0]));
          return query;
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Sql;
}

/**
 * postgres.js waits this long before opening a connection again after one failed: growing from
 * 50 ms to at most 500 ms (its default grows to 20 s, which kept a service unavailable for up to
 * 20 s after PostgreSQL came back).
 */
function reconnectDelaySeconds(attempt: number): number {
  return Math.min(0.05 * 2 ** Math.max(0, attempt - 1), 0.5);
}

/** Cancels a query whose time is up; the cancel request itself may fail (server gone). */
function cancelQuietly(query: { cancel?: () => unknown } | undefined): void {
  Promise.resolve(query?.cancel?.()).catch(() => {});
}

/** Waits for `work`, or rejects when `signal` aborts (`work` goes on; its failure is handled). */
function abortable(work: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new Error("health check aborted"));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error("health check aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function noAnswer(timeoutMs: number): Error {
  return new Error(`no answer within ${timeoutMs}ms`);
}

function unavailable(timeoutMs: number): DependencyUnavailableError {
  return new DependencyUnavailableError("database", noAnswer(timeoutMs));
}

/**
 * True unless the statement is a plain read (SELECT or SHOW that names no writing function):
 * what a lost answer leaves unknown.
 *
 * @example
 * ```ts
 * mayWrite("SELECT 1"); // false
 * mayWrite("WITH t AS (INSERT INTO tasks ...) SELECT ..."); // true
 * ```
 */
export function mayWrite(text: string): boolean {
  return !/^\s*(select|show)\b/i.test(text) ||
    /\b(insert|update|delete|merge|nextval|setval|pg_notify)\b/i.test(text);
}
