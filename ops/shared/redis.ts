/**
 * A fail-fast Redis client for ops programs (no offline queue, no retries, short timeouts).
 *
 * @module
 */
import { Redis } from "ioredis";
import { redactUrl } from "@platform/lib/config";
import { errorMessage, OpsError } from "./errors.ts";

/**
 * Connects or throws an {@link OpsError} naming the (redacted) server.
 *
 * @example
 * ```ts
 * const redis = await connectRedisOnce(config.redisUrl);
 * redis.disconnect();
 * ```
 */
export async function connectRedisOnce(url: string, timeoutMs = 3000): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on("error", () => {}); // reported through the failing command
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new OpsError(`cannot reach Redis at ${redactUrl(url)}: ${errorMessage(error)}`, {
      cause: error,
      hint: "check REDIS_URL and that redis-server runs",
    });
  }
}

/**
 * Parses the text of `INFO` into a map.
 *
 * @example
 * ```ts
 * parseInfo("# Memory\r\nused_memory:1024\r\n"); // { used_memory: "1024" }
 * ```
 */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}
