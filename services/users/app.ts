/**
 * Builds the User Service from its configuration: database (migrated), cache, health checks,
 * metrics, presence sweeper and handlers, handed to the shared server.
 *
 * @module
 */
import { RedisCache } from "@platform/lib/cache";
import { redactUrl } from "@platform/lib/config";
import { HealthMonitor } from "@platform/lib/health";
import { prepareService, type RunningServer, startServiceServer } from "@platform/lib/server";
import { UserService } from "@platform/proto/users/v1";
import { reportCacheAvailability } from "./cache_availability.ts";
import type { UsersConfig } from "./config.ts";
import { PresenceSweeper } from "./presence_sweeper.ts";
import { ProfileCache } from "./profile_cache.ts";
import { PUBLIC_PROCEDURES, userHandlers } from "./user_handlers.ts";
import { UserStore } from "./user_store.ts";

/**
 * Starts the User Service.
 *
 * @example
 * ```ts
 * const server = await startUsersService(loadUsersConfig());
 * ```
 */
export async function startUsersService(config: UsersConfig): Promise<RunningServer> {
  const { logger, db, metrics, tokens } = await prepareService(config, {
    applicationName: "userservice",
    migrations: new URL("./migrations/", import.meta.url),
    logFields: { redis: redactUrl(config.redisUrl) },
  });
  const cache = new RedisCache(config.redisUrl, {
    keyPrefix: "fp:users:",
    // Longer than any profile read may take (a read that times out caches nothing).
    tombstoneSeconds: Math.ceil(config.pool.queryTimeoutMs / 1000) * 2 + 1,
  }, logger);
  reportCacheAvailability(cache.client, config.redisUrl, logger);
  const store = new UserStore(db);
  const profiles = new ProfileCache(cache, store, config.profileCacheTtlSeconds);
  const onlineGauge = metrics.gauge("users_online_count", "Developers online now.");
  onlineGauge.set(await store.countOnline());
  const sweeper = new PresenceSweeper(store, profiles, logger, config.presenceSweepMs, async () => {
    onlineGauge.set(await store.countOnline());
  });
  const health = new HealthMonitor(config.version, [
    { name: "database", critical: true, check: (signal) => db.ping(signal) },
    { name: "redis", critical: false, check: () => cache.ping() },
  ], config.healthTimeoutMs);

  const server = startServiceServer({
    config,
    logger,
    metrics,
    health,
    tokens,
    publicProcedures: PUBLIC_PROCEDURES,
    routes: (router) => {
      router.service(
        UserService,
        userHandlers({
          store,
          profiles,
          tokens,
          presenceTtlSeconds: config.presenceTtlSeconds,
          onlineGauge,
        }),
      );
      return [UserService];
    },
    onShutdown: [() => sweeper.stop(), () => cache.close(), () => db.close()],
  });
  sweeper.start();
  return server;
}
