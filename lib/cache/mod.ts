/**
 * A cache backed by Redis that never costs a request its answer: an in-process cache kept coherent
 * across replicas (a hit costs no network hop), invalidated over Redis pub/sub.
 *
 * @example
 * ```ts ignore
 * import { CoherentCache } from "@platform/lib/cache";
 * import { Logger } from "@platform/lib/log";
 *
 * const cache = new CoherentCache<{ id: string }>({
 *   redisUrl: "redis://127.0.0.1:6379",
 *   channel: "fp:users:profile-invalidations",
 *   maxEntries: 10_000,
 *   ttlMs: 60_000,
 * }, new Logger("users"));
 * // A miss (or Redis unreachable) calls the loader; a hit is served from memory.
 * console.log(await cache.get("1", () => Promise.resolve({ id: "1" }))); // { id: "1" }
 * await cache.invalidate("1"); // after the write, before acknowledging it
 * cache.close();
 * ```
 *
 * @module
 */
export * from "./coherent_cache.ts";
export * from "./cache_metrics.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { Redis } from "ioredis";
export * from "./window_counter.ts";
