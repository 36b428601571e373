/**
 * Notifications for the signed-in user: the `Watch` server stream (watch_service.ts) over the
 * NATS stream NOTIFICATIONS, and its resumable cursors signed for their user (watch_cursor.ts).
 * The events themselves are built with `notificationEvent` from `@platform/lib/events`.
 *
 * @example
 * ```ts
 * import { WatchCursors } from "@platform/lib/notifications";
 *
 * const cursors = new WatchCursors(["a-secret-of-at-least-32-characters!!"]);
 * const cursor = await cursors.sign("u1", 42);
 * console.log(await cursors.verify("u1", cursor)); // 42
 * ```
 *
 * @module
 */
export * from "./watch_cursor.ts";
export * from "./watch_service.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { ServiceImpl } from "@connectrpc/connect";
export type { NatsConnection } from "@nats-io/transport-node";
