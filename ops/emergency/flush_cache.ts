/**
 * Emergency: deletes the platform's own Redis keys (prefix `fp:`), with SCAN and UNLINK in
 * batches: never FLUSHDB, which would also wipe whatever else shares the Redis.
 *
 * @module
 */
import type { Redis } from "ioredis";

/** Keys under the prefix, by namespace (`fp:users:`, ...). */
export interface KeyCensus {
  /** Keys under the prefix. */
  total: number;
  /** Those keys by namespace (the prefix and the next segment, e.g. `fp:users:`). */
  byNamespace: Record<string, number>;
  /** Keys in the database altogether (DBSIZE), platform's or not. */
  databaseKeys: number;
}

function namespaceOf(key: string, prefix: string): string {
  const rest = key.slice(prefix.length);
  const colon = rest.indexOf(":");
  return colon < 0 ? prefix : prefix + rest.slice(0, colon + 1);
}

async function scanAll(
  redis: Redis,
  prefix: string,
  onBatch: (keys: string[]) => Promise<void>,
): Promise<void> {
  const pattern = prefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await onBatch(keys);
  } while (cursor !== "0");
}

/**
 * Counts the keys under `prefix`.
 *
 * @example
 * ```ts
 * const census = await countKeys(redis, "fp:"); // { total: 120, byNamespace: { "fp:users:": 120 }, ... }
 * ```
 */
export async function countKeys(redis: Redis, prefix: string): Promise<KeyCensus> {
  const byNamespace: Record<string, number> = {};
  let total = 0;
  await scanAll(redis, prefix, (keys) => {
    for (const key of keys) {
      const ns = namespaceOf(key, prefix);
      byNamespace[ns] = (byNamespace[ns] ?? 0) + 1;
    }
    total += keys.length;
    return Promise.resolve();
  });
  return { total, byNamespace, databaseKeys: await redis.dbsize() };
}

/**
 * Deletes every key under `prefix`; returns how many were deleted.
 *
 * @example
 * ```ts
 * const deleted = await deleteKeys(redis, "fp:");
 * ```
 */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  if (prefix.length < 2) {
    throw new Error("refusing to delete with an empty or one-character prefix");
  }
  let deleted = 0;
  await scanAll(redis, prefix, async (keys) => {
    deleted += await redis.unlink(...keys);
  });
  return deleted;
}

/**
 * Tells the services' in-memory caches to drop everything: publishes `*` on every invalidation
 * channel under `prefix` that has subscribers (`fp:users:profile-invalidations`, ...). Returns
 * the channels and how many replicas listened.
 *
 * @example
 * ```ts
 * const { channels, replicas } = await flushMemoryCaches(redis, "fp:");
 * ```
 */
export async function flushMemoryCaches(
  redis: Redis,
  prefix: string,
): Promise<{ channels: string[]; replicas: number }> {
  const pattern = prefix.replace(/[*?[\]\\]/g, "\\$&") + "*invalidations";
  const channels = await redis.pubsub("CHANNELS", pattern) as string[];
  let replicas = 0;
  for (const channel of channels) replicas += await redis.publish(channel, "*");
  return { channels, replicas };
}
