/**
 * Who the Orchestrator tells, and what (notifications on `notify.<user_id>.<kind>`, written to its
 * outbox in the transaction of the change):
 *
 * - the developer a proposal is for: offered, withdrawn, expired, or (an accepted one) cancelled;
 * - the task's client: a developer accepted, and every change of the task's match state.
 *
 * @module
 */
import { isNotifiableUser, notificationEvent, type OutboxEvent } from "@platform/lib/events";
import { NotificationKind } from "@platform/proto/notifications/v1";
import { proposalClosedEvent } from "./proposal_events.ts";
import { STATE_TO_PROTO, toProposalMessage } from "./proposal_message.ts";
import type { ProposalRow, StateChange } from "./proposal_store.ts";

const KIND_BY_STATUS: Partial<Record<ProposalRow["status"], NotificationKind>> = {
  PENDING: NotificationKind.PROPOSAL_OFFERED,
  WITHDRAWN: NotificationKind.PROPOSAL_WITHDRAWN,
  EXPIRED: NotificationKind.PROPOSAL_EXPIRED,
  CANCELLED: NotificationKind.PROPOSAL_CANCELLED,
};

/**
 * Tells each proposal's developer what became of it (by its status: offered while PENDING,
 * withdrawn, expired, cancelled); a declined or accepted one is their own doing and tells nothing.
 *
 * @example
 * ```ts
 * await outbox.write(tx, developerNotifications(inserted));
 * ```
 */
export function developerNotifications(proposals: readonly ProposalRow[]): OutboxEvent[] {
  return proposals.flatMap((proposal) => {
    const kind = KIND_BY_STATUS[proposal.status];
    if (kind === undefined || !isNotifiableUser(proposal.developer_id)) return [];
    return [
      notificationEvent(proposal.developer_id, kind, {
        taskId: proposal.task_id,
        detail: { case: "proposal", value: toProposalMessage(proposal) },
      }),
    ];
  });
}

/**
 * Proposals that stopped being open: `proposal.closed` for each (the Task Service keeps who holds a
 * proposal from it) and the developer's notification.
 *
 * @example
 * ```ts
 * await outbox.write(tx, closedProposalEvents(withdrawn));
 * ```
 */
export function closedProposalEvents(proposals: readonly ProposalRow[]): OutboxEvent[] {
  const now = new Date();
  return [
    ...proposals.map((p) => proposalClosedEvent(p, now)),
    ...developerNotifications(proposals),
  ];
}

const CLIENT_KIND_BY_ANSWER: Partial<Record<ProposalRow["status"], NotificationKind>> = {
  ACCEPTED: NotificationKind.PROPOSAL_ACCEPTED,
  DECLINED: NotificationKind.PROPOSAL_DECLINED,
};

/**
 * Tells the task's client that a developer answered a proposal for it (accepted or declined).
 *
 * @example
 * ```ts
 * answerNotification(task.client_id, accepted);
 * ```
 */
export function answerNotification(
  clientId: string | null,
  proposal: ProposalRow,
): OutboxEvent[] {
  const kind = CLIENT_KIND_BY_ANSWER[proposal.status];
  if (kind === undefined || !clientId || !isNotifiableUser(clientId)) return [];
  return [
    notificationEvent(clientId, kind, {
      taskId: proposal.task_id,
      detail: { case: "proposal", value: toProposalMessage(proposal) },
    }),
  ];
}

/**
 * Tells the task's client where matching now stands, when the state really changed.
 *
 * @example
 * ```ts
 * matchStateNotifications([{ task_id, client_id, from: "PENDING", to: "PROPOSED", pending: 3 }]);
 * ```
 */
export function matchStateNotifications(changes: readonly StateChange[]): OutboxEvent[] {
  return changes.flatMap((change) => {
    if (change.from === change.to || !change.client_id || !isNotifiableUser(change.client_id)) {
      return [];
    }
    return [
      notificationEvent(change.client_id, NotificationKind.MATCH_STATE_CHANGED, {
        taskId: change.task_id,
        detail: {
          case: "match",
          value: {
            from: STATE_TO_PROTO[change.from],
            to: STATE_TO_PROTO[change.to],
            pendingProposals: change.pending,
          },
        },
      }),
    ];
  });
}
