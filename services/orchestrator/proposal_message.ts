/**
 * The wire form of stored proposals and match states (`platform.orchestrator.v1`), for responses,
 * events and notifications.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  MatchState,
  type Proposal,
  ProposalReason,
  ProposalSchema,
  ProposalStatus,
  type TaskTerms,
  TaskTermsSchema,
} from "@platform/proto/orchestrator/v1";
import type {
  MatchTaskState,
  ProposalReasonName,
  ProposalRow,
  ProposalState,
  TaskTermsRow,
} from "./proposal_store.ts";

/** Stored proposal statuses as the proto enum. */
export const STATUS_TO_PROTO: Readonly<Record<ProposalState, ProposalStatus>> = {
  PENDING: ProposalStatus.PENDING,
  ACCEPTED: ProposalStatus.ACCEPTED,
  DECLINED: ProposalStatus.DECLINED,
  WITHDRAWN: ProposalStatus.WITHDRAWN,
  EXPIRED: ProposalStatus.EXPIRED,
  CANCELLED: ProposalStatus.CANCELLED,
};

/** Stored match states as the proto enum. */
export const STATE_TO_PROTO: Readonly<Record<MatchTaskState, MatchState>> = {
  PENDING: MatchState.PENDING,
  PROPOSED: MatchState.PROPOSED,
  NO_CANDIDATES: MatchState.NO_CANDIDATES,
  ASSIGNED: MatchState.ASSIGNED,
  CLOSED: MatchState.CLOSED,
};

/** Stored reasons as the proto enum. */
export const REASON_TO_PROTO: Readonly<Record<ProposalReasonName, ProposalReason>> = {
  ANOTHER_DEVELOPER_ACCEPTED: ProposalReason.ANOTHER_DEVELOPER_ACCEPTED,
  TASK_CANCELLED: ProposalReason.TASK_CANCELLED,
  TASK_EXPIRED: ProposalReason.TASK_EXPIRED,
  TASK_CLOSED: ProposalReason.TASK_CLOSED,
  TERMS_CHANGED: ProposalReason.TERMS_CHANGED,
  DEVELOPER_OFFLINE: ProposalReason.DEVELOPER_OFFLINE,
  TIMED_OUT: ProposalReason.TIMED_OUT,
  DEVELOPER_WITHDREW: ProposalReason.DEVELOPER_WITHDREW,
};

/**
 * The TaskTerms message of a stored terms row.
 *
 * @example
 * ```ts
 * toTermsMessage(row.terms);
 * ```
 */
export function toTermsMessage(terms: TaskTermsRow | null): TaskTerms | undefined {
  if (!terms) return undefined;
  return create(TaskTermsSchema, {
    title: terms.title,
    requiredSkills: terms.required_skills,
    budget: terms.budget_minor !== null && terms.currency
      ? { currency: terms.currency, amountMinor: BigInt(terms.budget_minor) }
      : undefined,
    deadline: terms.deadline ? timestampFromDate(new Date(terms.deadline)) : undefined,
    termsVersion: terms.terms_version,
  });
}

/**
 * A proposal row as the proto message, with the terms it was made on.
 *
 * @example
 * ```ts
 * const message = toProposalMessage(row);
 * ```
 */
export function toProposalMessage(row: ProposalRow): Proposal {
  return create(ProposalSchema, {
    id: row.id,
    taskId: row.task_id,
    developerId: row.developer_id,
    score: row.score,
    status: STATUS_TO_PROTO[row.status],
    createdAt: timestampFromDate(row.created_at),
    expiresAt: timestampFromDate(row.expires_at),
    respondedAt: row.responded_at ? timestampFromDate(row.responded_at) : undefined,
    reason: row.reason ? REASON_TO_PROTO[row.reason] : ProposalReason.UNSPECIFIED,
    task: toTermsMessage(row.terms),
  });
}
