/**
 * Profile reads from memory, kept coherent across User Service replicas through Redis (see
 * `CoherentCache` in lib/cache): a hit costs no network hop; an update acknowledged by any
 * replica is never served stale by another one more than the cache's lease (90 ms) later; when
 * Redis is unreachable every replica reads through to PostgreSQL until it has resynchronised.
 * Every write to a profile or its presence flag invalidates the entry after the database commit
 * and before the write is acknowledged.
 *
 * @module
 */
import type { CoherentCache } from "@platform/lib/cache";
import { CachedProfile } from "./cached_profile.ts";
import type { UserStore } from "./user_store.ts";

/** The Redis channel on which replicas announce changed profiles (`*`: drop them all). */
export const PROFILE_INVALIDATIONS = "fp:users:profile-invalidations";

/**
 * A read-through cache of user records keyed by id.
 *
 * @example
 * ```ts
 * const profiles = new ProfileCache(cache, store);
 * const user = await profiles.get(id);
 * await profiles.invalidate(id); // after an update commits
 * ```
 */
export class ProfileCache {
  constructor(
    private readonly cache: CoherentCache<CachedProfile>,
    private readonly store: UserStore,
  ) {}

  /** The user from memory, or from the store (one read per id at a time). */
  get(id: string): Promise<CachedProfile | undefined> {
    return this.cache.get(
      id,
      async () => {
        const record = await this.store.findById(id);
        return record && new CachedProfile(record);
      },
    );
  }

  /** Drops a user's entry on every replica; call after every committed change to them. */
  invalidate(id: string): Promise<void> {
    return this.cache.invalidate(id);
  }
}
