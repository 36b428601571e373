/**
 * The gRPC server metrics of every call, whichever path serves it (the unary fast path or
 * connect-es): started, handled by code, handling time, messages, calls in flight and the client
 * connections that have one; and, with tracing on, the RPC's span (named after the method).
 *
 * @module
 */
import type { GrpcMethodSeries } from "../metrics/grpc_metrics.ts";
import type { Metrics } from "../metrics/registry.ts";
import { type RpcSpan, startRpcSpan } from "../tracing/rpc_span.ts";
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
 * ```ts ignore
 * const calls = new CallMetrics(metrics);
 * const call = calls.start(record, "127.0.0.1:5000");
 * call.finish("OK");
 * ```
 */
export class CallMetrics {
  private readonly connections = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  /** Counts the call as started and in flight (`series`: the method's, when known already). */
  start(record: CallRecord, remote: string, series?: GrpcMethodSeries): CallTracker {
    return new Call(this, record, remote, series ?? this.series(record));
  }

  /** Counts a call the unary fast path serves. */
  countFastPath(): void {
    this.metrics.grpc.fastPathCalls++;
  }

  /** The series of a call's method. */
  series(record: CallRecord): GrpcMethodSeries {
    return this.metrics.grpc.series(record.type, record.service, record.method);
  }

  /** @internal */
  enter(remote: string): void {
    this.connections.set(remote, (this.connections.get(remote) ?? 0) + 1);
    this.metrics.grpc.activeConnections = this.connections.size;
    this.metrics.grpc.inFlight++;
  }

  /** @internal */
  leave(remote: string): void {
    const left = (this.connections.get(remote) ?? 1) - 1;
    if (left <= 0) this.connections.delete(remote);
    else this.connections.set(remote, left);
    this.metrics.grpc.activeConnections = this.connections.size;
    this.metrics.grpc.inFlight--;
  }
}

class Call implements CallTracker {
  private readonly started = performance.now();
  private finished = false;
  /** The RPC's span (tracing on only, see lib/tracing/rpc_span.ts). */
  private readonly span: RpcSpan | undefined;

  constructor(
    private readonly calls: CallMetrics,
    readonly record: CallRecord,
    private readonly remote: string,
    private readonly series: GrpcMethodSeries,
  ) {
    this.series.started++;
    calls.enter(remote);
    this.span = startRpcSpan(record.service, record.method);
  }

  finish(code: string): void {
    if (this.finished) return;
    this.finished = true;
    const record = this.record;
    this.series.finish(
      record.code ?? code,
      (performance.now() - this.started) / 1000,
      record.received,
      record.sent,
    );
    this.calls.leave(this.remote);
    this.span?.end(record.code ?? code);
  }
}
