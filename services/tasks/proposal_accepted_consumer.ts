/**
 * Consumes `proposal.accepted` (stream PROPOSALS) through the durable consumer shared by every
 * replica, and assigns the task OPEN -> ASSIGNED to the proposal's developer through
 * {@link TaskCommands.acceptProposal}, idempotently: the event id is recorded in
 * `task_processed_events` in the same transaction as the assignment (one lock of the task), so
 * a redelivery changes nothing; a task already assigned to that developer is a no-op; a task in
 * another state (cancelled or expired first), or whose terms changed after the developer's
 * acceptance (`terms_version`), is logged and acknowledged: the orchestrator, which sees the same
 * task events, takes that acceptance back itself, so both services end in the same state.
 *
 * @module
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  type ConsumedEvent,
  decodeEvent,
  DurableConsumer,
  EVENTS,
  subscriptionOf,
  UnprocessableEventError,
} from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { Metrics } from "@platform/lib/metrics";
import type { TaskCommands } from "./task_commands.ts";
import { isUuid } from "@platform/lib/domain";

/** The durable consumer name shared by the Task Service's replicas. */
export const PROPOSAL_ACCEPTED_DURABLE = "taskservice-proposal-accepted";

/** An event id that is not a UUID: 1..128 printable ASCII characters, not only spaces. */
const EVENT_ID = /^(?=.*[^ ])[\x20-\x7E]{1,128}$/;

/** What happened to one event. */
export type AcceptOutcome =
  | "assigned"
  | "duplicate"
  | "already_assigned"
  | "skipped"
  | "terms_changed";

/**
 * Handles one `proposal.accepted` payload. Throws UnprocessableEventError / MalformedEventError
 * for payloads that can never be processed; other errors mean "retry later".
 *
 * @example
 * ```ts
 * await handleProposalAccepted(commands, logger, msg.data);
 * ```
 */
export async function handleProposalAccepted(
  commands: TaskCommands,
  logger: Logger,
  data: Uint8Array,
): Promise<AcceptOutcome> {
  const event = decodeEvent(EVENTS.proposalAccepted.schema, data);
  // Everything that reaches SQL is checked first: a value PostgreSQL refuses (NUL, too long)
  // would otherwise fail every delivery and be retried forever.
  if (!isUuid(event.eventId) && !EVENT_ID.test(event.eventId)) {
    throw new UnprocessableEventError(
      "event_id must be a UUID or 1..128 printable ASCII characters",
    );
  }
  if (!isUuid(event.taskId)) throw new UnprocessableEventError("task_id must be a UUID");
  if (!isUuid(event.developerId)) {
    throw new UnprocessableEventError("developer_id must be a UUID");
  }
  if (!isUuid(event.proposalId)) {
    throw new UnprocessableEventError("proposal_id must be a UUID");
  }
  const fields = {
    event_id: event.eventId,
    task_id: event.taskId.toLowerCase(),
    developer_id: event.developerId.toLowerCase(),
  };
  // A data exception (SQLSTATE class 22) is retried a few times and then terminated by the
  // durable consumer (lib/events/durable_consumer.ts), which owns that rule for every consumer.
  const result = await commands.acceptProposal({
    eventId: event.eventId,
    taskId: fields.task_id,
    developerId: fields.developer_id,
    proposalId: event.proposalId.toLowerCase(),
    termsVersion: event.termsVersion,
  });
  switch (result.outcome) {
    case "unknown_task":
      logger.warn("proposal.accepted for an unknown task; ignored", fields);
      return "skipped";
    case "terms_changed":
      logger.warn("proposal.accepted on terms that changed since; not assigned", {
        ...fields,
        accepted_terms_version: event.termsVersion,
        terms_version: result.termsVersion,
      });
      return "terms_changed";
    case "skipped":
      logger.warn("proposal.accepted for a task that cannot be assigned; ignored", {
        ...fields,
        problem: result.problem,
      });
      return "skipped";
    case "assigned":
      logger.info("task assigned from accepted proposal", fields);
      return "assigned";
    default:
      return result.outcome;
  }
}

/**
 * The durable consumer of `proposal.accepted` for the Task Service.
 *
 * @example
 * ```ts
 * const consumer = proposalAcceptedConsumer(nc, commands, logger, metrics);
 * consumer.start();
 * ```
 */
export function proposalAcceptedConsumer(
  nc: NatsConnection,
  commands: TaskCommands,
  logger: Logger,
  metrics: Metrics,
): DurableConsumer {
  return new DurableConsumer({
    nc,
    ...subscriptionOf(EVENTS.proposalAccepted),
    durable: PROPOSAL_ACCEPTED_DURABLE,
    logger,
    metrics,
    // JetStream refuses a backoff list with unlimited max_deliver ("max deliver is required to be
    // > length of backoff values"); with none, a failed event is retried every second, forever.
    maxDeliver: -1,
    backoffMs: [],
    handler: async (event: ConsumedEvent) => {
      await handleProposalAccepted(commands, logger, event.data);
    },
  });
}
