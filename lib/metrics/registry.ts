/**
 * The metrics registry of a service: gRPC server metrics with go-grpc-prometheus names and
 * labels, process memory, and the service's business metrics registered beside them.
 *
 * prom-client's default Node metrics are not collected: under Deno several of them (event-loop
 * lag, GC) report numbers that are wrong. Only gauges read from `Deno.memoryUsage()` are added.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { GrpcServerMetrics } from "./grpc_metrics.ts";

/**
 * A registry holding the platform's standard metrics.
 *
 * @example
 * ```ts
 * const metrics = new Metrics({ service: "users" });
 * const text = await metrics.registry.metrics();
 * ```
 */
export class Metrics {
  /** The Prometheus registry; `registry.metrics()` is the `/metrics` body. */
  readonly registry: Registry = new Registry();
  /** The gRPC server metrics, registered in {@linkcode Metrics.registry}. */
  readonly grpc: GrpcServerMetrics;

  /**
   * Creates the registry with the process and gRPC metrics.
   *
   * @param defaultLabels Labels added to every series, e.g. `{ service: "users" }`.
   */
  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    const registers = [this.registry];
    this.grpc = new GrpcServerMetrics(this.registry);
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
    new Gauge({
      name: "deno_heap_used_bytes",
      help: "V8 heap in use, in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().heapUsed);
      },
    });
    new Gauge({
      name: "deno_heap_total_bytes",
      help: "V8 heap reserved, in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().heapTotal);
      },
    });
    new Gauge({
      name: "deno_external_memory_bytes",
      help: "Memory held by V8 for objects outside its heap (buffers), in bytes.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().external);
      },
    });
    const startSeconds = Math.floor(Date.now() / 1000);
    new Gauge({
      name: "process_start_time_seconds",
      help: "Start time of the process since unix epoch in seconds.",
      registers,
      collect() {
        this.set(startSeconds);
      },
    });
  }

  /** A counter registered in this registry. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge registered in this registry. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect: collect
        ? function (this: Gauge<L>) {
          return collect(this);
        }
        : undefined,
    });
  }

  /** A histogram registered in this registry. */
  histogram<L extends string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> {
    return new Histogram({ name, help, buckets, labelNames, registers: [this.registry] });
  }
}
