/**
 * The User Service's configuration: the shared settings plus presence and cache timing.
 *
 * @module
 */
import {
  type BaseConfig,
  EnvReader,
  type EnvSource,
  loadBaseConfig,
  parseTrustedProxies,
  type TrustedProxies,
} from "@platform/lib/config";
import type { AuthThrottleLimits, WindowLimit } from "./auth_throttle.ts";

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
  /** Login and registration limits (LOGIN_*, REGISTER_*). */
  authLimits: AuthThrottleLimits;
  /** Peers whose `X-Forwarded-For` names the client (TRUSTED_PROXIES; none by default). */
  trustedProxies: TrustedProxies;
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
    authLimits: {
      loginPerAccount: windowLimit(env, "LOGIN_ACCOUNT", "MAX_FAILURES", 100, 3600),
      loginPerAddress: windowLimit(env, "LOGIN_ADDRESS", "MAX_FAILURES", 50, 900),
      registerPerAddress: windowLimit(env, "REGISTER_ADDRESS", "MAX_ATTEMPTS", 20, 3600),
      knownAddressDays: env.int("LOGIN_KNOWN_ADDRESS_DAYS", 30, { min: 1, max: 365 }),
    },
    trustedProxies: parseTrustedProxies("TRUSTED_PROXIES", env.list("TRUSTED_PROXIES", [])),
  };
}

/** `<prefix>_<counted>` (how many) and `<prefix>_WINDOW_SECONDS` (in how long). */
function windowLimit(
  env: EnvReader,
  prefix: string,
  counted: string,
  max: number,
  windowSeconds: number,
): WindowLimit {
  return {
    max: env.int(`${prefix}_${counted}`, max, { min: 1, max: 1_000_000 }),
    windowSeconds: env.int(`${prefix}_WINDOW_SECONDS`, windowSeconds, { min: 1, max: 86_400 }),
  };
}
