/**
 * Builds the orchestrator's events (the catalog's `proposal.*`, stream PROPOSALS) for its outbox.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EVENTS, type OutboxEvent, outboxEvent } from "@platform/lib/events";
import { ProposalReason } from "@platform/proto/orchestrator/v1";
import { REASON_TO_PROTO, STATUS_TO_PROTO, toTermsMessage } from "./proposal_message.ts";
import type { ProposalRow } from "./proposal_store.ts";

/** The orchestrator's outbox table (migrations 001, 002, 004). */
export const PROPOSAL_OUTBOX = "proposal_outbox";

/**
 * `proposal.created` for a proposal just stored. Its event id is the proposal's id (one
 * `proposal.created` per proposal), so the answer finds the proposal's trace context in the
 * outbox row by its key (proposal_trace.ts).
 *
 * @example
 * ```ts
 * await outbox.write(tx, inserted.map((p) => proposalCreatedEvent(p)));
 * ```
 */
export function proposalCreatedEvent(proposal: ProposalRow, now = new Date()): OutboxEvent {
  return outboxEvent(EVENTS.proposalCreated, {
    proposalId: proposal.id,
    taskId: proposal.task_id,
    developerId: proposal.developer_id,
    score: proposal.score,
    expiresAt: timestampFromDate(proposal.expires_at),
    task: toTermsMessage(proposal.terms),
  }, { now, id: proposal.id });
}

/**
 * `proposal.accepted` when a developer's acceptance won: the Task Service assigns the task.
 *
 * @example
 * ```ts
 * await outbox.write(tx, [proposalAcceptedEvent(accepted)]);
 * ```
 */
export function proposalAcceptedEvent(proposal: ProposalRow, now = new Date()): OutboxEvent {
  return outboxEvent(EVENTS.proposalAccepted, {
    proposalId: proposal.id,
    taskId: proposal.task_id,
    developerId: proposal.developer_id,
    termsVersion: proposal.terms_version,
  }, { now });
}

/**
 * `proposal.closed` when a proposal stops being open for its developer (declined, withdrawn,
 * expired, or an acceptance cancelled).
 *
 * @example
 * ```ts
 * await outbox.write(tx, withdrawn.map((p) => proposalClosedEvent(p)));
 * ```
 */
export function proposalClosedEvent(proposal: ProposalRow, now = new Date()): OutboxEvent {
  return outboxEvent(EVENTS.proposalClosed, {
    proposalId: proposal.id,
    taskId: proposal.task_id,
    developerId: proposal.developer_id,
    status: STATUS_TO_PROTO[proposal.status],
    reason: proposal.reason ? REASON_TO_PROTO[proposal.reason] : ProposalReason.UNSPECIFIED,
  }, { now });
}
