/**
 * Writing events to an outbox, in the caller's transaction: the change and its events commit
 * together or not at all, and the relay (outbox_relay.ts) publishes them after commit. Events are
 * built from the catalog ({@link outboxEvent}), so the subject is one the catalog knows and the
 * payload is that event's protobuf message.
 *
 * @module
 */
import { create, type JsonValue } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { afterCommit, type Sql, type TransactionSql } from "../../db/database.ts";
import type { AnyEventType, EventInit, EventSubject } from "../catalog.ts";
import { eventToJson } from "../event_codec.ts";
import { activeTraceparent } from "../../tracing/trace_context.ts";
import { assertOutboxTable } from "./outbox_table.ts";
import { wakeOutboxRelays } from "./outbox_wakeup.ts";

/** One row to write to an outbox. Build it with {@link outboxEvent}. */
export interface OutboxEvent<Subject extends EventSubject = EventSubject> {
  /** The event id: `event_id` in the payload, the row's id and the `Nats-Msg-Id`. */
  readonly id: string;
  /** The subject of the catalog it is published on. */
  readonly subject: Subject;
  /** The event as proto JSON with proto field names. */
  readonly payload: JsonValue;
  /** W3C trace context (`00-<trace>-<span>-<flags>`), sent as the `traceparent` NATS header. */
  readonly traceparent?: string;
}

/** Options of {@link outboxEvent}. */
export interface OutboxEventOptions {
  /** The event id; a fresh UUID when unset. */
  id?: string;
  /** `occurred_at` when the payload does not set it; now when unset. */
  now?: Date;
  /** W3C trace context to carry with the event; the active span's when unset (tracing on). */
  traceparent?: string;
}

/**
 * Builds an outbox row for an event of the catalog: sets `event_id` (a fresh UUID unless given)
 * and `occurred_at` (now, unless the payload sets it), and encodes the payload as proto JSON.
 *
 * @example
 * ```ts ignore
 * const event = outboxEvent(EVENTS.proposalAccepted, { proposalId, taskId, developerId });
 * await outbox.write(tx, [event]);
 * ```
 */
export function outboxEvent<E extends AnyEventType>(
  type: E,
  init: EventInit<E>,
  options: OutboxEventOptions = {},
): OutboxEvent<E["subject"]> {
  const id = options.id ?? crypto.randomUUID();
  // Every message of the catalog has event_id and occurred_at (catalog_test.ts checks it).
  const message = create(type.schema, init as never) as unknown as {
    eventId: string;
    occurredAt?: Timestamp;
  };
  message.eventId = id;
  message.occurredAt ??= timestampFromDate(options.now ?? new Date());
  const payload = eventToJson(type.schema, message as never);
  const traceparent = options.traceparent ?? activeTraceparent();
  return traceparent === undefined
    ? { id, subject: type.subject, payload }
    : { id, subject: type.subject, payload, traceparent };
}

/**
 * Writes events to one outbox table (see outbox_table.ts for its shape).
 *
 * @example
 * ```ts ignore
 * const outbox = new OutboxWriter("task_outbox");
 * await db.transaction(async (tx) => {
 *   const task = await store.insert(tx, newTask);
 *   await outbox.write(tx, [outboxEvent(EVENTS.taskCreated, { taskId: task.id, ... })]);
 * });
 * ```
 */
export class OutboxWriter {
  /**
   * A writer of one outbox table.
   *
   * @param table The outbox table, such as `task_outbox`.
   */
  constructor(readonly table: string) {
    assertOutboxTable(table);
  }

  /**
   * Inserts the events, in order (their `seq` follows the array), in one statement of the
   * caller's transaction. Nothing is published before that transaction commits; once it has
   * (a transaction of `Database.transaction`, or at once for an autocommit client), the relays
   * of this process are woken (outbox_wakeup.ts); other replicas' relays find the rows by polling.
   * An event without its own `traceparent` gets the active span's (the RPC or event handler
   * writing it).
   */
  async write(tx: Sql | TransactionSql, events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    this.check(events);
    await tx`
      INSERT INTO ${tx(this.table)} (id, subject, payload, traceparent)
      SELECT e.id, e.subject, e.payload::jsonb, e.traceparent
      FROM unnest(${events.map((e) => e.id)}::uuid[], ${events.map((e) => e.subject)}::text[],
                  ${events.map((e) => JSON.stringify(e.payload))}::text[],
                  ${events.map((e) => e.traceparent ?? activeTraceparent() ?? null)}::text[])
        WITH ORDINALITY AS e(id, subject, payload, traceparent, n)
      ORDER BY e.n`;
    const table = this.table;
    afterCommit(tx, () => wakeOutboxRelays(table));
  }

  /**
   * Throws unless every event can be written: a subject, not a pattern such as `notify.*`.
   *
   * @example
   * ```ts ignore
   * outbox.check([event]);
   * ```
   */
  check(events: readonly OutboxEvent[]): void {
    const pattern = events.find((e) => /[*>]/.test(e.subject));
    if (pattern) {
      throw new Error(
        `${pattern.subject} is a subject pattern, not a subject: build notifications with notificationEvent()`,
      );
    }
  }

  /**
   * The writer's INSERT as SQL text, for a write that must put its events in the same statement
   * as its rows (CreateTask's one statement, services/tasks/create_task_sql.ts, embeds it as a
   * CTE): inserts the rows of `source`, a relation of the caller's statement with the columns
   * `id` (uuid), `subject` (text), `payload` (the event's JSON as text), `traceparent` (text or
   * NULL) and `n` (their order). Subjects and payloads are the statement's parameters, never SQL
   * literals: build them with {@link outboxEvent} and pass them through {@link check}. The caller
   * wakes this process's relays once it has committed (`wakeOutboxRelays(writer.table)`).
   *
   * @example
   * ```ts ignore
   * const sql = `WITH e AS (SELECT ... ), outbox AS (${writer.insertFrom("e")}) SELECT 1`;
   * ```
   */
  insertFrom(source: string): string {
    if (!/^[a-z_][a-z0-9_]*$/.test(source)) throw new Error(`not a relation name: ${source}`);
    return `INSERT INTO ${this.table} (id, subject, payload, traceparent)
    SELECT id, subject, payload::jsonb, traceparent FROM ${source} ORDER BY n`;
  }
}
