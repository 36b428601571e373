/**
 * The OrchestratorService RPCs: list proposals, respond to one (the first acceptance wins), and
 * a task's match status. Ownership is checked here: a developer sees and answers their own
 * proposals, a client sees the proposals of their own tasks, admins and services see all.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { ProposalAcceptedSchema } from "@platform/proto/events/v1";
import {
  Decision,
  MatchState,
  type OrchestratorService,
  type Proposal,
  ProposalSchema,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import type { Histogram } from "prom-client";
import { isPrivileged, requirePrincipal, requireRole } from "@platform/lib/auth";
import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  ValidationError,
} from "@platform/lib/errors";
import { buildEventJson } from "@platform/lib/events";
import type {
  MatchTaskState,
  ProposalRow,
  ProposalState,
  ProposalStore,
} from "./proposal_store.ts";

/** What the handlers need. */
export interface ProposalHandlerDeps {
  store: ProposalStore;
  responseTime: Histogram<string>;
  /** Called after a decline or a late answer left a task without pending proposals. */
  onTaskReopened?: () => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const STATUS_TO_PROTO: Record<ProposalState, ProposalStatus> = {
  PENDING: ProposalStatus.PENDING,
  ACCEPTED: ProposalStatus.ACCEPTED,
  DECLINED: ProposalStatus.DECLINED,
  WITHDRAWN: ProposalStatus.WITHDRAWN,
  EXPIRED: ProposalStatus.EXPIRED,
};
const STATUS_FROM_PROTO = new Map<ProposalStatus, ProposalState>(
  Object.entries(STATUS_TO_PROTO).map(([k, v]) => [v, k as ProposalState]),
);
const STATE_TO_PROTO: Record<MatchTaskState, MatchState> = {
  PENDING: MatchState.PENDING,
  PROPOSED: MatchState.PROPOSED,
  NO_CANDIDATES: MatchState.NO_CANDIDATES,
  ASSIGNED: MatchState.ASSIGNED,
  CLOSED: MatchState.CLOSED,
};

/**
 * The RPC implementations.
 *
 * @example
 * ```ts
 * router.service(OrchestratorService, proposalHandlers({ store, responseTime }));
 * ```
 */
export function proposalHandlers(
  deps: ProposalHandlerDeps,
): ServiceImpl<typeof OrchestratorService> {
  const { store } = deps;
  return {
    async listProposals(req, ctx) {
      const me = requirePrincipal(ctx);
      const pageSize = req.pageSize === 0 ? 20 : req.pageSize;
      if (pageSize < 1 || pageSize > 100) {
        throw new ValidationError("page_size", "must be from 1 to 100 (0 means 20)");
      }
      let status: ProposalState | undefined;
      if (req.status !== ProposalStatus.UNSPECIFIED) {
        status = STATUS_FROM_PROTO.get(req.status);
        if (!status) throw new ValidationError("status", "is not a known proposal status");
      }
      const after = decodePageToken(req.pageToken);
      const filter: { developerId?: string; taskId?: string } = {};
      if (req.taskId !== "") {
        const taskId = uuid("task_id", req.taskId);
        filter.taskId = taskId;
        if (!isPrivileged(me)) {
          if (me.role === "developer") {
            filter.developerId = me.subject; // a developer sees only their own proposal
          } else {
            // Unknown and someone else's task answer alike: no probing for task ids.
            const task = await store.getTask(taskId);
            if (!task || task.client_id !== me.subject) throw new NotFoundError("task", taskId);
          }
        }
      }
      if (req.developerId !== "") {
        const developerId = uuid("developer_id", req.developerId);
        if (!isPrivileged(me) && developerId !== me.subject) {
          throw new PermissionDeniedError("developers can list only their own proposals");
        }
        filter.developerId = developerId;
      }
      if (req.taskId === "" && req.developerId === "" && !isPrivileged(me)) {
        if (me.role !== "developer") {
          throw new ValidationError("task_id", "clients list the proposals of one of their tasks");
        }
        filter.developerId = me.subject;
      }
      const rows = await store.listProposals({ ...filter, status, limit: pageSize + 1, after });
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        proposals: page.map(toProto),
        nextPageToken: rows.length > pageSize && last ? encodePageToken(last.pos, last.id) : "",
      };
    },

    async respondToProposal(req, ctx) {
      const me = requireRole(ctx, "developer");
      const proposalId = uuid("proposal_id", req.proposalId);
      if (req.decision !== Decision.ACCEPT && req.decision !== Decision.DECLINE) {
        throw new ValidationError("decision", "must be DECISION_ACCEPT or DECISION_DECLINE");
      }
      const accept = req.decision === Decision.ACCEPT;
      const first = await store.getProposal(proposalId);
      if (!first) throw new NotFoundError("proposal", proposalId);
      if (first.developer_id !== me.subject) {
        throw new PermissionDeniedError("only the developer it was made to can answer a proposal");
      }
      const outcome = await store.db.transaction(async (tx) => {
        // Lock order (see proposal_store.ts): the task, then its proposals, as every path does;
        // concurrent answers and the expiry sweep serialise on the task.
        const task = await store.getTask(first.task_id, tx, true);
        const proposal = await store.getProposal(proposalId, tx, true);
        if (!task || !proposal) throw new NotFoundError("proposal", proposalId);
        const wanted: ProposalState = accept ? "ACCEPTED" : "DECLINED";
        if (proposal.status === wanted) return { proposal, changed: false, reopened: false };
        if (proposal.status !== "PENDING") {
          throw new FailedPreconditionError(
            `proposal is ${proposal.status.toLowerCase()}; it can no longer be ${
              accept ? "accepted" : "declined"
            }`,
          );
        }
        if (proposal.past_due) {
          // Past its time on the database's clock (the sweeper's), not yet swept: expire it here
          // and, as the sweeper would, put the task back to matching if nothing is pending.
          await store.setProposalStatus(tx, proposalId, "EXPIRED");
          const reopened = (await store.reopenTasks(tx, [task.task_id])) > 0;
          return { expired: true, reopened } as const;
        }
        if (!accept) {
          const declined = await store.setProposalStatus(tx, proposalId, "DECLINED");
          const reopened = (await store.reopenTasks(tx, [task.task_id])) > 0;
          return { proposal: declined, changed: true, reopened };
        }
        if (task.state === "ASSIGNED" || task.state === "CLOSED") {
          throw new FailedPreconditionError(
            `task is ${task.state.toLowerCase()}; the proposal can no longer be accepted`,
          );
        }
        const accepted = await store.setProposalStatus(tx, proposalId, "ACCEPTED");
        await store.withdrawPending(tx, task.task_id, proposalId);
        await store.setTaskState(tx, task.task_id, "ASSIGNED", me.subject);
        const eventId = crypto.randomUUID();
        await store.insertOutbox(tx, [{
          id: eventId,
          subject: "proposal.accepted",
          payload: buildEventJson(ProposalAcceptedSchema, {
            eventId,
            proposalId,
            taskId: task.task_id,
            developerId: me.subject,
            occurredAt: timestampFromDate(new Date()),
          }),
        }]);
        return { proposal: accepted, changed: true, reopened: false };
      }).catch((error) => {
        // The partial unique index: another acceptance committed first.
        if ((error as { code?: string })?.code === "23505") {
          throw new FailedPreconditionError("another developer accepted this task first");
        }
        throw error;
      });
      if ("expired" in outcome) {
        if (outcome.reopened) deps.onTaskReopened?.();
        throw new FailedPreconditionError("proposal has expired; it can no longer be answered");
      }
      if (outcome.changed && outcome.proposal.responded_at) {
        deps.responseTime.observe(
          Math.max(
            0,
            (outcome.proposal.responded_at.getTime() - outcome.proposal.created_at.getTime()) /
              1000,
          ),
        );
      }
      if (outcome.reopened) deps.onTaskReopened?.();
      return { proposal: toProto(outcome.proposal) };
    },

    async getMatchStatus(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = uuid("task_id", req.taskId);
      const task = await store.getTask(taskId);
      if (!task) throw new NotFoundError("task", taskId);
      if (!isPrivileged(me) && task.client_id !== me.subject) {
        const mine = me.role === "developer"
          ? await store.listProposals({ taskId, developerId: me.subject, limit: 1 })
          : [];
        // Someone else's task answers as an unknown one: no probing for task ids.
        if (mine.length === 0) throw new NotFoundError("task", taskId);
      }
      const pending = await store.db.run((sql) => store.pendingCount(sql, taskId));
      return {
        taskId,
        state: STATE_TO_PROTO[task.state],
        attempts: task.attempts,
        pendingProposals: pending,
        lastAttemptAt: task.last_attempt_at ? timestampFromDate(task.last_attempt_at) : undefined,
        nextAttemptAt: task.next_attempt_at && (task.state === "PENDING" ||
            task.state === "NO_CANDIDATES")
          ? timestampFromDate(task.next_attempt_at)
          : undefined,
        assignedDeveloperId: task.assigned_developer_id ?? "",
      };
    },
  };
}

/** A proposal row as the proto message. */
export function toProto(row: ProposalRow): Proposal {
  return create(ProposalSchema, {
    id: row.id,
    taskId: row.task_id,
    developerId: row.developer_id,
    score: row.score,
    status: STATUS_TO_PROTO[row.status],
    createdAt: timestampFromDate(row.created_at),
    expiresAt: timestampFromDate(row.expires_at),
    respondedAt: row.responded_at ? timestampFromDate(row.responded_at) : undefined,
  });
}

function uuid(field: string, value: string): string {
  if (!UUID.test(value)) throw new ValidationError(field, "must be a UUID");
  return value.toLowerCase();
}

const INT8_MAX = 2n ** 63n - 1n;

/** An opaque page token for the keyset (created_at in microseconds, id). */
export function encodePageToken(micros: bigint, id: string): string {
  return btoa(`${micros}:${id}`).replaceAll("=", "");
}

/** Decodes a page token; a bad one is a ValidationError on page_token. */
export function decodePageToken(token: string): { micros: bigint; id: string } | undefined {
  if (token === "") return undefined;
  try {
    const [micros, id] = atob(token).split(":");
    if (!/^\d{1,19}$/.test(micros) || !UUID.test(id)) throw new Error("bad token");
    const value = BigInt(micros);
    if (value > INT8_MAX) throw new Error("out of range"); // the keyset is an int8
    return { micros: value, id: id.toLowerCase() };
  } catch {
    throw new ValidationError("page_token", "is not a token this service returned");
  }
}
