/**
 * The gRPC server metric families (go-grpc-prometheus names and labels), kept in plain numbers
 * per method and written out only when Prometheus scrapes. prom-client's own counters and
 * histograms hash the label set on every update (sorting keys, building strings): about nine of
 * those per call showed up as several per cent of a GetUser's CPU time.
 *
 * The families are registered in the prom-client registry as ordinary metrics, so `/metrics`
 * reads exactly as it did with prom-client's own types.
 *
 * @module
 */
import type { Registry } from "prom-client";

/** go-grpc-prometheus's default latency buckets, in seconds. */
export const GRPC_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** go-grpc-prometheus's grpc_type label. */
export type GrpcTypeLabel = "unary" | "server_stream" | "client_stream" | "bidi_stream";

/** The counts of one method (one grpc_type, grpc_service, grpc_method label set). */
export class GrpcMethodSeries {
  /** Calls started. */
  started = 0;
  /** Stream messages received and sent. */
  received = 0;
  /** Stream messages sent. */
  sent = 0;
  /** Calls handled, by code name ("OK", "InvalidArgument", ...). */
  readonly handled: Map<string, number> = new Map();
  /** Per-bucket (not cumulative) counts of handling times; the last is +Inf. */
  readonly buckets: number[] = new Array(GRPC_BUCKETS.length + 1).fill(0);
  /** Total handling time of the finished calls, in seconds. */
  sum = 0;
  /** Calls finished. */
  count = 0;

  /**
   * Creates the series with zero counts.
   *
   * @param labels Its `grpc_type`, `grpc_service` and `grpc_method` labels.
   */
  constructor(readonly labels: Readonly<Record<string, string>>) {}

  /** Records a finished call. */
  finish(code: string, seconds: number, received: number, sent: number): void {
    this.handled.set(code, (this.handled.get(code) ?? 0) + 1);
    let bucket = 0;
    while (bucket < GRPC_BUCKETS.length && seconds > GRPC_BUCKETS[bucket]) bucket++;
    this.buckets[bucket]++;
    this.sum += seconds;
    this.count++;
    this.received += received;
    this.sent += sent;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

interface ExportedMetric {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  aggregator: "sum";
  get(): Promise<
    { name: string; help: string; type: string; aggregator: string; values: MetricValue[] }
  >;
}

/**
 * The gRPC server metrics of one service.
 *
 * @example
 * ```ts ignore
 * const grpc = new GrpcServerMetrics(registry);
 * const series = grpc.series("unary", "platform.users.v1.UserService", "GetUser");
 * series.started++;
 * series.finish("OK", 0.002, 1, 1);
 * ```
 */
export class GrpcServerMetrics {
  /** RPCs in progress. */
  inFlight = 0;
  /** Client connections (remote address and port) with at least one RPC in progress. */
  activeConnections = 0;
  /** Calls served by the unary fast path (the rest by connect-es). */
  fastPathCalls = 0;
  private readonly all = new Map<string, GrpcMethodSeries>();

  /**
   * Registers the go-grpc-prometheus families (`grpc_server_*`) in `registry`; their values are
   * read from the series at scrape time.
   *
   * @param registry The registry to register in.
   */
  constructor(registry: Registry) {
    const families: ExportedMetric[] = [
      this.family(
        "grpc_server_started_total",
        "Total number of RPCs started on the server.",
        "counter",
        () => [...this.all.values()].map((s) => ({ labels: { ...s.labels }, value: s.started })),
      ),
      this.family(
        "grpc_server_handled_total",
        "Total number of RPCs completed on the server, regardless of success or failure.",
        "counter",
        () =>
          [...this.all.values()].flatMap((s) =>
            [...s.handled].map(([code, value]) => ({
              labels: { ...s.labels, grpc_code: code },
              value,
            }))
          ),
      ),
      this.family(
        "grpc_server_msg_received_total",
        "Total number of RPC stream messages received on the server.",
        "counter",
        () =>
          [...this.all.values()].filter((s) => s.received > 0).map((s) => ({
            labels: { ...s.labels },
            value: s.received,
          })),
      ),
      this.family(
        "grpc_server_msg_sent_total",
        "Total number of gRPC stream messages sent by the server.",
        "counter",
        () =>
          [...this.all.values()].filter((s) => s.sent > 0).map((s) => ({
            labels: { ...s.labels },
            value: s.sent,
          })),
      ),
      this.family(
        "grpc_server_handling_seconds",
        "Histogram of response latency (seconds) of gRPC that had been application-level " +
          "handled by the server.",
        "histogram",
        () => [...this.all.values()].flatMap((s) => histogramValues(s)),
      ),
      this.family(
        "grpc_server_active_connections",
        "Client connections (remote address and port) with at least one RPC in progress. " +
          "Deno.serve reports no connection events, so idle keep-alive connections are not counted.",
        "gauge",
        () => [{ labels: {}, value: this.activeConnections }],
      ),
      this.family(
        "rpc_fast_path_calls_total",
        "Unary calls served by the fast path (protobuf-es directly); the rest went to connect-es.",
        "counter",
        () => [{ labels: {}, value: this.fastPathCalls }],
      ),
      this.family(
        "grpc_server_in_flight_requests",
        "RPCs in progress.",
        "gauge",
        () => [{ labels: {}, value: this.inFlight }],
      ),
    ];
    for (const family of families) {
      registry.registerMetric(family as unknown as Parameters<Registry["registerMetric"]>[0]);
    }
  }

  /** The series of a method, created on first use. */
  series(type: GrpcTypeLabel, service: string, method: string): GrpcMethodSeries {
    const key = `${type}|${service}|${method}`;
    let series = this.all.get(key);
    if (!series) {
      series = new GrpcMethodSeries({
        grpc_type: type,
        grpc_service: service,
        grpc_method: method,
      });
      this.all.set(key, series);
    }
    return series;
  }

  /** A metric family whose values are computed when Prometheus scrapes. */
  private family(
    name: string,
    help: string,
    type: ExportedMetric["type"],
    values: () => MetricValue[],
  ): ExportedMetric {
    const get = () => Promise.resolve({ name, help, type, aggregator: "sum", values: values() });
    return { name, help, type, aggregator: "sum", get };
  }
}

function histogramValues(series: GrpcMethodSeries): MetricValue[] {
  const name = "grpc_server_handling_seconds";
  const out: MetricValue[] = [];
  let cumulative = 0;
  GRPC_BUCKETS.forEach((le, i) => {
    cumulative += series.buckets[i];
    out.push({
      labels: { le },
      sharedLabels: series.labels,
      value: cumulative,
      metricName: `${name}_bucket`,
    });
  });
  out.push(
    {
      labels: { le: "+Inf" },
      sharedLabels: series.labels,
      value: series.count,
      metricName: `${name}_bucket`,
    },
    { labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${name}_sum` },
    { labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${name}_count` },
  );
  return out;
}
