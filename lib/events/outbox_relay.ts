/**
 * The transactional outbox relay: publishes rows of an outbox table to JetStream with
 * `Nats-Msg-Id` = the row's id and marks them published. Generic over the table, so the Task
 * Service (`task_outbox`) and the orchestrator (`proposal_outbox`) share it.
 *
 * The table must have these columns (see services/tasks/migrations/001_tasks.sql):
 * `id uuid PRIMARY KEY, seq bigserial, subject text, payload jsonb, created_at timestamptz,
 * published_at timestamptz NULL, attempts integer, last_error text`, ideally with a partial index
 * `ON <table> (seq) WHERE published_at IS NULL`.
 *
 * In order, and safe in every replica: one relay per table at a time holds a transaction-scoped
 * advisory lock (`pg_try_advisory_xact_lock(hashtext(table))`) while it claims a batch (oldest
 * first, `FOR UPDATE SKIP LOCKED`), publishes it and marks it; the other replicas skip and try
 * again later (hot standbys). Within a batch the rows are published one after another in `seq`
 * order, each waiting for its ack, and the first failure stops the batch: only the published
 * prefix is marked, so an event never overtakes an earlier one (`task.status_changed` never
 * reaches the stream before its task's `task.created`). If a process dies after a publish but
 * before committing, the rows are published again with the same Nats-Msg-Id, which JetStream
 * drops within the stream's duplicate window. A NATS outage only delays: the batch is retried
 * with backoff and the same ids.
 *
 * Wakes on `LISTEN <table>_inserted` (a statement trigger runs `pg_notify('<table>_inserted', '')`
 * after inserts, see {@link outboxNotifyTriggerSql}) and polls every `pollIntervalMs` as a fallback.
 *
 * @module
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { Database } from "../db/database.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import type { Counter, Gauge } from "prom-client";

/** Settings of a relay. */
export interface OutboxRelayOptions {
  db: Database;
  /** The outbox table, such as `task_outbox`. A plain SQL identifier. */
  table: string;
  js: JetStreamClient;
  logger: Logger;
  metrics?: Metrics;
  /** Rows claimed per transaction. Default 100. */
  batchSize?: number;
  /** Fallback poll when no notification arrives. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Longest wait between retries while publishing fails. Default 5000 ms. */
  maxBackoffMs?: number;
  /** Timeout of one JetStream publish. Default 3000 ms. */
  publishTimeoutMs?: number;
}

interface OutboxRow {
  id: string;
  subject: string;
  payload: unknown;
}

/**
 * The SQL for the statement trigger that wakes the relays after inserts into `table`; put it in
 * the migration that creates the outbox.
 *
 * @example
 * ```ts
 * outboxNotifyTriggerSql("proposal_outbox");
 * ```
 */
export function outboxNotifyTriggerSql(table: string): string {
  assertIdentifier(table);
  return `
CREATE OR REPLACE FUNCTION ${table}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${table}_inserted', '');
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS ${table}_notify ON ${table};
CREATE TRIGGER ${table}_notify AFTER INSERT ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${table}_notify();
`;
}

/**
 * Publishes an outbox table's rows to JetStream until stopped.
 *
 * @example
 * ```ts
 * const relay = new OutboxRelay({ db, table: "task_outbox", js: jetstream(nc), logger, metrics });
 * await relay.start();
 * // ...
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly published?: Counter<"subject" | "outbox">;
  private readonly failed?: Counter<"subject" | "outbox">;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private pendingWake = false;
  private unlisten?: () => Promise<void>;

  constructor(private readonly options: OutboxRelayOptions) {
    assertIdentifier(options.table);
    this.batchSize = options.batchSize ?? 100;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 3000;
    const metrics = options.metrics;
    if (metrics) {
      this.published = existing(metrics, "events_published_total") ??
        metrics.counter(
          "events_published_total",
          "Events published to JetStream by the outbox relay.",
          [
            "subject",
            "outbox",
          ],
        );
      this.failed = existing(metrics, "events_publish_failed_total") ??
        metrics.counter(
          "events_publish_failed_total",
          "Attempts to publish an outbox event that failed (it is retried).",
          ["subject", "outbox"],
        );
      registerOutboxMetrics(metrics, options.db, options.table);
    }
  }

  /** Starts listening for notifications and the relay loop. */
  async start(): Promise<void> {
    if (this.loop) return;
    const { db, table, logger } = this.options;
    try {
      const listener = await db.sql.listen(`${table}_inserted`, () => this.poke());
      this.unlisten = () => listener.unlisten();
    } catch (error) {
      logger.warn("outbox relay could not LISTEN; polling only", { outbox: table, error });
    }
    this.loop = this.run();
    logger.info("outbox relay started", { outbox: table });
  }

  /** Stops after the batch in progress; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    await this.loop;
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
  }

  /** Asks the loop to look for rows now. */
  poke(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  /**
   * Claims, publishes and marks one batch; returns how many rows it published (0 also when
   * another replica holds the table's relay lock). Publishes in `seq` order, one at a time, and
   * stops at the first failure: the rows before it are marked published, the failed one records
   * the error, and the result is negative (`-published - 1`) so the loop backs off.
   */
  async relayOnce(): Promise<number> {
    const { db, table, js } = this.options;
    const budgetMs = Math.max(30_000, this.publishTimeoutMs * 3);
    return await db.transaction(async (tx) => {
      // One relay per table at a time, across replicas: concurrent relays would publish
      // adjacent batches at once, out of order. Released at commit or rollback.
      const [{ locked }] = await tx<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(hashtext(${table})) AS locked`;
      if (!locked) return 0;
      // Publishing leaves this transaction idle on the server; let it stay idle for the batch's
      // budget whatever the pool's idle-in-transaction timeout (4 x DB_QUERY_TIMEOUT_MS) is.
      await tx`SELECT set_config('idle_in_transaction_session_timeout', ${String(budgetMs)}, true)`;
      const rows = await tx<OutboxRow[]>`
        SELECT id, subject, payload FROM ${tx(table)}
        WHERE published_at IS NULL
        ORDER BY seq
        LIMIT ${this.batchSize}
        FOR UPDATE SKIP LOCKED`;
      if (rows.length === 0) return 0;
      const encoder = new TextEncoder();
      // Stop in time to mark what was published before the transaction's deadline.
      const loopBudgetMs = Math.max(this.publishTimeoutMs, budgetMs / 2 - this.publishTimeoutMs);
      const started = Date.now();
      const done: string[] = [];
      let failure: { row: OutboxRow; error: unknown } | undefined;
      for (const row of rows) {
        if (done.length > 0 && Date.now() - started > loopBudgetMs) break;
        try {
          await js.publish(row.subject, encoder.encode(JSON.stringify(row.payload)), {
            msgID: row.id,
            timeout: this.publishTimeoutMs,
          });
        } catch (error) {
          failure = { row, error };
          this.failed?.inc({ subject: row.subject, outbox: table });
          break;
        }
        done.push(row.id);
        this.published?.inc({ subject: row.subject, outbox: table });
      }
      if (done.length > 0) {
        await tx`
          UPDATE ${tx(table)} SET published_at = now(), attempts = attempts + 1
          WHERE id = ANY(${done}::uuid[])`;
      }
      if (failure) {
        const { row, error } = failure;
        const message = String((error as Error)?.message ?? error).slice(0, 500);
        await tx`
          UPDATE ${tx(table)} SET attempts = attempts + 1, last_error = ${message}
          WHERE id = ${row.id}::uuid`;
        return -done.length - 1; // signals failure to the loop after committing the marks
      }
      return done.length;
    }, budgetMs);
  }

  private async run(): Promise<void> {
    const { logger, table } = this.options;
    let backoff = 0;
    let failing = false;
    while (!this.stopped) {
      let count: number;
      try {
        count = await this.relayOnce();
      } catch (error) {
        count = -1;
        if (!failing) logger.warn("outbox relay failed; retrying", { outbox: table, error });
      }
      if (this.stopped) break;
      if (count < 0) {
        if (!failing) {
          logger.warn("publishing outbox events failed; will retry with the same ids", {
            outbox: table,
          });
        }
        failing = true;
        backoff = Math.min(backoff === 0 ? 200 : backoff * 2, this.maxBackoffMs);
        await this.sleep(backoff, false);
        continue;
      }
      if (failing) logger.info("outbox relay publishing again", { outbox: table });
      failing = false;
      backoff = 0;
      // Published something: look again at once (a full batch, or one cut short by its time
      // budget, may have left rows behind); nothing (or another replica relays): wait.
      if (count > 0) continue;
      await this.sleep(this.pollIntervalMs, true);
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.pendingWake = false;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      this.wake = () => {
        if (wakeable || this.stopped) finish();
      };
    });
  }
}

const backlogGauges = new WeakSet<Metrics>();
const tablesByMetrics = new WeakMap<Metrics, Map<string, Database>>();

/** One pair of gauges per registry; each registered table is a label value. */
function registerBacklogGauges(metrics: Metrics): void {
  if (backlogGauges.has(metrics)) return;
  backlogGauges.add(metrics);
  let cache: { at: number; values: Promise<Array<[string, number, number]>> } | undefined;
  const read = () => {
    if (!cache || Date.now() - cache.at > 500) {
      const tables = [...(tablesByMetrics.get(metrics) ?? new Map<string, Database>()).entries()];
      cache = {
        at: Date.now(),
        values: Promise.all(tables.map(async ([name, database]) => {
          const [row] = await database.run((sql) =>
            sql<{ n: string; age: number | null }[]>`
              SELECT count(*) AS n,
                     extract(epoch FROM now() - min(created_at))::float8 AS age
              FROM ${sql(name)} WHERE published_at IS NULL`, 2000);
          return [name, Number(row.n), row.age ?? 0] as [string, number, number];
        })).catch(() => []),
      };
    }
    return cache.values;
  };
  metrics.gauge("outbox_backlog", "Outbox events not yet published.", ["outbox"], async (g) => {
    for (const [name, n] of await read()) g.set({ outbox: name }, n);
  });
  metrics.gauge(
    "outbox_oldest_event_age_seconds",
    "Age of the oldest unpublished outbox event (0 when none).",
    ["outbox"],
    async (g) => {
      for (const [name, , age] of await read()) g.set({ outbox: name }, age);
    },
  );
}

/**
 * Registers `table` for the `outbox_backlog` and `outbox_oldest_event_age_seconds` gauges of
 * `metrics`, so they report from start even before a relay runs (NATS down).
 *
 * @example
 * ```ts
 * registerOutboxMetrics(metrics, db, "task_outbox");
 * ```
 */
export function registerOutboxMetrics(metrics: Metrics, db: Database, table: string): void {
  assertIdentifier(table);
  let tables = tablesByMetrics.get(metrics);
  if (!tables) tablesByMetrics.set(metrics, tables = new Map());
  tables.set(table, db);
  registerBacklogGauges(metrics);
}

function existing<T extends Counter<"subject" | "outbox"> | Gauge<string>>(
  metrics: Metrics,
  name: string,
): T | undefined {
  return metrics.registry.getSingleMetric(name) as T | undefined;
}

function assertIdentifier(table: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a table name: ${table}`);
}
