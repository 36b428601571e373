/**
 * Commit -> JetStream ack latency of outbox events, measured from outside the service: a core
 * NATS subscription sees each `task.created` as the stream stores it (JetStream delivers a
 * published message to core subscribers when it stores it, as it sends the publisher its ack),
 * and the outbox row's `created_at` (PostgreSQL's clock on the same machine: the start of the
 * writing transaction, so the commit itself is counted) is read back from the database afterwards.
 *
 * @module
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type postgres from "postgres";

/** Records when each event id arrived on a subject. */
export class ArrivalRecorder {
  /** Event id (Nats-Msg-Id) -> arrival, epoch milliseconds (sub-millisecond precision). */
  readonly arrivals: Map<string, number> = new Map();
  private readonly sub: Subscription;
  private readonly done: Promise<void>;

  constructor(nc: NatsConnection, subject: string) {
    const sub = nc.subscribe(subject);
    this.sub = sub;
    this.done = (async () => {
      for await (const msg of sub) {
        const at = performance.timeOrigin + performance.now();
        const id = msg.headers?.get("Nats-Msg-Id");
        if (id && !this.arrivals.has(id)) this.arrivals.set(id, at);
      }
    })();
  }

  /** Stops recording. */
  async stop(): Promise<void> {
    this.sub.unsubscribe();
    await this.done;
  }
}

/** Percentiles of commit -> arrival, milliseconds. */
export interface AckLatency {
  events: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Joins the arrivals with the outbox rows' `created_at` and returns the latency percentiles.
 *
 * @example
 * ```ts
 * const latency = await ackLatency(sql, "task_outbox", recorder.arrivals);
 * ```
 */
export async function ackLatency(
  sql: postgres.Sql,
  table: string,
  arrivals: Map<string, number>,
): Promise<AckLatency> {
  const ids = [...arrivals.keys()];
  const rows = ids.length === 0 ? [] : await sql<{ id: string; ms: number }[]>`
    SELECT id::text AS id, (extract(epoch FROM created_at) * 1000)::float8 AS ms
    FROM ${sql(table)} WHERE id = ANY(${ids}::uuid[])`;
  const latencies = rows.map((r) => arrivals.get(r.id)! - r.ms).sort((a, b) => a - b);
  const at = (p: number) =>
    latencies.length === 0
      ? NaN
      : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  return {
    events: latencies.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: latencies.at(-1) ?? NaN,
  };
}
