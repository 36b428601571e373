/**
 * The User Service's changes that other services hear about: presence (online, offline, lapsed)
 * and a developer's skills. Each change and its event (presence_events.ts) commit in one
 * transaction, into `user_outbox`; the relay publishes them when NATS is reachable. So NATS is not
 * needed to answer: a GoOnline while NATS is down succeeds, and its `presence.online` goes out
 * when NATS is back.
 *
 * @module
 */
import type { Database } from "@platform/lib/db";
import { OutboxWriter } from "@platform/lib/events";
import {
  presenceExpiredEvent,
  presenceOfflineEvent,
  presenceOnlineEvent,
  presenceSkillsChangedEvent,
  USER_OUTBOX,
} from "./presence_events.ts";
import type { UserRecord } from "./user_record.ts";
import type { ProfilePatch, UserStore } from "./user_store.ts";

/**
 * Presence and profile changes with their events.
 *
 * @example
 * ```ts
 * const presence = new PresenceCommands(db, store, 90);
 * await presence.goOnline(userId);
 * ```
 */
export class PresenceCommands {
  /** The User Service's outbox, written in each command's transaction. */
  readonly outbox: OutboxWriter = new OutboxWriter(USER_OUTBOX);

  constructor(
    private readonly db: Database,
    private readonly store: UserStore,
    private readonly ttlSeconds: number,
  ) {}

  /**
   * Marks a developer online for the TTL; `presence.online` when they were offline. Undefined
   * when there is no such developer.
   */
  goOnline(userId: string): Promise<{ changed: boolean; until: Date } | undefined> {
    return this.db.transaction(async (tx) => {
      const result = await this.store.goOnline(userId, this.ttlSeconds, tx);
      if (result?.changed) {
        await this.outbox.write(tx, [presenceOnlineEvent(userId, result.skillTags)]);
      }
      return result && { changed: result.changed, until: result.until };
    });
  }

  /** Marks a developer offline; `presence.offline` when they were online. */
  goOffline(userId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const changed = await this.store.goOffline(userId, tx);
      if (changed) await this.outbox.write(tx, [presenceOfflineEvent(userId)]);
      return changed;
    });
  }

  /** Takes offline the developers whose presence ran out, with a `presence.expired` each. */
  expirePresence(): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const expired = await this.store.expirePresence(tx, this.ttlSeconds);
      await this.outbox.write(
        tx,
        expired.map((e) => presenceExpiredEvent(e.id, e.lastHeartbeatAt)),
      );
      return expired.map((e) => e.id);
    });
  }

  /**
   * Applies a profile patch; an online developer who gained skill tags gets a
   * `presence.skills_changed` (the orchestrator re-matches waiting tasks those skills cover).
   */
  updateProfile(userId: string, patch: ProfilePatch): Promise<UserRecord | undefined> {
    return this.db.transaction(async (tx) => {
      const updated = await this.store.updateProfile(userId, patch, tx);
      if (!updated) return undefined;
      const { previousSkillTags, ...user } = updated;
      const added = user.skillTags.filter((tag) => !previousSkillTags.includes(tag));
      if (user.role === "developer" && user.isOnline && added.length > 0) {
        await this.outbox.write(tx, [presenceSkillsChangedEvent(userId, user.skillTags, added)]);
      }
      return user;
    });
  }
}
