/**
 * A Redis cache that fails fast: a stalled or stopped Redis costs a request milliseconds, never
 * its answer.
 *
 * @module
 */
export * from "./redis_cache.ts";
