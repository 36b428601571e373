/**
 * The User Service's configuration: the shared settings plus presence and cache timing.
 *
 * @module
 */
import { type BaseConfig, EnvReader, type EnvSource, loadBaseConfig } from "@platform/lib/config";

/** Settings of the User Service. */
export interface UsersConfig extends BaseConfig {
  /** A developer with no heartbeat for this long goes offline. */
  presenceTtlSeconds: number;
  /** How often expired presences are swept. */
  presenceSweepMs: number;
  /** How long a profile stays in memory at most (invalidations drop it sooner). */
  profileCacheTtlSeconds: number;
  /** How many profiles each replica keeps in memory at most. */
  profileCacheMaxEntries: number;
}

/**
 * Reads the configuration; throws a ConfigError naming the variable on a bad value.
 *
 * @example
 * ```ts
 * const config = loadUsersConfig({ PRESENCE_TTL_SECONDS: "60" });
 * ```
 */
export function loadUsersConfig(source: EnvSource = Deno.env.toObject()): UsersConfig {
  const env = new EnvReader(source);
  return {
    ...loadBaseConfig("users", 50051, source),
    presenceTtlSeconds: env.int("PRESENCE_TTL_SECONDS", 90, { min: 1, max: 86_400 }),
    presenceSweepMs: env.int("PRESENCE_SWEEP_MS", 5000, { min: 100, max: 600_000 }),
    profileCacheTtlSeconds: env.int("PROFILE_CACHE_TTL_SECONDS", 60, { min: 1, max: 86_400 }),
    profileCacheMaxEntries: env.int("PROFILE_CACHE_MAX_ENTRIES", 10_000, {
      min: 0,
      max: 1_000_000,
    }),
  };
}
