/**
 * Profile reads through Redis. Redis is not critical: on any cache trouble the store answers.
 * Every write to a profile or its presence flag invalidates the entry after the database commit.
 *
 * @module
 */
import type { RedisCache } from "@platform/lib/cache";
import { type CachedUser, fromCached, toCached, type UserRecord } from "./user_record.ts";
import type { UserStore } from "./user_store.ts";

/**
 * A read-through cache of user records keyed by id.
 *
 * @example
 * ```ts
 * const profiles = new ProfileCache(cache, store, 60);
 * const user = await profiles.get(id);
 * await profiles.invalidate(id); // after an update commits
 * ```
 */
export class ProfileCache {
  constructor(
    private readonly cache: RedisCache,
    private readonly store: UserStore,
    private readonly ttlSeconds: number,
  ) {}

  /** The user from the cache, or from the store (then cached). */
  async get(id: string): Promise<UserRecord | undefined> {
    const cached = await this.cache.get<CachedUser>(key(id));
    if (cached) return fromCached(cached);
    const user = await this.store.findById(id);
    if (user) await this.cache.set(key(id), toCached(user), this.ttlSeconds);
    return user;
  }

  /** Drops a user's entry; call after every committed change to them. */
  invalidate(id: string): Promise<void> {
    return this.cache.delete(key(id));
  }
}

function key(id: string): string {
  return `user:${id}`;
}
