/**
 * `platform.notifications.v1.NotificationService/Watch`: the signed-in user's notifications as a
 * server stream, over Connect and gRPC-web alike (so a browser can read it with `fetch`).
 *
 * Each call is one ordered JetStream consumer (ephemeral, in memory, no acks) on the
 * NOTIFICATIONS stream, filtered to the caller's own subject `notify.<user_id>.>`: the server
 * delivers only that user's messages, in stream order, and the consumer is deleted when the call
 * ends. The caller's id comes from the verified token, never from the request, and each message is
 * checked to be addressed to the caller before it is sent. Every frame carries a cursor
 * (watch_cursor.ts) signed for the caller: reconnecting with the last one resumes right after it.
 *
 * Frames: a `keep_alive` first (with the starting cursor, so even a client that saw nothing can
 * resume), then `notification`s, a `keep_alive` whenever nothing was sent for `keepAliveMs` (so
 * proxies and browsers do not cut an idle stream), and a `gap` when the cursor is older than the
 * stream keeps. A stream ends by itself after `maxStreamMs` (the client reconnects with its cursor
 * and a fresh token) and when the server starts draining, and with `unauthenticated` when the
 * token it was opened with expires (a stream must not outlive the right to read it; the client
 * reconnects with a fresh token and its cursor, and misses nothing).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { type Consumer, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  GapSchema,
  KeepAliveSchema,
  type NotificationService,
  type WatchResponse,
  WatchResponseSchema,
} from "@platform/proto/notifications/v1";
import type { Counter, Gauge } from "prom-client";
import { requirePrincipal } from "../auth/principal.ts";
import {
  DependencyUnavailableError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../errors.ts";
import { EVENTS } from "../events/catalog.ts";
import { decodeEvent } from "../events/event_codec.ts";
import { safeHeaders } from "../events/message_headers.ts";
import {
  isNotifiableUser,
  notificationFilter,
  notificationMatchesSubject,
} from "../events/notification_events.ts";
import { NOTIFICATIONS_STREAM } from "../events/streams.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/registry.ts";
import { traceDelivered } from "../tracing/messaging_spans.ts";
import type { WatchCursors } from "./watch_cursor.ts";

/** Settings of the Watch service. */
export interface WatchServiceOptions {
  /** The NATS connection, once there is one (Watch answers `unavailable` before). */
  nats: () => NatsConnection | undefined;
  /** Signs and verifies the streams' cursors. */
  cursors: WatchCursors;
  /** Where stream failures are logged. */
  logger: Logger;
  /** Where to count open streams and delivered notifications (none when unset). */
  metrics?: Metrics;
  /** A keep_alive after this long without a frame. Default 15 000 ms. */
  keepAliveMs?: number;
  /** A stream ends after this long (the client resumes with its cursor). Default 1 h. */
  maxStreamMs?: number;
  /** Streams one user may hold open at once on this replica. Default 8. */
  maxStreamsPerUser?: number;
  /** Streams open at once on this replica. Default 10 000. */
  maxStreams?: number;
  /** Aborted when the server starts draining: open streams end so clients resume elsewhere. */
  drain?: AbortSignal;
}

interface WatchMetrics {
  open: Gauge;
  delivered: Counter;
  malformed: Counter<"consumer">;
}

/** The `consumer` label of malformed notifications skipped by Watch. */
export const WATCH_CONSUMER_LABEL = "watch";

/**
 * The NotificationService implementation.
 *
 * @example
 * ```ts ignore
 * router.service(NotificationService, notificationHandlers({
 *   nats: () => nc,
 *   cursors: new WatchCursors(config.jwtSecrets),
 *   logger,
 *   metrics,
 * }));
 * ```
 */
export function notificationHandlers(
  options: WatchServiceOptions,
): ServiceImpl<typeof NotificationService> {
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const maxStreamMs = options.maxStreamMs ?? 3_600_000;
  const perUser = options.maxStreamsPerUser ?? 8;
  const maxStreams = options.maxStreams ?? 10_000;
  const open = new Map<string, number>();
  let total = 0;
  const metrics = options.metrics ? watchMetrics(options.metrics) : undefined;
  const { cursors, logger } = options;

  const admit = (userId: string) => {
    if (total >= maxStreams) {
      throw new ConnectError(
        "too many notification streams on this server; retry shortly",
        Code.ResourceExhausted,
      );
    }
    if ((open.get(userId) ?? 0) >= perUser) {
      throw new ConnectError(
        `at most ${perUser} Watch streams per user at once; close one first`,
        Code.ResourceExhausted,
      );
    }
    open.set(userId, (open.get(userId) ?? 0) + 1);
    total++;
    metrics?.open.set(total);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (open.get(userId) ?? 1) - 1;
      if (left <= 0) open.delete(userId);
      else open.set(userId, left);
      total--;
      metrics?.open.set(total);
    };
  };

  return {
    async *watch(req, ctx) {
      const me = requirePrincipal(ctx);
      const userId = me.subject.toLowerCase();
      if (!isNotifiableUser(userId)) {
        throw new PermissionDeniedError("Watch streams a user account's notifications");
      }
      const after = req.cursor === "" ? undefined : await cursors.verify(userId, req.cursor);
      const nc = options.nats();
      if (!nc || nc.isClosed()) {
        throw new DependencyUnavailableError("nats", new Error("not connected yet"));
      }
      const release = admit(userId);
      let consumer: Consumer | undefined;
      let stopWaiting: (() => void) | undefined;
      try {
        let state;
        try {
          const jsm = await jetstreamManager(nc);
          state = (await jsm.streams.info(NOTIFICATIONS_STREAM.name)).state;
        } catch (error) {
          throw new DependencyUnavailableError("nats", error);
        }
        const { start, gap } = startOf(after, state.first_seq, state.last_seq);
        try {
          consumer = await jetstream(nc).consumers.get(NOTIFICATIONS_STREAM.name, {
            filter_subjects: notificationFilter(userId),
            opt_start_seq: start,
          });
        } catch (error) {
          throw new DependencyUnavailableError("nats", error);
        }
        let seq = start - 1;
        const frame = async (value: WatchResponse["frame"]): Promise<WatchResponse> =>
          create(WatchResponseSchema, { cursor: await cursors.sign(userId, seq), frame: value });
        yield await frame(keepAlive());
        if (gap) yield await frame({ case: "gap", value: create(GapSchema, { reason: gap }) });

        const messages = await consumer.consume({ max_messages: 64 });
        const iterator = messages[Symbol.asyncIterator]();
        const stopped = new Promise<"stop" | "expired">((resolve) => {
          const stop = () => resolve("stop");
          const tokenLeftMs = me.expiresAt === undefined ? Infinity : me.expiresAt - Date.now();
          const timer = tokenLeftMs < maxStreamMs
            ? setTimeout(() => resolve("expired"), Math.max(0, tokenLeftMs))
            : setTimeout(stop, maxStreamMs);
          const signals = [ctx.signal, options.drain].filter((s) => s !== undefined);
          for (const signal of signals) signal.addEventListener("abort", stop, { once: true });
          if (signals.some((s) => s.aborted)) stop();
          stopWaiting = () => {
            clearTimeout(timer);
            for (const signal of signals) signal.removeEventListener("abort", stop);
            void messages.close().catch(() => {});
          };
        });
        let next = iterator.next();
        for (;;) {
          let tick: ReturnType<typeof setTimeout> | undefined;
          const idle = new Promise<"idle">((resolve) => {
            tick = setTimeout(() => resolve("idle"), keepAliveMs);
          });
          const got = await Promise.race([next, idle, stopped]);
          clearTimeout(tick);
          if (got === "stop") return;
          if (got === "expired") {
            throw new UnauthenticatedError(
              "the token has expired; reconnect with a fresh token and the last cursor",
            );
          }
          if (got === "idle") {
            yield await frame(keepAlive());
            continue;
          }
          if (got.done) {
            throw new DependencyUnavailableError("nats", new Error("notification feed ended"));
          }
          next = iterator.next();
          const msg = got.value;
          seq = msg.seq;
          let notification;
          try {
            notification = decodeEvent(EVENTS.notification.schema, msg.data);
          } catch (error) {
            skip(msg.subject, seq, (error as Error).message);
            continue;
          }
          if (!notificationMatchesSubject(notification, msg.subject, userId)) {
            skip(msg.subject, seq, "not addressed to the subject's user and kind");
            continue;
          }
          metrics?.delivered.inc();
          traceDelivered(
            "deliver notification",
            { subject: msg.subject, headers: safeHeaders(msg) },
            "watch",
          );
          yield await frame({ case: "notification", value: notification });
        }
      } finally {
        stopWaiting?.();
        release();
        if (consumer) void consumer.delete().catch(() => {});
      }
    },
  };

  function skip(subject: string, seq: number, problem: string) {
    metrics?.malformed.inc({ consumer: WATCH_CONSUMER_LABEL });
    logger.warn("malformed notification skipped", { subject, stream_seq: seq, problem });
  }
}

function keepAlive(): WatchResponse["frame"] {
  return { case: "keepAlive", value: create(KeepAliveSchema, { at: timestampNow() }) };
}

/**
 * Where a Watch starts, given the cursor's sequence (undefined: now) and the stream's first and
 * last sequence; `gap` says why some notifications after the cursor may be gone.
 *
 * @example
 * ```ts
 * startOf(undefined, 1, 90); // { start: 91 }
 * startOf(40, 1, 90); // { start: 41 }
 * startOf(5, 20, 90); // { start: 20, gap: "..." }
 * ```
 */
export function startOf(
  after: number | undefined,
  firstSeq: number,
  lastSeq: number,
): { start: number; gap?: string } {
  if (after === undefined) return { start: lastSeq + 1 };
  if (after > lastSeq) {
    return {
      start: Math.max(1, firstSeq),
      gap: "the notification stream was reset since this cursor; reload and carry on",
    };
  }
  if (after + 1 < firstSeq) {
    return {
      start: firstSeq,
      gap: "notifications older than the retention window are gone; reload and carry on",
    };
  }
  return { start: after + 1 };
}

function watchMetrics(metrics: Metrics): WatchMetrics {
  const registry = metrics.registry;
  return {
    open: (registry.getSingleMetric("watch_streams_open") as Gauge | undefined) ??
      metrics.gauge("watch_streams_open", "Watch streams open on this replica."),
    delivered: (registry.getSingleMetric("notifications_delivered_total") as Counter | undefined) ??
      metrics.counter("notifications_delivered_total", "Notifications sent on Watch streams."),
    malformed: (registry.getSingleMetric("events_malformed_total") as
      | Counter<"consumer">
      | undefined) ??
      metrics.counter(
        "events_malformed_total",
        "Events that could not be processed (bad JSON, missing fields, unknown entity); terminated.",
        ["consumer"],
      ),
  };
}
