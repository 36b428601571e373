/**
 * The transactional outbox relay: publishes rows of an outbox table (outbox_table.ts) to
 * JetStream with `Nats-Msg-Id` = the row's id and marks them published. Generic over the table,
 * so every service's outbox (`task_outbox`, `proposal_outbox`, ...) shares it. Each publish is a
 * `publish <subject>` span, child of the row's `traceparent`, whose context goes out as the
 * `traceparent` NATS header (the row's own, as it is, with tracing off).
 *
 * **Leadership for a session.** One relay per table at a time, across replicas: the leader holds
 * a session-level advisory lock (`pg_try_advisory_lock(hashtext(table))`) on a connection of its
 * own (`Database.dedicatedSession`), and reads and marks rows on that connection. Every read
 * checks that the session is still the one that took the lock (its backend pid), so a session
 * lost to a PostgreSQL restart or a network cut (and silently reopened) is noticed and the lock
 * taken again; a query that does not answer in time closes the connection, which ends the
 * session and frees the lock for another replica. The other replicas try for the lock every
 * `pollIntervalMs` (hot standbys).
 *
 * **Pipelined, in order per entity.** The leader reads a batch (oldest `seq` first) and publishes
 * it in windows: all of a window's publishes are sent at once and their acks awaited together.
 * A window never holds two events of the same task, proposal or user (the payload's `task_id`,
 * `proposal_id`, `user_id`), and an event with none of those goes alone, so an event is sent only
 * after every earlier event of its entities was acknowledged: `task.status_changed` never reaches
 * the stream before its task's `task.created`, even when a publish fails or NATS restarts
 * mid-window. (Events of different entities in one window may be stored out of `seq` order when
 * one of them fails and is retried.) The first failed window ends the batch; the acknowledged
 * rows are marked published in one statement per batch, the failed ones record their error, and
 * the relay backs off and retries with the same ids. If a process dies after a publish but before
 * marking, the rows are published again with the same Nats-Msg-Id, which JetStream drops within
 * the stream's duplicate window.
 *
 * **Woken in-process, bounded by polling.** A writer of this process wakes the relay after its
 * commit (outbox_wakeup.ts); events committed by another replica are found by the leader's poll,
 * so they wait at most `pollIntervalMs` (default 250 ms) plus one publish round.
 *
 * @module
 */
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Counter, Histogram } from "prom-client";
import type { Database, Sql } from "../../db/database.ts";
import type { Logger } from "../../log/logger.ts";
import type { Metrics } from "../../metrics/registry.ts";
import { backoffDelay } from "../../runtime/backoff.ts";
import { Loop, type NextRound } from "../../runtime/loop.ts";
import { type TraceHeaders, tracePublish } from "../../tracing/messaging_spans.ts";
import { registerOutboxMetrics } from "./outbox_metrics.ts";
import { assertOutboxTable } from "./outbox_table.ts";
import { onOutboxWake, type StopListening } from "./outbox_wakeup.ts";

/** Settings of a relay. */
export interface OutboxRelayOptions {
  /** The pool the outbox table lives in (the relay also opens one session of its own). */
  db: Database;
  /** The outbox table, such as `task_outbox`. A plain SQL identifier. */
  table: string;
  /** Where events are published. */
  js: JetStreamClient;
  /** Where the relay says it leads, fails and recovers. */
  logger: Logger;
  /** Counters of published and failed events, the commit-to-ack histogram, the backlog gauges. */
  metrics?: Metrics;
  /** Rows read per batch. Default 500. */
  batchSize?: number;
  /** Most publishes in flight at once (a window). Default 256. */
  windowSize?: number;
  /**
   * How often the leader looks for rows no in-process wake announced (another replica's), and
   * how often the other replicas try for the leadership. Default 250 ms.
   */
  pollIntervalMs?: number;
  /** Longest wait between retries while publishing fails. Default 5000 ms. */
  maxBackoffMs?: number;
  /** Timeout of one JetStream publish. Default 3000 ms. */
  publishTimeoutMs?: number;
  /** Timeout of one query of the relay's session. Default the pool's query timeout. */
  queryTimeoutMs?: number;
}

/** A row as the relay reads it. */
export interface OutboxRow {
  /** The event id (`Nats-Msg-Id`). */
  id: string;
  /** The subject it is published on. */
  subject: string;
  /** The event as proto JSON. */
  payload: unknown;
  /** W3C trace context, sent as the `traceparent` header when set. */
  traceparent: string | null;
  /** `created_at`, epoch milliseconds. */
  created_ms: number;
}

/** The leader's session: its client, and the backend that holds the lock. */
interface Leadership {
  session: Sql;
  pid: number;
}

/** Thrown when the leader's session is no longer the one holding the lock. */
class LeadershipLost extends Error {}

/**
 * Publishes an outbox table's rows to JetStream until stopped.
 *
 * @example
 * ```ts ignore
 * const relay = new OutboxRelay({ db, table: "task_outbox", js: jetstream(nc), logger, metrics });
 * await relay.start();
 * // ...
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly windowSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly lockKey: string;
  private readonly published?: Counter<"subject" | "outbox">;
  private readonly failed?: Counter<"subject" | "outbox">;
  private readonly commitToAck?: Histogram<"outbox">;
  private readonly loop: Loop = new Loop({ round: () => this.round() });
  private started = false;
  /** Rounds failed in a row (0 while publishing works). */
  private failures = 0;
  private unlisten?: StopListening;
  private leader?: Leadership;
  /**
   * Events JetStream acknowledged whose rows could not be marked (the database went away at that
   * moment): marked before anything is read again, never published again by this relay, so an
   * outage longer than the stream's duplicate window does not publish them twice.
   */
  private readonly ackedUnmarked = new Set<string>();
  private session?: Sql;

  /** A relay of `options.table`; nothing runs before {@link start}. */
  constructor(private readonly options: OutboxRelayOptions) {
    assertOutboxTable(options.table);
    this.lockKey = options.table;
    this.batchSize = options.batchSize ?? 500;
    this.windowSize = Math.max(1, options.windowSize ?? 256);
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 3000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? options.db.pool.queryTimeoutMs;
    const metrics = options.metrics;
    if (metrics) {
      this.published = existing(metrics, "events_published_total") ??
        metrics.counter(
          "events_published_total",
          "Events published to JetStream by the outbox relay.",
          ["subject", "outbox"],
        );
      this.failed = existing(metrics, "events_publish_failed_total") ??
        metrics.counter(
          "events_publish_failed_total",
          "Attempts to publish an outbox event that failed (it is retried).",
          ["subject", "outbox"],
        );
      this.commitToAck = (metrics.registry.getSingleMetric("outbox_commit_to_ack_seconds") as
        | Histogram<"outbox">
        | undefined) ??
        metrics.histogram(
          "outbox_commit_to_ack_seconds",
          "From an outbox row's created_at (its transaction) to JetStream's ack of its event.",
          [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          ["outbox"],
        );
      registerOutboxMetrics(metrics, options.db, options.table);
    }
  }

  /** Starts listening for in-process wake-ups and the relay loop. */
  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.started = true;
    const { table, logger } = this.options;
    this.unlisten = onOutboxWake(table, () => this.poke());
    this.loop.start();
    logger.info("outbox relay started", { outbox: table, pollIntervalMs: this.pollIntervalMs });
    return Promise.resolve();
  }

  /** Stops after the batch in progress and gives up the leadership; resolves when done. */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.unlisten?.();
    this.unlisten = undefined;
    await this.resign(true);
    await this.closeSession(1);
  }

  /** Asks the loop to look for rows now. */
  poke(): void {
    this.loop.poke();
  }

  /** True while this relay holds the table's leadership. */
  get leading(): boolean {
    return this.leader !== undefined;
  }

  /**
   * Reads, publishes and marks one batch as the leader (taking the leadership first when free);
   * returns how many rows it published (0 also when another replica leads). Stops at the first
   * failed window: what was acknowledged is marked, the failures record their error, and the
   * result is negative (`-published - 1`) so the loop backs off.
   */
  async relayOnce(): Promise<number> {
    const leader = this.leader ?? await this.lead();
    if (!leader) return 0;
    const { table } = this.options;
    if (this.ackedUnmarked.size > 0) {
      const ids = [...this.ackedUnmarked];
      try {
        await this.query(leader, (sql) =>
          sql`
            UPDATE ${sql(table)} SET published_at = now(), attempts = attempts + 1
            WHERE id = ANY(${ids}::uuid[]) AND published_at IS NULL`);
      } catch (error) {
        await this.resign(false);
        throw error;
      }
      for (const id of ids) this.ackedUnmarked.delete(id);
    }
    let rows: OutboxRow[];
    try {
      // One round trip: the batch and the session's backend pid (a row even when no event waits).
      const read = await this.query(leader, (sql) =>
        sql<(Partial<OutboxRow> & { pid: number })[]>`
          SELECT pg_backend_pid() AS pid, r.* FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (
            SELECT id::text AS id, subject, payload, traceparent,
                   (extract(epoch FROM created_at) * 1000)::float8 AS created_ms
            FROM ${sql(table)}
            WHERE published_at IS NULL
            ORDER BY seq
            LIMIT ${this.batchSize}) AS r ON true`);
      if (read[0].pid !== leader.pid) {
        throw new LeadershipLost("the relay's session was reopened");
      }
      rows = read.filter((r) => r.id != null) as OutboxRow[];
    } catch (error) {
      await this.resign(false);
      throw error;
    }
    if (rows.length === 0) return 0;

    const done: string[] = [];
    const failures: Array<{ row: OutboxRow; error: unknown }> = [];
    for (const window of publishWindows(rows, this.windowSize)) {
      const results = await Promise.allSettled(window.map((row) => this.publish(row)));
      const acked = Date.now();
      results.forEach((result, i) => {
        const row = window[i];
        if (result.status === "fulfilled") {
          done.push(row.id);
          this.published?.inc({ subject: subjectLabel(row.subject), outbox: table });
          this.commitToAck?.observe({ outbox: table }, Math.max(0, acked - row.created_ms) / 1000);
        } else {
          failures.push({ row, error: result.reason });
          this.failed?.inc({ subject: subjectLabel(row.subject), outbox: table });
        }
      });
      if (failures.length > 0 || this.loop.stopped) break;
    }
    try {
      await this.query(leader, (sql) =>
        failures.length === 0
          ? sql`
            UPDATE ${sql(table)} SET published_at = now(), attempts = attempts + 1
            WHERE id = ANY(${done}::uuid[])`
          : sql`
            UPDATE ${sql(table)} AS o
            SET published_at = CASE WHEN f.error IS NULL THEN now() END,
                attempts = o.attempts + 1,
                last_error = COALESCE(f.error, o.last_error)
            FROM unnest(${[...done, ...failures.map((f) => f.row.id)]}::uuid[],
                        ${[...done.map(() => null), ...failures.map((f) => errorText(f.error))]}
                          ::text[]) AS f(id, error)
            WHERE o.id = f.id`);
    } catch (error) {
      // Published but not marked: marked first when this relay leads again. Another replica
      // taking over meanwhile publishes them again with the same ids (JetStream drops them within
      // its duplicate window).
      for (const id of done) this.ackedUnmarked.add(id);
      await this.resign(false);
      throw error;
    }
    return failures.length > 0 ? -done.length - 1 : done.length;
  }

  /**
   * Publishes one row: `Nats-Msg-Id` = the event id, the row's trace context as `traceparent`.
   * The one place a relay publishes (headers added at publish time go here).
   */
  private publish(row: OutboxRow): Promise<PubAck> {
    return tracePublish(row.subject, row.id, row.traceparent, (trace) =>
      this.options.js.publish(
        row.subject,
        encoder.encode(JSON.stringify(row.payload)),
        publishOptions(row, this.publishTimeoutMs, trace),
      ));
  }

  /**
   * Takes the leadership when free: a session-level advisory lock on the relay's connection of
   * its own (kept open by a standby too, which tries again on it at each poll).
   */
  private async lead(): Promise<Leadership | undefined> {
    this.session ??= this.options.db.dedicatedSession("outbox-relay");
    const attempt: Leadership = { session: this.session, pid: 0 };
    try {
      const [row] = await this.query(attempt, (sql) =>
        sql<{ locked: boolean; pid: number }[]>`
          SELECT pg_try_advisory_lock(hashtext(${this.lockKey})) AS locked,
                 pg_backend_pid() AS pid`);
      if (!row.locked) return undefined;
      this.leader = { session: attempt.session, pid: row.pid };
      this.options.logger.info("outbox relay leads", { outbox: this.options.table });
      return this.leader;
    } catch (error) {
      await this.closeSession(0);
      throw error;
    }
  }

  /**
   * Gives the leadership up: unlocks when asked (a clean stop); otherwise (an error, a lost
   * session) closes the session, which ends it on the server and with it the lock, even when an
   * unlock could not be sent.
   */
  private async resign(unlock: boolean): Promise<void> {
    const leader = this.leader;
    this.leader = undefined;
    if (leader && unlock) {
      await this.query(leader, (sql) => sql`SELECT pg_advisory_unlock(hashtext(${this.lockKey}))`)
        .catch(() => {});
    }
    if (leader || !unlock) await this.closeSession(unlock ? 1 : 0);
  }

  /** Closes the relay's own connection (the server ends the session and its locks). */
  private async closeSession(timeoutSeconds: number): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.end({ timeout: timeoutSeconds }).catch(() => {});
  }

  /** A query on the relay's session, bounded on the client side too (a frozen server). */
  private async query<T>(leader: Leadership, work: (sql: Sql) => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const running = work(leader.session);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        (running as { cancel?: () => unknown }).cancel?.();
        reject(new Error(`outbox relay query timed out after ${this.queryTimeoutMs} ms`));
      }, this.queryTimeoutMs);
    });
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One round of the loop: relay, then back off while failing (a wake-up does not shorten it),
   * or wait for a wake-up or the next poll.
   */
  private async round(): Promise<NextRound> {
    const { logger, table } = this.options;
    let count: number;
    try {
      count = await this.relayOnce();
    } catch (error) {
      count = -1;
      if (this.failures === 0) {
        logger.warn("outbox relay failed; retrying", { outbox: table, error });
      }
    }
    if (this.loop.stopped) return 0;
    if (count < 0) {
      if (this.failures === 0) {
        logger.warn("publishing outbox events failed; will retry with the same ids", {
          outbox: table,
        });
      }
      this.failures++;
      const ms = backoffDelay(this.failures - 1, { initialMs: 200, maxMs: this.maxBackoffMs });
      return { ms, wakeable: false };
    }
    if (this.failures > 0) logger.info("outbox relay publishing again", { outbox: table });
    this.failures = 0;
    // A full batch may have left rows behind: look again at once. Otherwise wait for a wake-up
    // (one that came while publishing ends the wait at once) or the next poll.
    if (count >= this.batchSize) return 0;
    return { ms: this.pollIntervalMs, wakeable: this.leader !== undefined };
  }
}

const encoder = new TextEncoder();

/** The payload fields that name the entity whose events must stay in order. */
const ORDERING_FIELDS = ["task_id", "proposal_id", "user_id"] as const;

/**
 * Splits rows (in `seq` order) into windows to publish at once: at most `size` rows, never two
 * rows that share an entity (payload `task_id`, `proposal_id` or `user_id`), and a row without
 * any of those alone.
 *
 * @example
 * ```ts ignore
 * publishWindows(rows, 256); // [[a1, b1, c1], [a2], ...]
 * ```
 */
export function publishWindows(rows: readonly OutboxRow[], size: number): OutboxRow[][] {
  const windows: OutboxRow[][] = [];
  let current: OutboxRow[] = [];
  let keys = new Set<string>();
  const close = () => {
    if (current.length > 0) windows.push(current);
    current = [];
    keys = new Set();
  };
  for (const row of rows) {
    const payload = (row.payload ?? {}) as Record<string, unknown>;
    const rowKeys = ORDERING_FIELDS.flatMap((field) => {
      const value = payload[field];
      return typeof value === "string" && value !== "" ? [`${field}:${value}`] : [];
    });
    if (rowKeys.length === 0) {
      close();
      windows.push([row]);
      continue;
    }
    if (current.length >= size || rowKeys.some((k) => keys.has(k))) close();
    current.push(row);
    for (const k of rowKeys) keys.add(k);
  }
  close();
  return windows;
}

function errorText(error: unknown): string {
  return String((error as Error)?.message ?? error).slice(0, 500);
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

/**
 * A subject as a metric label: per-user notification subjects (`notify.<user_id>.<kind>`) become
 * `notify.*.<kind>`, so the series do not grow with the number of users.
 */
export function subjectLabel(subject: string): string {
  return subject.startsWith("notify.") ? subject.replace(/^notify\.[^.]+\./, "notify.*.") : subject;
}
