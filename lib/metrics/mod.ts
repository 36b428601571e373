/**
 * The Prometheus registry with the go-grpc-prometheus server metrics.
 *
 * @example
 * ```ts
 * import { Metrics } from "@platform/lib/metrics";
 *
 * const metrics = new Metrics({ service: "users" });
 * metrics.counter("users_registered_total", "Accounts registered.").inc();
 * console.log(await metrics.registry.metrics()); // the /metrics body
 * ```
 *
 * @module
 */
export * from "./registry.ts";
export * from "./grpc_metrics.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { Counter, Gauge, Histogram, Registry } from "prom-client";
