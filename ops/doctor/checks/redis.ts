/**
 * Doctor: Redis memory (used against maxmemory, evictions). Redis is a non-critical cache for the
 * users service, so an outage is a warning, not a failure.
 *
 * @module
 */
import { errorMessage } from "../../shared/errors.ts";
import { formatBytes, formatCount } from "../../shared/format.ts";
import { connectRedisOnce, parseInfo } from "../../shared/redis.ts";
import type { Finding } from "../finding.ts";

/** Memory use above this fraction of maxmemory is flagged. */
export const REDIS_MEMORY_WARN = 0.9;

/**
 * One finding on Redis memory.
 *
 * @example
 * ```ts
 * const finding = await checkRedis(config.redisUrl);
 * ```
 */
export async function checkRedis(
  url: string,
  keyPrefix = "fp:",
  timeoutMs = 3000,
): Promise<Finding> {
  let redis;
  try {
    redis = await connectRedisOnce(url, timeoutMs);
  } catch (error) {
    return {
      group: "redis",
      check: "memory",
      status: "warn",
      summary: `${errorMessage(error)} (non-critical: the users service reads from PostgreSQL)`,
      action: [
        "docker compose restart redis; or kubectl rollout restart deployment/redis -n freelance-platform",
      ],
    };
  }
  try {
    const info = parseInfo(await redis.info("memory") + "\n" + await redis.info("stats"));
    const keys = await redis.dbsize();
    const used = Number(info.used_memory ?? 0);
    const max = Number(info.maxmemory ?? 0);
    const ratio = max > 0 ? used / max : 0;
    const evicted = Number(info.evicted_keys ?? 0);
    const high = max > 0 && ratio > REDIS_MEMORY_WARN;
    return {
      group: "redis",
      check: "memory",
      status: high ? "warn" : "ok",
      summary: `${formatBytes(used)} used of ${
        max > 0
          ? `maxmemory ${formatBytes(max)} (${(ratio * 100).toFixed(0)}%)`
          : "no maxmemory limit"
      }, ` +
        `${formatCount(keys)} keys, ${formatCount(evicted)} evicted` +
        (info.maxmemory_policy ? `, policy ${info.maxmemory_policy}` : ""),
      data: {
        usedBytes: used,
        maxBytes: max,
        ratio,
        keys,
        evictedKeys: evicted,
        policy: info.maxmemory_policy,
      },
      action: high
        ? [
          `deno task emergency flush-cache (deletes only the platform's ${keyPrefix}* keys)`,
          "or raise maxmemory / set maxmemory-policy allkeys-lru",
        ]
        : undefined,
    };
  } catch (error) {
    return {
      group: "redis",
      check: "memory",
      status: "warn",
      summary: `INFO failed: ${errorMessage(error)}`,
    };
  } finally {
    redis.disconnect();
  }
}
