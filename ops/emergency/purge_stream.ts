/**
 * Emergency: purge a JetStream stream (the manual's `nats stream purge TASKS --force`): every
 * stored message is deleted; consumers keep their position and see nothing older.
 *
 * @module
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { ConsumerState } from "../doctor/checks/nats.ts";

/** A stream's contents before a purge. */
export interface StreamState {
  stream: string;
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
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

/**
 * Purges every message of the stream; returns how many were purged.
 *
 * @example
 * ```ts
 * const purged = await purgeStream(jsm, "TASKS");
 * ```
 */
export async function purgeStream(jsm: JetStreamManager, name: string): Promise<number> {
  const response = await jsm.streams.purge(name);
  return response.purged;
}
