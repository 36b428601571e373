/**
 * The gRPC server metrics of every call, whichever path serves it (the unary fast path or
 * connect-es): started, handled by code, handling time, messages, calls in flight and the client
 * connections that have one.
 *
 * @module
 */
import type { Metrics } from "../metrics/registry.ts";
import type { CallRecord } from "./call_record.ts";

/** The bookkeeping of one call; `finish` records it once, whatever calls it first. */
export interface CallTracker {
  readonly record: CallRecord;
  /** Records the call as handled with `code` (the record's own code wins when set). */
  finish(code: string): void;
}

/**
 * Creates trackers for the calls of one server.
 *
 * @example
 * ```ts
 * const calls = new CallMetrics(metrics);
 * const call = calls.start(record, "127.0.0.1:5000");
 * call.finish("OK");
 * ```
 */
export class CallMetrics {
  private readonly connections = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  /** Counts the call as started and in flight. */
  start(record: CallRecord, remote: string): CallTracker {
    const { grpc } = this.metrics;
    const labels = {
      grpc_type: record.type,
      grpc_service: record.service,
      grpc_method: record.method,
    };
    const started = performance.now();
    grpc.started.inc(labels);
    this.connections.set(remote, (this.connections.get(remote) ?? 0) + 1);
    grpc.activeConnections.set(this.connections.size);
    grpc.inFlight.inc();
    let finished = false;
    return {
      record,
      finish: (code: string) => {
        if (finished) return;
        finished = true;
        grpc.handled.inc({ ...labels, grpc_code: record.code ?? code });
        grpc.handling.observe(labels, (performance.now() - started) / 1000);
        if (record.received > 0) grpc.received.inc(labels, record.received);
        if (record.sent > 0) grpc.sent.inc(labels, record.sent);
        const left = (this.connections.get(remote) ?? 1) - 1;
        if (left <= 0) this.connections.delete(remote);
        else this.connections.set(remote, left);
        grpc.activeConnections.set(this.connections.size);
        grpc.inFlight.dec();
      },
    };
  }
}
