/**
 * A durable JetStream pull consumer shared by every replica of a service: JetStream hands each
 * message to one of them, so each event is handled once (at least once, idempotently).
 *
 * - Explicit ack; `ack_wait`, `max_deliver` and a redelivery `backoff` on the consumer.
 * - The handler resolves: `ack`. It throws {@link UnprocessableEventError} or the codec's
 *   `MalformedEventError` (bad JSON, missing fields, unknown task): logged, counted in
 *   `events_malformed_total{consumer}`, `term` (never redelivered), and the loop carries on.
 *   Any other error: `nak(delay)` with a delay growing with the delivery count, so the event is
 *   retried later and never lost.
 * - Survives NATS restarts and a deleted consumer or stream: when the consume loop ends or fails
 *   it is re-created (consumer ensured again) after a short backoff.
 * - `stop()` closes the subscription and waits for the handlers in flight.
 *
 * @module
 */
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  jetstream,
  type JetStreamManager,
  jetstreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { safeHeaders } from "./message_headers.ts";
import type { Counter } from "prom-client";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import { traceConsume } from "../tracing/messaging_spans.ts";
import { isBadData } from "../db/pg_errors.ts";
import { MalformedEventError } from "./event_codec.ts";
import { backoffDelay } from "../runtime/backoff.ts";
import { Loop, type NextRound } from "../runtime/loop.ts";

/** The nats.js types in this module's API: a message, its headers, a consumer's settings. */
export type { ConsumerConfig, JsMsg, MsgHdrs };

/** Thrown by a handler for an event that can never be processed (it is terminated, not retried). */
export class UnprocessableEventError extends Error {
  /**
   * An error that terminates the event instead of retrying it.
   *
   * @param message Why the event can never be processed (logged with the event).
   * @example `throw new UnprocessableEventError("task_id must be a UUID")`
   */
  constructor(message: string) {
    super(message);
    this.name = "UnprocessableEventError";
  }
}

/** What a handler receives. */
export interface ConsumedEvent {
  /** The message's subject, such as `task.created`. */
  subject: string;
  /** The payload (the event as proto JSON). */
  data: Uint8Array;
  /** 1 on the first delivery. */
  deliveryCount: number;
  /** The stream sequence, for logs. */
  streamSequence: number;
  /** The message's NATS headers, when it has any (`Nats-Msg-Id`, `traceparent`, ...). */
  headers?: MsgHdrs;
  /** W3C trace context from the `traceparent` header, when the publisher set one. */
  traceparent?: string;
  /** The raw message (for `working()` on long handlers). */
  msg: JsMsg;
}

/** Settings of a durable consumer. */
export interface DurableConsumerOptions {
  /** The NATS connection (reconnects by itself). */
  nc: NatsConnection;
  /** The JetStream stream to consume, such as `TASKS`. */
  stream: string;
  /** The durable name shared by all replicas, such as `orchestrator-task-created`. */
  durable: string;
  /** The subjects of the stream this consumer takes (`task.created`, ...). */
  filterSubjects: string[];
  /** Handles one event; resolve to ack, throw to retry later (or to terminate, see above). */
  handler: (event: ConsumedEvent) => Promise<void>;
  /** Where outcomes and failures are logged. */
  logger: Logger;
  /** Counts outcomes (`events_consumed_total`, `events_malformed_total`) when given. */
  metrics?: Metrics;
  /** How long a delivered message may stay unacknowledged before redelivery. Default 30 s. */
  ackWaitMs?: number;
  /** Deliveries before JetStream gives up; -1 (default) never gives up, so nothing is lost. */
  maxDeliver?: number;
  /**
   * The nak delays by delivery count (default 1 s ... 60 s), also the consumer's redelivery
   * backoff after ack timeouts when max_deliver is finite.
   */
  backoffMs?: number[];
  /** Handlers running at once in this replica. Default 8. */
  concurrency?: number;
  /** Unacknowledged messages across all replicas. Default 1000. */
  maxAckPending?: number;
}

const DEFAULT_BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000, 60_000];
/** How long one pull request waits on the server (its idle heartbeat is half of it). */
const PULL_EXPIRES_MS = 2000;
/** Deliveries after which an event that keeps causing a data error is terminated. */
const BAD_DATA_DELIVERIES = 5;
const nanos = (ms: number) => ms * 1_000_000;

/**
 * The delay before retrying a message that failed on its `deliveryCount`-th delivery.
 *
 * @example
 * ```ts
 * nakDelay(1, [1000, 5000]); // 1000
 * nakDelay(9, [1000, 5000]); // 5000
 * ```
 */
export function nakDelay(deliveryCount: number, backoffMs: number[] = DEFAULT_BACKOFF_MS): number {
  const index = Math.max(0, Math.min(deliveryCount - 1, backoffMs.length - 1));
  return backoffMs[index] ?? 1000;
}

/**
 * Consumes a stream through a durable pull consumer until stopped.
 *
 * @example
 * ```ts ignore
 * const consumer = new DurableConsumer({
 *   nc, stream: "TASKS", durable: "orchestrator-task-created", filterSubjects: ["task.created"],
 *   handler: async (event) => { ... }, logger, metrics,
 * });
 * consumer.start();
 * await consumer.stop();
 * ```
 */
export class DurableConsumer {
  private readonly loop: Loop = new Loop({ round: () => this.consumeOnce() });
  /** Consumer (re)creations failed in a row. */
  private failures = 0;
  private messages?: ConsumerMessages;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly malformed?: Counter<"consumer">;
  private readonly outcomes?: Counter<"consumer" | "subject" | "outcome">;
  private readonly backoffMs: number[];
  private readonly concurrency: number;

  /**
   * A consumer that does nothing until {@link start}.
   *
   * @param options The stream, durable name, subjects, handler and limits.
   */
  constructor(private readonly options: DurableConsumerOptions) {
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    const metrics = options.metrics;
    if (metrics) {
      this.malformed = (metrics.registry.getSingleMetric("events_malformed_total") as
        | Counter<"consumer">
        | undefined) ??
        metrics.counter(
          "events_malformed_total",
          "Events that could not be processed (bad JSON, missing fields, unknown entity); terminated.",
          ["consumer"],
        );
      this.outcomes = (metrics.registry.getSingleMetric("events_consumed_total") as
        | Counter<"consumer" | "subject" | "outcome">
        | undefined) ??
        metrics.counter(
          "events_consumed_total",
          "Events handled by a durable consumer, by outcome (ack, nak, term).",
          ["consumer", "subject", "outcome"],
        );
    }
  }

  /** The consumer configuration this class creates or updates. */
  consumerConfig(): Partial<ConsumerConfig> {
    const o = this.options;
    const maxDeliver = o.maxDeliver ?? -1;
    // JetStream requires max_deliver > len(backoff) and refuses a backoff with unlimited
    // max_deliver; then redelivery after an ack timeout waits ack_wait, and failed handlers still
    // get the growing nak delays.
    const backoff = maxDeliver === -1 ? [] : this.backoffMs.slice(0, maxDeliver - 1);
    return {
      durable_name: o.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(o.ackWaitMs ?? 30_000),
      max_deliver: maxDeliver,
      backoff: backoff.length > 0 ? backoff.map(nanos) : undefined,
      max_ack_pending: o.maxAckPending ?? 1000,
      ...(o.filterSubjects.length === 1
        ? { filter_subject: o.filterSubjects[0] }
        : { filter_subjects: o.filterSubjects }),
    };
  }

  /** Starts the consume loop (in the background). */
  start(): void {
    this.loop.start();
  }

  /** Stops fetching, waits for the handlers in flight; resolves when the loop has ended. */
  async stop(): Promise<void> {
    const stopped = this.loop.stop();
    await this.messages?.close().catch(() => {});
    await stopped;
    this.messages = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Creates the durable consumer, or updates it to this configuration. */
  async ensureConsumer(jsm?: JetStreamManager): Promise<void> {
    const manager = jsm ?? await jetstreamManager(this.options.nc);
    const config = this.consumerConfig();
    try {
      await manager.consumers.add(this.options.stream, config);
    } catch (error) {
      const message = (error as Error)?.message ?? "";
      if (!/already exists|exists with different|consumer name already in use/i.test(message)) {
        throw error;
      }
      await manager.consumers.update(this.options.stream, this.options.durable, config);
    }
  }

  /**
   * One round of the loop: (re)creates the consumer and hands messages to {@link process} until
   * the consume ends; then waits before re-creating it, longer while it keeps failing.
   */
  private async consumeOnce(): Promise<NextRound> {
    const { nc, stream, durable, logger } = this.options;
    try {
      await this.ensureConsumer();
      const js = jetstream(nc);
      const consumer = await js.consumers.get(stream, durable);
      // Short pulls: after a NATS restart or a stream leader change, nats.js re-pulls once two
      // idle heartbeats (expires / 2 each) are missed, and retries its consumer check every
      // `expires`; its default of 30 s left consumers idle for half a minute after an outage.
      const messages = await consumer.consume({
        max_messages: this.concurrency * 2,
        expires: PULL_EXPIRES_MS,
      });
      this.messages = messages;
      if (this.loop.stopped) {
        await messages.close().catch(() => {});
        return 0;
      }
      logger.info("consuming", { stream, consumer: durable, recovered_after: this.failures });
      this.failures = 0;
      this.watchStatus(messages);
      for await (const msg of messages) {
        if (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
        const task = this.process(msg).finally(() => this.inFlight.delete(task));
        this.inFlight.add(task);
        if (this.loop.stopped) break;
      }
      if (!this.loop.stopped) logger.warn("consume loop ended; re-creating", { consumer: durable });
    } catch (error) {
      if (this.loop.stopped) return 0;
      this.failures++;
      if (this.failures === 1 || this.failures % 20 === 0) {
        logger.warn("consumer unavailable; retrying", {
          consumer: durable,
          error,
          failures: this.failures,
        });
      }
    }
    return backoffDelay(this.failures, { initialMs: 250, maxMs: 5000 });
  }

  /** Ends the consume loop when the consumer or its stream disappears (it is re-created). */
  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (
          status.type === "consumer_deleted" || status.type === "consumer_not_found" ||
          status.type === "stream_not_found"
        ) {
          this.options.logger.warn("consumer lost; re-creating", {
            consumer: this.options.durable,
            status: status.type,
          });
          await messages.close().catch(() => {});
          return;
        }
      }
    } catch { /* the iterator ended */ }
  }

  /** Handles one message in its trace's CONSUMER span, then acks, naks or terminates it. */
  private async process(msg: JsMsg): Promise<void> {
    const { logger, durable } = this.options;
    const deliveryCount = msg.info.deliveryCount;
    const subject = msg.subject;
    const headers = safeHeaders(msg);
    try {
      await traceConsume(
        { subject, headers, deliveryCount },
        durable,
        () =>
          this.options.handler({
            subject,
            data: msg.data,
            deliveryCount,
            streamSequence: msg.info.streamSequence,
            headers,
            traceparent: headers?.get("traceparent") || undefined,
            msg,
          }),
      );
      msg.ack();
      this.outcomes?.inc({ consumer: durable, subject, outcome: "ack" });
    } catch (error) {
      // A data error from PostgreSQL is the event's fault when it keeps happening, but could be
      // a bug in our own SQL: it is retried a few times (so a fix can ship) before termination.
      if (
        error instanceof UnprocessableEventError || error instanceof MalformedEventError ||
        (isBadDataError(error) && deliveryCount >= BAD_DATA_DELIVERIES)
      ) {
        logger.warn("malformed event terminated", {
          consumer: durable,
          subject,
          stream_seq: msg.info.streamSequence,
          problem: (error as Error).message,
          payload: new TextDecoder().decode(msg.data.subarray(0, 512)),
        });
        this.malformed?.inc({ consumer: durable });
        this.outcomes?.inc({ consumer: durable, subject, outcome: "term" });
        // No reason on the wire: nats-server before 2.10.4 ignores "+TERM <reason>", and the
        // message would come back after ack_wait. The reason is in the log line above.
        msg.term();
        return;
      }
      const delay = nakDelay(deliveryCount, this.backoffMs);
      logger.warn("event handler failed; retrying later", {
        consumer: durable,
        subject,
        stream_seq: msg.info.streamSequence,
        delivery: deliveryCount,
        retry_in_ms: delay,
        error,
      });
      this.outcomes?.inc({ consumer: durable, subject, outcome: "nak" });
      msg.nak(delay);
    }
  }
}

/**
 * True for a PostgreSQL data exception (class 22: a NUL byte, a value out of range) or limit
 * error (class 54: a value too big to index): the event's content is bad, and retrying it would
 * fail the same way forever.
 *
 * @example
 * ```ts
 * isBadDataError({ code: "22021" }); // true
 * ```
 */
export function isBadDataError(error: unknown): boolean {
  return isBadData(error);
}
