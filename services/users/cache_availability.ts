/**
 * Redis is not critical to the User Service: without it every profile read goes to PostgreSQL
 * and /health says `degraded`. The cache's client stays silent while it retries, so this says
 * once, shortly after start, that Redis does not answer, and once more when it does again.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { redactUrl } from "@platform/lib/config";
import type { Logger } from "@platform/lib/log";

/**
 * Logs a warning if Redis has not answered `graceMs` after start, and an info line when it then
 * answers.
 *
 * @example
 * ```ts
 * reportCacheAvailability(cache.client, config.redisUrl, logger);
 * ```
 */
export function reportCacheAvailability(
  client: Redis,
  url: string,
  logger: Logger,
  graceMs = 2000,
): void {
  let saidDown = false;
  const timer = setTimeout(() => {
    if (client.status === "ready") return;
    saidDown = true;
    logger.warn(
      "redis unavailable: running degraded, profiles are read from PostgreSQL without a cache " +
        "until it answers",
      { redis: redactUrl(url) },
    );
  }, graceMs);
  Deno.unrefTimer(timer as unknown as number);
  client.on("ready", () => {
    clearTimeout(timer);
    if (!saidDown) return;
    saidDown = false;
    logger.info("redis answers again: profile cache in use", { redis: redactUrl(url) });
  });
}
