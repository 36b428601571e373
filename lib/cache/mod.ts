/**
 * Caches backed by Redis that never cost a request its answer: an in-process cache kept coherent
 * across replicas (a hit costs no network hop), and a Redis cache that fails fast.
 *
 * @example
 * ```ts
 * import { RedisCache } from "@platform/lib/cache";
 * import { Logger } from "@platform/lib/log";
 *
 * const cache = new RedisCache("redis://127.0.0.1:6379", { keyPrefix: "fp:users:" }, new Logger("users"));
 * await cache.set("user:1", { id: "1" }, 60);
 * console.log(await cache.get<{ id: string }>("user:1")); // undefined while Redis is unreachable
 * cache.close();
 * ```
 *
 * @module
 */
export * from "./coherent_cache.ts";
export * from "./redis_cache.ts";
export * from "./cache_metrics.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { Redis } from "ioredis";
export * from "./window_counter.ts";
