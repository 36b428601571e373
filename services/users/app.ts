/**
 * Builds the User Service from its configuration: database (migrated), cache, health checks,
 * metrics, presence sweeper and handlers, handed to the shared server; and, once NATS answers,
 * the relay of its outbox (presence events). NATS is not critical here: requests never wait for
 * it, presence events wait in `user_outbox` while it is down, and `/health` lists it as
 * non-critical (`degraded`, still 200).
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { CoherentCache, registerCacheMetrics, WindowCounter } from "@platform/lib/cache";
import { redactUrl } from "@platform/lib/config";
import {
  connectWithStreams,
  OutboxRelay,
  pingNats,
  registerOutboxMetrics,
} from "@platform/lib/events";
import { HealthMonitor } from "@platform/lib/health";
import { prepareService, type RunningServer, startServiceServer } from "@platform/lib/server";
import { UserService } from "@platform/proto/users/v1";
import { AuthThrottle } from "./auth_throttle.ts";
import { reportCacheAvailability } from "./cache_availability.ts";
import type { UsersConfig } from "./config.ts";
import { PresenceCommands } from "./presence_commands.ts";
import { RegistrationCommands } from "./registration_commands.ts";
import { USER_OUTBOX } from "./presence_events.ts";
import { PresenceSweeper } from "./presence_sweeper.ts";
import { PROFILE_INVALIDATIONS, ProfileCache } from "./profile_cache.ts";
import type { CachedProfile } from "./cached_profile.ts";
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
    logFields: { redis: redactUrl(config.redisUrl), nats: redactUrl(config.natsUrl) },
  });
  registerOutboxMetrics(metrics, db, USER_OUTBOX);
  const cache = new CoherentCache<CachedProfile>({
    redisUrl: config.redisUrl,
    channel: PROFILE_INVALIDATIONS,
    maxEntries: config.profileCacheMaxEntries,
    ttlMs: config.profileCacheTtlSeconds * 1000,
  }, logger);
  reportCacheAvailability(cache.client, config.redisUrl, logger);
  registerCacheMetrics(metrics, cache, {
    hits: "profile_cache_hits_total",
    misses: "profile_cache_misses_total",
    resyncs: "profile_cache_resyncs_total",
    invalidationFailures: "profile_cache_invalidation_failures_total",
    entries: "profile_cache_entries",
    synchronised: "profile_cache_synchronised",
  });
  const throttle = new AuthThrottle(
    new WindowCounter(cache.client, {
      keyPrefix: "fp:users:throttle:",
      onFallback: (error) =>
        logger.warn("login limits counted in memory, per replica, while redis does not answer", {
          error,
        }),
    }),
    config.authLimits,
    metrics.counter(
      "auth_throttled_total",
      "Logins and registrations refused by a limit, by reason.",
      ["reason"],
    ),
  );
  const store = new UserStore(db);
  const presence = new PresenceCommands(db, store, config.presenceTtlSeconds);
  const profiles = new ProfileCache(cache, store);
  const onlineGauge = metrics.gauge("users_online_count", "Developers online now.");
  onlineGauge.set(await store.countOnline());
  const sweeper = new PresenceSweeper(
    presence,
    profiles,
    logger,
    config.presenceSweepMs,
    async () => {
      onlineGauge.set(await store.countOnline());
    },
  );

  // Presence events: the relay starts once NATS answers; until then they wait in user_outbox.
  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  const natsAbort = new AbortController();
  const events = (async () => {
    nc = await connectWithStreams(config.natsUrl, "userservice", logger, natsAbort.signal);
    if (!nc) return;
    relay = new OutboxRelay({ db, table: USER_OUTBOX, js: jetstream(nc), logger, metrics });
    await relay.start();
  })().catch((error) => {
    if (!natsAbort.signal.aborted) logger.error("event wiring failed", { error });
  });

  const health = new HealthMonitor(config.version, [
    { name: "database", critical: true, check: (signal) => db.ping(signal) },
    { name: "redis", critical: false, check: () => cache.ping() },
    { name: "nats", critical: false, check: () => pingNats(nc) },
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
          presence,
          profiles,
          tokens,
          registrations: new RegistrationCommands(db, store),
          throttle,
          trustedProxies: config.trustedProxies,
          presenceTtlSeconds: config.presenceTtlSeconds,
          onlineGauge,
        }),
      );
      return [UserService];
    },
    onShutdown: [
      () => sweeper.stop(),
      async () => {
        natsAbort.abort();
        await Promise.race([events, new Promise((r) => setTimeout(r, 1000))]);
        await relay?.stop();
        if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
      },
      () => cache.close(),
      () => db.close(),
    ],
  });
  sweeper.start();
  return server;
}
