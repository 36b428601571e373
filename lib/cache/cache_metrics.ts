/**
 * Metrics of a {@link CoherentCache}: hits, misses, resynchronisations, failed invalidations,
 * entries held and whether it serves from memory now. Read when Prometheus scrapes, so a hit
 * costs nothing more than a counter increment on a plain object.
 *
 * @module
 */
import { Counter } from "prom-client";
import type { Metrics } from "../metrics/registry.ts";
import type { CoherentCache } from "./coherent_cache.ts";

/** The metric names of one cache (spelled out, so they can be found in the sources). */
export interface CacheMetricNames {
  /** Counter of reads answered from memory. */
  hits: string;
  /** Counter of reads that went to the loader (the database). */
  misses: string;
  /** Counter of resynchronisations after a lost Redis connection. */
  resyncs: string;
  /** Counter of invalidations Redis did not accept in time. */
  invalidationFailures: string;
  /** Gauge of the entries held in memory. */
  entries: string;
  /** Gauge: 1 while the cache may serve from memory, else 0. */
  synchronised: string;
}

/**
 * Registers the cache's counters and gauges.
 *
 * @example
 * ```ts ignore
 * registerCacheMetrics(metrics, cache, {
 *   hits: "profile_cache_hits_total",
 *   misses: "profile_cache_misses_total",
 *   resyncs: "profile_cache_resyncs_total",
 *   invalidationFailures: "profile_cache_invalidation_failures_total",
 *   entries: "profile_cache_entries",
 *   synchronised: "profile_cache_synchronised",
 * });
 * ```
 */
export function registerCacheMetrics(
  metrics: Metrics,
  cache: CoherentCache<unknown>,
  names: CacheMetricNames,
): void {
  const counters: Array<[string, string, () => number]> = [
    [names.hits, "Reads answered from memory.", () => cache.stats.hits],
    [names.misses, "Reads that went to the database (single-flighted).", () => cache.stats.misses],
    [
      names.resyncs,
      "Times the cache dropped everything after losing its Redis connection, before serving again.",
      () => cache.stats.resyncs,
    ],
    [
      names.invalidationFailures,
      "Invalidations Redis did not accept in time (retried in the background).",
      () => cache.stats.publishFailures,
    ],
  ];
  for (const [name, help, read] of counters) {
    // A counter whose value is read at scrape time (reset, then set to the running total).
    new Counter({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  metrics.gauge(names.entries, "Entries held in memory.", [], (g) => g.set(cache.size));
  metrics.gauge(
    names.synchronised,
    "1 while the cache may serve from memory (its Redis lease holds), else 0.",
    [],
    (g) => g.set(cache.synchronised() ? 1 : 0),
  );
}
