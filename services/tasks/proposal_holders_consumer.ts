/**
 * Keeps `task_proposal_holders` (who holds a pending or accepted proposal for a task, so that
 * they see it whole) from the orchestrator's `proposal.created`, `proposal.accepted` and
 * `proposal.closed`, through a durable consumer of the PROPOSALS stream shared by every replica
 * (one subject filter, `proposal.>`; other subjects are skipped). Idempotent and order-proof: each
 * proposal's row keeps the latest of its events by rank (created, accepted, closed). Malformed
 * events are terminated by the consumer.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ConsumedEvent,
  decodeStreamEvent,
  DurableConsumer,
  type EventsOnStream,
  PROPOSALS_STREAM,
  streamSubscription,
  UnprocessableEventError,
} from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { Metrics } from "@platform/lib/metrics";
import type { TaskStore } from "./task_store.ts";
import { isUuid } from "@platform/lib/domain";

/** The durable consumer name shared by the Task Service's replicas. */
export const PROPOSAL_HOLDERS_DURABLE = "taskservice-proposal-holders";

/** What each PROPOSALS event says of its developer: holding or not, and its rank (latest wins). */
const HOLDING: Record<EventsOnStream<"PROPOSALS">, { holding: boolean; rank: number }> = {
  proposalCreated: { holding: true, rank: 1 },
  proposalAccepted: { holding: true, rank: 2 },
  proposalClosed: { holding: false, rank: 3 },
};

/**
 * Applies one PROPOSALS event to the holders table; returns false for another stream's event and
 * throws `UnprocessableEventError` for a subject the catalog does not know.
 *
 * @example
 * ```ts
 * await recordProposalHolder(store, event.subject, event.data);
 * ```
 */
export async function recordProposalHolder(
  store: TaskStore,
  subject: string,
  data: Uint8Array,
): Promise<boolean> {
  const decoded = decodeStreamEvent("PROPOSALS", { subject, data });
  if (!decoded) return false;
  const { holding, rank } = HOLDING[decoded.name];
  const fields = decoded.payload;
  for (const name of ["proposalId", "taskId", "developerId"] as const) {
    if (!isUuid(fields[name])) throw new UnprocessableEventError(`${name} must be a UUID`);
  }
  await store.recordProposalHolder({
    proposalId: fields.proposalId.toLowerCase(),
    taskId: fields.taskId.toLowerCase(),
    developerId: fields.developerId.toLowerCase(),
    holding,
    rank,
  });
  return true;
}

/**
 * The durable consumer that keeps the holders table.
 *
 * @example
 * ```ts
 * proposalHoldersConsumer(nc, store, logger, metrics).start();
 * ```
 */
export function proposalHoldersConsumer(
  nc: NatsConnection,
  store: TaskStore,
  logger: Logger,
  metrics: Metrics,
): DurableConsumer {
  return new DurableConsumer({
    nc,
    // One subject filter (filter_subjects needs nats-server 2.10); other subjects are skipped.
    ...streamSubscription(PROPOSALS_STREAM),
    durable: PROPOSAL_HOLDERS_DURABLE,
    logger,
    metrics,
    maxDeliver: -1,
    backoffMs: [],
    // A subject the catalog does not know is an unknown event: counted and set aside.
    handler: async (event: ConsumedEvent) => {
      await recordProposalHolder(store, event.subject, event.data);
    },
  });
}
