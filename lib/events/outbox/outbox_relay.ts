/**
 * The transactional outbox relay: publishes rows of an outbox table (outbox_table.ts) to
 * JetStream with `Nats-Msg-Id` = the row's id and marks them published. Generic over the table,
 * so every service's outbox (`task_outbox`, `proposal_outbox`, ...) shares it. Each publish is a
 * `publish <subject>` span, child of the row's `traceparent`, whose context goes out as the
 * `traceparent` NATS header (the row's own, as it is, with tracing off).
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
 * Wakes on the outbox's notifications (outbox_wakeup.ts) and polls every `pollIntervalMs` as a
 * fallback.
 *
 * @module
 */
import type { JetStreamClient, JetStreamPublishOptions } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Counter } from "prom-client";
import type { Database } from "../../db/database.ts";
import type { Logger } from "../../log/logger.ts";
import type { Metrics } from "../../metrics/registry.ts";
import { type TraceHeaders, tracePublish } from "../../tracing/messaging_spans.ts";
import { registerOutboxMetrics } from "./outbox_metrics.ts";
import { assertOutboxTable } from "./outbox_table.ts";
import { listenForOutboxInserts, type StopListening } from "./outbox_wakeup.ts";

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
  traceparent: string | null;
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
  private unlisten?: StopListening;

  constructor(private readonly options: OutboxRelayOptions) {
    assertOutboxTable(options.table);
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
      this.unlisten = await listenForOutboxInserts(db, table, () => this.poke());
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
        SELECT id, subject, payload, traceparent FROM ${tx(table)}
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
          await tracePublish(row.subject, row.id, row.traceparent, (trace) =>
            js.publish(
              row.subject,
              encoder.encode(JSON.stringify(row.payload)),
              publishOptions(row, this.publishTimeoutMs, trace),
            ));
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

function existing(metrics: Metrics, name: string): Counter<"subject" | "outbox"> | undefined {
  return metrics.registry.getSingleMetric(name) as Counter<"subject" | "outbox"> | undefined;
}

/**
 * Nats-Msg-Id = the event id; the trace context (the publish span's, see tracePublish) as the
 * `traceparent` and `tracestate` headers.
 */
function publishOptions(
  row: OutboxRow,
  timeout: number,
  trace: TraceHeaders | undefined,
): Partial<JetStreamPublishOptions> {
  if (!trace) return { msgID: row.id, timeout };
  const h = headers();
  h.set("traceparent", trace.traceparent);
  if (trace.tracestate) h.set("tracestate", trace.tracestate);
  return { msgID: row.id, timeout, headers: h };
}
