/**
 * Notifications: events addressed to one user, on the `NOTIFICATIONS` stream with the subject
 * `notify.<user_id>.<kind>` (`notify.7f1c...e2.proposal_offered`), so that a user's `Watch` reads
 * only their own (a consumer filtered to `notify.<user_id>.>`). A service writes them to its
 * outbox in the transaction of the change they tell about, like any other event.
 *
 * @module
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { type Notification, NotificationKind } from "@platform/proto/notifications/v1";
import { type EventInit, EVENTS, type NotificationSubject } from "./catalog.ts";
import { type OutboxEvent, outboxEvent, type OutboxEventOptions } from "./outbox/outbox_writer.ts";
import { isLowerCaseUuid } from "../domain/ids.ts";

/**
 * The subject token of each kind (`proposal_offered`): its enum name without the prefix, in lower
 * case.
 */
export const NOTIFICATION_KIND_TOKENS: Readonly<Record<NotificationKind, string>> = Object
  .fromEntries(
    Object.entries(NotificationKind)
      .filter(([, value]) => typeof value === "number")
      .map(([name, value]) => [value, name.toLowerCase()]),
  ) as Record<NotificationKind, string>;

/**
 * True when `userId` can address notifications: a lower-case UUID (a user account's id).
 *
 * @example
 * ```ts
 * isNotifiableUser("service:orchestrator"); // false
 * ```
 */
export function isNotifiableUser(userId: string): boolean {
  return isLowerCaseUuid(userId);
}

/**
 * The subject of a notification of `kind` for `userId`.
 *
 * @example
 * ```ts ignore
 * notificationSubject(userId, NotificationKind.PROPOSAL_OFFERED);
 * // "notify.<userId>.proposal_offered"
 * ```
 */
export function notificationSubject(userId: string, kind: NotificationKind): NotificationSubject {
  if (!isNotifiableUser(userId)) {
    throw new Error(`notifications are addressed to a user id (a lower-case UUID): ${userId}`);
  }
  if (kind === NotificationKind.UNSPECIFIED || !(kind in NOTIFICATION_KIND_TOKENS)) {
    throw new Error(`not a notification kind: ${kind}`);
  }
  return `notify.${userId}.${NOTIFICATION_KIND_TOKENS[kind]}`;
}

/**
 * The subject filter of every notification for `userId` (what `Watch` reads).
 *
 * @example
 * ```ts ignore
 * notificationFilter(userId); // "notify.<userId>.>"
 * ```
 */
export function notificationFilter(userId: string): string {
  if (!isNotifiableUser(userId)) throw new Error(`not a user id: ${userId}`);
  return `notify.${userId}.>`;
}

/** What a notification says besides its addressee and kind (the `detail` and the task). */
export type NotificationBody =
  & Omit<
    EventInit<typeof EVENTS.notification>,
    "eventId" | "userId" | "kind" | "$typeName"
  >
  & { occurredAt?: Timestamp };

/**
 * The outbox row of a notification for `userId`: subject `notify.<userId>.<kind>`, payload the
 * `Notification` message (proto JSON) with a fresh event id.
 *
 * @example
 * ```ts ignore
 * await outbox.write(tx, [
 *   notificationEvent(developerId, NotificationKind.PROPOSAL_OFFERED, {
 *     taskId,
 *     detail: { case: "proposal", value: proposalMessage },
 *   }),
 * ]);
 * ```
 */
export function notificationEvent(
  userId: string,
  kind: NotificationKind,
  body: NotificationBody,
  options: OutboxEventOptions = {},
): OutboxEvent<NotificationSubject> {
  const subject = notificationSubject(userId, kind);
  const row = outboxEvent(EVENTS.notification, { ...body, userId, kind }, options);
  return { ...row, subject };
}

/**
 * True when a decoded notification really is for `userId` with the kind its subject names (a
 * Watch skips anything else).
 *
 * @example
 * ```ts ignore
 * if (!notificationMatchesSubject(n, msg.subject, me.subject)) continue;
 * ```
 */
export function notificationMatchesSubject(
  notification: Notification,
  subject: string,
  userId: string,
): boolean {
  return notification.userId === userId &&
    notification.kind !== NotificationKind.UNSPECIFIED &&
    subject === `notify.${userId}.${NOTIFICATION_KIND_TOKENS[notification.kind]}`;
}
