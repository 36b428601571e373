/**
 * The OrchestratorService RPCs: list proposals, respond to one (the first acceptance wins), and
 * a task's match status. They translate requests and rows, and check who may read what: a
 * developer sees and answers their own proposals; a task's proposals and match status are for
 * those who see the task whole (lib/auth/task_visibility.ts, the rule every service applies:
 * its client, its developer, developers holding a proposal for it, admins and services); anyone
 * else gets not_found, as for an unknown task. Changes go through the commands
 * (proposal_commands.ts), which own the transactions; no SQL here.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  Decision,
  type OrchestratorService,
  type Proposal,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import {
  isPrivileged,
  type Principal,
  requirePrincipal,
  requireRole,
  taskVisibility,
} from "@platform/lib/auth";
import { NotFoundError, PermissionDeniedError, ValidationError } from "@platform/lib/errors";
import type { ProposalCommands } from "./proposal_commands.ts";
import { STATE_TO_PROTO, STATUS_TO_PROTO, toProposalMessage } from "./proposal_message.ts";
import { linkProposalTrace } from "./proposal_trace.ts";
import type { MatchTaskRow, ProposalRow, ProposalState, ProposalStore } from "./proposal_store.ts";
import { isUuid, validatePageSize } from "@platform/lib/domain";

/** What the handlers need. */
export interface ProposalHandlerDeps {
  /** The operations (and, as `commands.store`, the reads). */
  commands: ProposalCommands;
}

const STATUS_FROM_PROTO = new Map<ProposalStatus, ProposalState>(
  Object.entries(STATUS_TO_PROTO).map(([k, v]) => [v, k as ProposalState]),
);

/**
 * True when the caller sees the task whole, by the one visibility rule with the orchestrator's
 * facts (a developer's pending or accepted proposal is looked up only when it matters).
 *
 * @example
 * ```ts
 * if (!task || !await seesTaskWhole(store, me, task)) throw new NotFoundError("task", taskId);
 * ```
 */
export async function seesTaskWhole(
  store: ProposalStore,
  me: Principal,
  task: MatchTaskRow,
): Promise<boolean> {
  const audience = {
    clientId: task.client_id,
    assignedDeveloperId: task.assigned_developer_id,
    open: task.state !== "ASSIGNED" && task.state !== "CLOSED",
    holdsProposal: false,
  };
  if (taskVisibility(me, audience) === "full") return true;
  if (me.role !== "developer") return false;
  const holds = await store.holdsProposal(task.task_id, me.subject.toLowerCase());
  return holds && taskVisibility(me, { ...audience, holdsProposal: true }) === "full";
}

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
      const pageSize = validatePageSize(req.pageSize);
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
            // Unknown and unseen tasks answer alike: no probing for task ids.
            const task = await store.tasks.getTask(taskId);
            if (!task || !await seesTaskWhole(store, me, task)) {
              throw new NotFoundError("task", taskId);
            }
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
        proposals: page.map(toProposalMessage),
        nextPageToken: rows.length > pageSize && last ? encodePageToken(last.pos, last.id) : "",
      };
    },

    async respondToProposal(req, ctx) {
      const me = requireRole(ctx, "developer");
      const proposalId = uuid("proposal_id", req.proposalId);
      if (req.decision !== Decision.ACCEPT && req.decision !== Decision.DECLINE) {
        throw new ValidationError("decision", "must be DECISION_ACCEPT or DECISION_DECLINE");
      }
      await linkProposalTrace(commands, proposalId);
      const proposal = await commands.respond({
        proposalId,
        developerId: me.subject,
        accept: req.decision === Decision.ACCEPT,
      });
      return { proposal: toProposalMessage(proposal) };
    },

    async getMatchStatus(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = uuid("task_id", req.taskId);
      const task = await store.tasks.getTask(taskId);
      // Unknown and unseen tasks answer alike: no probing for task ids.
      if (!task || !await seesTaskWhole(store, me, task)) throw new NotFoundError("task", taskId);
      const pending = await commands.pendingCount(taskId);
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

/**
 * A proposal row as the proto message (with the terms it was made on).
 *
 * @example
 * ```ts
 * toProto(row).task?.title;
 * ```
 */
export function toProto(row: ProposalRow): Proposal {
  return toProposalMessage(row);
}

function uuid(field: string, value: string): string {
  if (!isUuid(value)) throw new ValidationError(field, "must be a UUID");
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
    if (!/^\d{1,19}$/.test(micros) || !isUuid(id)) throw new Error("bad token");
    const value = BigInt(micros);
    if (value > INT8_MAX) throw new Error("out of range"); // the keyset is an int8
    return { micros: value, id: id.toLowerCase() };
  } catch {
    throw new ValidationError("page_token", "is not a token this service returned");
  }
}
