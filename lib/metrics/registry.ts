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

/** go-grpc-prometheus's default latency buckets, in seconds. */
export const GRPC_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The gRPC server metric families. */
export interface GrpcServerMetrics {
  started: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  handled: Counter<"grpc_type" | "grpc_service" | "grpc_method" | "grpc_code">;
  received: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  sent: Counter<"grpc_type" | "grpc_service" | "grpc_method">;
  handling: Histogram<"grpc_type" | "grpc_service" | "grpc_method">;
  activeConnections: Gauge;
  inFlight: Gauge;
}

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
  readonly registry: Registry = new Registry();
  readonly grpc: GrpcServerMetrics;

  constructor(defaultLabels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(defaultLabels);
    const labels = ["grpc_type", "grpc_service", "grpc_method"] as const;
    const registers = [this.registry];
    this.grpc = {
      started: new Counter({
        name: "grpc_server_started_total",
        help: "Total number of RPCs started on the server.",
        labelNames: labels,
        registers,
      }),
      handled: new Counter({
        name: "grpc_server_handled_total",
        help: "Total number of RPCs completed on the server, regardless of success or failure.",
        labelNames: [...labels, "grpc_code"],
        registers,
      }),
      received: new Counter({
        name: "grpc_server_msg_received_total",
        help: "Total number of RPC stream messages received on the server.",
        labelNames: labels,
        registers,
      }),
      sent: new Counter({
        name: "grpc_server_msg_sent_total",
        help: "Total number of gRPC stream messages sent by the server.",
        labelNames: labels,
        registers,
      }),
      handling: new Histogram({
        name: "grpc_server_handling_seconds",
        help: "Histogram of response latency (seconds) of gRPC that had been application-level " +
          "handled by the server.",
        labelNames: labels,
        buckets: GRPC_BUCKETS,
        registers,
      }),
      activeConnections: new Gauge({
        name: "grpc_server_active_connections",
        help: "Client connections (remote address and port) with at least one RPC in progress. " +
          "Deno.serve reports no connection events, so idle keep-alive connections are not counted.",
        registers,
      }),
      inFlight: new Gauge({
        name: "grpc_server_in_flight_requests",
        help: "RPCs in progress.",
        registers,
      }),
    };
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
