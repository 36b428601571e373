/**
 * Builds the User Service from its configuration: database (migrated), cache, health checks,
 * metrics, presence sweeper and handlers, handed to the shared server.
 *
 * @module
 */
import { TokenService } from "../../lib/auth/tokens.ts";
import { RedisCache } from "../../lib/cache/redis_cache.ts";
import { redactUrl } from "../../lib/config/env.ts";
import { Database } from "../../lib/db/database.ts";
import { ensureDatabase, migrate, readMigrations } from "../../lib/db/migrate.ts";
import { HealthMonitor } from "../../lib/health/health_monitor.ts";
import { Logger } from "../../lib/log/logger.ts";
import { Metrics } from "../../lib/metrics/registry.ts";
import { type RunningServer, startServiceServer } from "../../lib/server/service_server.ts";
import { UserService } from "@platform/gen/platform/users/v1/users_pb.ts";
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
  const logger = new Logger("users", config.logLevel);
  if (config.usingDevelopmentSecret) {
    logger.warn("JWT_SECRETS is not set: using an insecure development secret");
  }
  logger.info("starting", {
    version: config.version,
    database: redactUrl(config.databaseUrl),
    redis: redactUrl(config.redisUrl),
  });
  if (await ensureDatabase(config.databaseUrl)) logger.info("database created");
  const db = new Database(config.databaseUrl, config.pool, "userservice");
  const applied = await migrate(
    db.sql,
    "users",
    await readMigrations(new URL("./migrations/", import.meta.url)),
  );
  if (applied.length > 0) logger.info("migrations applied", { versions: applied });

  const metrics = new Metrics();
  db.registerMetrics(metrics);
  const cache = new RedisCache(config.redisUrl, { keyPrefix: "fp:users:" }, logger);
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
  const tokens = new TokenService(config.jwtSecrets, config.tokenTtlSeconds);

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
