/**
 * The OrchestratorService RPCs: list proposals, respond to one (the first acceptance wins), and
 * a task's match status. They translate requests and rows, and check who may read what: a
 * developer sees and answers their own proposals, a client sees the proposals of their own tasks,
 * admins and services see all. Changes go through the commands (proposal_commands.ts), which own
 * the transactions; no SQL here.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  Decision,
  MatchState,
  type OrchestratorService,
  type Proposal,
  ProposalSchema,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import { isPrivileged, requirePrincipal, requireRole } from "@platform/lib/auth";
import { NotFoundError, PermissionDeniedError, ValidationError } from "@platform/lib/errors";
import type { ProposalCommands } from "./proposal_commands.ts";
import type { MatchTaskState, ProposalRow, ProposalState } from "./proposal_store.ts";

/** What the handlers need. */
export interface ProposalHandlerDeps {
  /** The operations (and, as `commands.store`, the reads). */
  commands: ProposalCommands;
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
 * router.service(OrchestratorService, proposalHandlers({ commands }));
 * ```
 */
export function proposalHandlers(
  deps: ProposalHandlerDeps,
): ServiceImpl<typeof OrchestratorService> {
  const { commands } = deps;
  const store = commands.store;
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
      const proposal = await commands.respond({
        proposalId,
        developerId: me.subject,
        accept: req.decision === Decision.ACCEPT,
      });
      return { proposal: toProto(proposal) };
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
