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

/**
 * Registers `<prefix>_hits_total`, `<prefix>_misses_total`, `<prefix>_resyncs_total`,
 * `<prefix>_invalidation_failures_total`, `<prefix>_entries` and `<prefix>_synchronised`.
 *
 * @example
 * ```ts
 * registerCacheMetrics(metrics, cache, "profile_cache");
 * ```
 */
export function registerCacheMetrics(
  metrics: Metrics,
  cache: CoherentCache<unknown>,
  prefix: string,
): void {
  const counters = [
    ["hits_total", "Reads answered from memory.", () => cache.stats.hits],
    [
      "misses_total",
      "Reads that went to the database (single-flighted).",
      () => cache.stats.misses,
    ],
    [
      "resyncs_total",
      "Times the cache dropped everything after its Redis lease lapsed, before serving again.",
      () => cache.stats.resyncs,
    ],
    [
      "invalidation_failures_total",
      "Invalidations Redis did not accept in time (retried in the background).",
      () => cache.stats.publishFailures,
    ],
  ] as const;
  for (const [name, help, read] of counters) {
    // A counter whose value is read at scrape time (reset, then set to the running total).
    new Counter({
      name: `${prefix}_${name}`,
      help,
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
  metrics.gauge(`${prefix}_entries`, "Entries held in memory.", [], (g) => g.set(cache.size));
  metrics.gauge(
    `${prefix}_synchronised`,
    "1 while the cache may serve from memory (its Redis lease holds), else 0.",
    [],
    (g) => g.set(cache.synchronised() ? 1 : 0),
  );
}
