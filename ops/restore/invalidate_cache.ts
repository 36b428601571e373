/**
 * After a restore, the User Service's replicas still hold profiles read from the replaced
 * database in memory (up to PROFILE_CACHE_TTL_SECONDS old), and Redis may hold platform keys
 * derived from its rows. The restore deletes the keys (`fp:*`, never FLUSHDB) and tells every
 * replica to drop its in-memory cache (`*` on each `fp:*invalidations` channel); the services
 * refill from the restored rows.
 *
 * @module
 */
import { redactUrl } from "@platform/lib/config";
import { deleteKeys, flushMemoryCaches } from "../emergency/flush_cache.ts";
import { errorMessage } from "../shared/errors.ts";
import { formatCount } from "../shared/format.ts";
import type { Output } from "../shared/output.ts";
import { connectRedisOnce } from "../shared/redis.ts";

/** Where the cache is. */
export interface CacheSettings {
  /** REDIS_URL, as the services use it. */
  redisUrl: string;
  /** The platform's key prefix (REDIS_KEY_PREFIX, `fp:`). */
  keyPrefix: string;
}

/** What the invalidation did: keys deleted, or why it could not. */
export type CacheInvalidation = { deleted: number } | { error: string };

/**
 * Deletes the platform's keys after a restore. Never throws: the database is restored either way,
 * so a Redis that cannot be reached is a warning that says what to run once it can.
 *
 * @example
 * ```ts
 * await invalidateCache({ redisUrl: config.redisUrl, keyPrefix: "fp:" }, output);
 * ```
 */
export async function invalidateCache(
  settings: CacheSettings,
  output: Output,
  connectTimeoutMs = 3000,
): Promise<CacheInvalidation> {
  const where = redactUrl(settings.redisUrl);
  try {
    const redis = await connectRedisOnce(settings.redisUrl, connectTimeoutMs);
    try {
      const deleted = await deleteKeys(redis, settings.keyPrefix);
      // The User Service keeps profiles in memory too: every replica drops them.
      const memory = await flushMemoryCaches(redis, settings.keyPrefix);
      output.line(
        `  profile cache cleared: ${formatCount(deleted)} ${settings.keyPrefix}* key(s) deleted ` +
          `in ${where}; ${memory.replicas} service replica(s) told to drop their in-memory caches`,
      );
      return { deleted };
    } finally {
      redis.disconnect();
    }
  } catch (error) {
    const message = errorMessage(error);
    output.warn(
      `warning: the profile cache (${settings.keyPrefix}* in ${where}) was not cleared: ` +
        `${message}. The services may serve profiles of the replaced database until their ` +
        "cache entries expire (PROFILE_CACHE_TTL_SECONDS, 60 s by default); once Redis answers: " +
        "deno task emergency flush-cache --yes",
    );
    return { error: message };
  }
}
