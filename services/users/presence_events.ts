/**
 * The User Service's events (the catalog's `presence.*`, stream PRESENCE) for its outbox
 * `user_outbox`: a developer came online, went offline, lapsed, or gained skills while online.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EVENTS, type OutboxEvent, outboxEvent } from "@platform/lib/events";

/** The User Service's outbox table (migration 002). */
export const USER_OUTBOX = "user_outbox";

/**
 * `presence.online` with the developer's skill tags.
 *
 * @example
 * ```ts
 * presenceOnlineEvent(userId, ["go", "sql"]);
 * ```
 */
export function presenceOnlineEvent(userId: string, skillTags: readonly string[]): OutboxEvent {
  return outboxEvent(EVENTS.presenceOnline, { userId, skillTags: [...skillTags] });
}

/**
 * `presence.offline`: the developer went offline on purpose.
 *
 * @example
 * ```ts
 * presenceOfflineEvent(userId);
 * ```
 */
export function presenceOfflineEvent(userId: string): OutboxEvent {
  return outboxEvent(EVENTS.presenceOffline, { userId });
}

/**
 * `presence.expired`: no heartbeat within the TTL.
 *
 * @example
 * ```ts
 * presenceExpiredEvent(userId, lastHeartbeatAt);
 * ```
 */
export function presenceExpiredEvent(userId: string, lastSeenAt: Date | null): OutboxEvent {
  return outboxEvent(EVENTS.presenceExpired, {
    userId,
    lastSeenAt: lastSeenAt ? timestampFromDate(lastSeenAt) : undefined,
  });
}

/**
 * `presence.skills_changed`: an online developer gained skill tags.
 *
 * @example
 * ```ts
 * presenceSkillsChangedEvent(userId, ["go", "rust"], ["rust"]);
 * ```
 */
export function presenceSkillsChangedEvent(
  userId: string,
  skillTags: readonly string[],
  addedSkills: readonly string[],
): OutboxEvent {
  return outboxEvent(EVENTS.presenceSkillsChanged, {
    userId,
    skillTags: [...skillTags],
    addedSkills: [...addedSkills],
  });
}
