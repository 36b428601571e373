/**
 * What every service does before it serves: log its start, create and migrate its database,
 * and build its metrics registry and token service; and the `main.ts` wrapper that turns a
 * failed start into one JSON log line and exit code 1.
 *
 * @module
 */
import { TokenService } from "../auth/tokens.ts";
import type { BaseConfig } from "../config/base_config.ts";
import { ConfigError, redactUrl } from "../config/env.ts";
import { Database } from "../db/database.ts";
import { ensureDatabase, migrate, readMigrations } from "../db/migrate.ts";
import { Logger } from "../log/logger.ts";
import { Metrics } from "../metrics/registry.ts";
import { tuneNativeAllocator } from "./native_allocator.ts";
import {
  guardUnhandledRejections,
  registerUnhandledRejectionMetric,
} from "./unhandled_rejections.ts";

/** The parts every service is built from. */
export interface ServiceFoundation {
  /** The service's JSON logger. */
  logger: Logger;
  /** The service's PostgreSQL pool, migrated. */
  db: Database;
  /** The service's metrics registry (with the pool's metrics). */
  metrics: Metrics;
  /** Signs and verifies the service's tokens. */
  tokens: TokenService;
}

/**
 * Logs the start, creates the database if missing, applies the service's migrations (under the
 * advisory lock), and builds logger, pool, metrics (with pool metrics) and token service.
 *
 * @example
 * ```ts ignore
 * const { logger, db, metrics, tokens } = await prepareService(config, {
 *   applicationName: "userservice",
 *   migrations: new URL("./migrations/", import.meta.url),
 *   logFields: { redis: redactUrl(config.redisUrl) },
 * });
 * ```
 */
export async function prepareService(config: BaseConfig, options: {
  /** PostgreSQL application_name, so operators see whose sessions they are. */
  applicationName: string;
  /** The folder of `NNN_name.sql` files. */
  migrations: URL;
  /** More fields for the "starting" line (redact URLs first). */
  logFields?: Record<string, unknown>;
}): Promise<ServiceFoundation> {
  const logger = new Logger(config.serviceName, config.logLevel);
  const allocator = tuneNativeAllocator();
  if (allocator) logger.info("native allocator left as is", { reason: allocator });
  if (config.usingDevelopmentSecret) {
    logger.warn("JWT_SECRETS is not set: using an insecure development secret");
  }
  logger.info("starting", {
    version: config.version,
    database: redactUrl(config.databaseUrl),
    ...options.logFields,
  });
  if (await ensureDatabase(config.databaseUrl)) logger.info("database created");
  const db = new Database(config.databaseUrl, config.pool, options.applicationName);
  const applied = await migrate(
    db.sql,
    config.serviceName,
    await readMigrations(options.migrations),
  );
  if (applied.length > 0) logger.info("migrations applied", { versions: applied });
  const metrics = new Metrics();
  registerUnhandledRejectionMetric(metrics);
  db.registerMetrics(metrics);
  db.startMaintenance();
  return {
    logger,
    db,
    metrics,
    tokens: new TokenService(config.jwtSecrets, config.tokenTtlSeconds),
  };
}

/**
 * Runs a service's start function; a configuration error or a failed start is logged as one
 * JSON line naming the problem, and the process exits 1. First installs the guard that counts
 * and logs an unhandled rejection instead of letting it end the process
 * ({@link guardUnhandledRejections}).
 *
 * @example
 * ```ts ignore
 * await runServiceMain("users", () => startUsersService(loadUsersConfig()));
 * ```
 */
export async function runServiceMain(
  service: string,
  start: () => Promise<unknown>,
): Promise<void> {
  guardUnhandledRejections(service);
  try {
    await start();
  } catch (error) {
    console.error(JSON.stringify({
      time: new Date().toISOString(),
      level: "error",
      service,
      msg: error instanceof ConfigError ? error.message : "failed to start",
      error: error instanceof ConfigError ? undefined : (error as Error).message,
    }));
    Deno.exit(1);
  }
}
