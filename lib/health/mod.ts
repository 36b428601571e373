/**
 * Dependency checks and the manual's `/health` report, with uptime in Go duration form.
 *
 * @example
 * ```ts
 * import { formatGoDuration, HealthMonitor } from "@platform/lib/health";
 *
 * const monitor = new HealthMonitor("v1.0.0", [
 *   { name: "database", critical: true, check: async () => {} },
 *   { name: "redis", critical: false, check: () => Promise.reject(new Error("down")) },
 * ]);
 * console.log((await monitor.report()).status); // "degraded"
 * console.log(formatGoDuration(61_000)); // "1m1s"
 * ```
 *
 * @module
 */
export * from "./health_monitor.ts";
export * from "./uptime.ts";
