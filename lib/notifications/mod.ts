/**
 * Notifications for the signed-in user: the `Watch` server stream (watch_service.ts) over the
 * NATS stream NOTIFICATIONS, and its resumable cursors signed for their user (watch_cursor.ts).
 * The events themselves are built with `notificationEvent` from `@platform/lib/events`.
 *
 * @module
 */
export * from "./watch_cursor.ts";
export * from "./watch_service.ts";
