/**
 * Caches backed by Redis that never cost a request its answer: an in-process cache kept coherent
 * across replicas (a hit costs no network hop), and a Redis cache that fails fast.
 *
 * @module
 */
export * from "./coherent_cache.ts";
export * from "./redis_cache.ts";
export * from "./cache_metrics.ts";
