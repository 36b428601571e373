/**
 * Emergency: purge a JetStream stream (the manual's `nats stream purge TASKS --force`), but only
 * the messages the operator was shown: up to the last sequence listed before the confirmation.
 * Messages published while the operator read and answered are kept. Consumers keep their
 * position and see nothing older.
 *
 * @module
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { ConsumerState } from "../doctor/checks/nats.ts";

/** A stream's contents before a purge. */
export interface StreamState {
  /** The stream's name. */
  stream: string;
  /** Messages stored. */
  messages: number;
  /** Bytes stored. */
  bytes: number;
  /** Sequence number of the oldest message stored. */
  firstSeq: number;
  /** Sequence number of the newest message stored. */
  lastSeq: number;
  /** Every consumer of the stream, with its backlog. */
  consumers: ConsumerState[];
}

/**
 * The stream's state and its consumers' backlog.
 *
 * @example
 * ```ts
 * const state = await describeStream(jsm, "TASKS");
 * ```
 */
export async function describeStream(jsm: JetStreamManager, name: string): Promise<StreamState> {
  const info = await jsm.streams.info(name);
  const consumers: ConsumerState[] = [];
  for await (const ci of jsm.consumers.list(name)) {
    consumers.push({
      stream: name,
      consumer: ci.name,
      pending: ci.num_pending,
      ackPending: ci.num_ack_pending,
      redelivered: ci.num_redelivered,
      waiting: ci.num_waiting,
    });
  }
  return {
    stream: name,
    messages: info.state.messages,
    bytes: info.state.bytes,
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    consumers,
  };
}

/** What a purge did. */
export interface PurgeOutcome {
  /** Messages deleted. */
  purged: number;
  /** Messages left in the stream (published after the listing). */
  remaining: number;
  /** The stream's first sequence after the purge. */
  firstSeq: number;
  lastSeq: number;
}

/**
 * Purges the stream's messages up to and including sequence `throughSeq` (the `lastSeq` the
 * operator was shown), never a message published after it; returns what was purged and what
 * remains.
 *
 * @example
 * ```ts
 * const before = await describeStream(jsm, "TASKS");
 * const outcome = await purgeStream(jsm, "TASKS", before.lastSeq);
 * ```
 */
export async function purgeStream(
  jsm: JetStreamManager,
  name: string,
  throughSeq: number,
): Promise<PurgeOutcome> {
  if (!Number.isInteger(throughSeq) || throughSeq < 1) {
    throw new Error(`purge needs the last sequence to purge (>= 1), got ${throughSeq}`);
  }
  // JetStream's `seq` purges up to but not including that sequence.
  const response = await jsm.streams.purge(name, { seq: throughSeq + 1 });
  const after = await jsm.streams.info(name);
  return {
    purged: response.purged,
    remaining: after.state.messages,
    firstSeq: after.state.first_seq,
    lastSeq: after.state.last_seq,
  };
}
