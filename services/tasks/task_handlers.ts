/**
 * The TaskService RPCs: translate requests into validated domain calls and rows into responses,
 * and check who may do what. No SQL here (the store's) and no transaction logic (the commands').
 * Who may see a task is the one rule of `@platform/lib/auth` (task_visibility.ts).
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type Principal,
  requirePrincipal,
  requireRole,
  type TaskVisibility,
  taskVisibility,
} from "@platform/lib/auth";
import { NotFoundError, PermissionDeniedError, ValidationError } from "@platform/lib/errors";
import {
  DisputeResolution,
  type TaskService,
  TaskStatus,
  TransitionSchema,
} from "@platform/proto/tasks/v1";
import {
  decodeHistoryToken,
  decodePageToken,
  encodeHistoryToken,
  encodePageToken,
  normalizeSkills,
  validateBudget,
  validateDeadline,
  validateDescription,
  validateId,
  validateLink,
  validateNote,
  validateReason,
  validateRequiredSkills,
  validateShareBps,
  validateTitle,
} from "./domain/task_validation.ts";
import type { DeliveryCommands } from "./delivery_commands.ts";
import type { TaskCommands } from "./task_commands.ts";
import { statusFromProto, statusToProto } from "./task_events.ts";
import { toTaskMessage } from "./task_message.ts";
import type { TaskPatch, TaskRow, TaskStore } from "./task_store.ts";
import { isUuid, validateIdempotencyKey, validatePageSize } from "@platform/lib/domain";

export { toTaskMessage };

/**
 * How much of a stored task the caller may see: the rule of lib/auth/task_visibility.ts with this
 * service's facts (whether the caller holds a proposal comes from the orchestrator's proposal
 * events, and is looked up only when it can change the answer).
 *
 * @example
 * ```ts
 * if (await visibilityOf(store, me, row) === "none") throw new NotFoundError("task", row.id);
 * ```
 */
export async function visibilityOf(
  store: TaskStore,
  me: Principal,
  task: TaskRow,
): Promise<TaskVisibility> {
  const audience = {
    clientId: task.client_id,
    assignedDeveloperId: task.assigned_developer_id,
    open: task.status === "OPEN",
    holdsProposal: false,
  };
  const seen = taskVisibility(me, audience);
  if (seen === "full" || me.role !== "developer") return seen;
  const holds = await store.holdsProposal(task.id, me.subject.toLowerCase());
  return holds ? taskVisibility(me, { ...audience, holdsProposal: true }) : seen;
}

function ownerOrAdmin(me: Principal, verb: string) {
  return (task: TaskRow) => {
    if (me.role === "admin") return;
    if (me.role === "client" && me.subject === task.client_id) return;
    throw new PermissionDeniedError(
      `only the client who posted this task or an admin may ${verb} it`,
    );
  };
}

function assignedDeveloper(me: Principal, verb: string) {
  return (task: TaskRow) => {
    if (me.role === "developer" && task.assigned_developer_id === me.subject) return;
    throw new PermissionDeniedError(`only the developer assigned to this task may ${verb} it`);
  };
}

function clientOrAdmin(me: Principal, verb: string) {
  return (task: TaskRow) => {
    if (me.role === "admin") return;
    if (me.role === "client" && me.subject === task.client_id) return;
    throw new PermissionDeniedError(`only the client of this task or an admin may ${verb}`);
  };
}

function eitherParty(me: Principal, verb: string) {
  return (task: TaskRow) => {
    if (me.role === "client" && me.subject === task.client_id) return;
    if (me.role === "developer" && task.assigned_developer_id === me.subject) return;
    throw new PermissionDeniedError(
      `only the client of this task or its assigned developer may ${verb}`,
    );
  };
}

const resolutionNames = {
  [DisputeResolution.APPROVE]: "APPROVE",
  [DisputeResolution.REFUND]: "REFUND",
  [DisputeResolution.SPLIT]: "SPLIT",
} as const;

/**
 * Builds the TaskService implementation.
 *
 * @example
 * ```ts
 * router.service(TaskService, taskHandlers(commands));
 * ```
 */
export function taskHandlers(
  commands: TaskCommands,
  delivery: DeliveryCommands,
): ServiceImpl<typeof TaskService> {
  const store = commands.store;

  /** The task and how much of it the caller sees; unknown and unseen answer alike. */
  const load = async (me: Principal, taskId: string) => {
    const id = validateId(taskId, "task_id");
    const row = await store.get(id);
    if (!row) throw new NotFoundError("task", id);
    const view = await visibilityOf(store, me, row);
    if (view === "none") throw new NotFoundError("task", id);
    return { row, view };
  };

  return {
    async createTask(req, ctx) {
      const me = requireRole(ctx, "client");
      if (!isUuid(me.subject)) {
        throw new PermissionDeniedError("the caller's token does not name a client account");
      }
      const title = validateTitle(req.title);
      const description = validateDescription(req.description);
      const requiredSkills = validateRequiredSkills(req.requiredSkills);
      const budget = validateBudget(req.budget);
      const deadline = validateDeadline(req.deadline ? timestampDate(req.deadline) : undefined);
      const idempotencyKey = validateIdempotencyKey(
        req.idempotencyKey,
        ctx.requestHeader.get("idempotency-key"),
      );
      const row = await commands.create(
        {
          clientId: me.subject,
          title,
          description,
          requiredSkills,
          budgetMinor: budget.amountMinor,
          currency: budget.currency,
          deadline: deadline ?? null,
          requiresApproval: req.requiresApproval,
        },
        me.subject,
        idempotencyKey,
      );
      return { task: toTaskMessage(row) };
    },

    async getTask(req, ctx) {
      const { row, view } = await load(requirePrincipal(ctx), req.taskId);
      return { task: toTaskMessage(row, view) };
    },

    async listTasks(req, ctx) {
      const me = requirePrincipal(ctx);
      const pageSize = validatePageSize(req.pageSize);
      const after = decodePageToken(req.pageToken);
      const skill = normalizeSkills([req.skill], "skill")[0];
      if (req.mine && (me.role !== "client" || !isUuid(me.subject))) {
        throw new ValidationError("mine", "only client accounts own tasks; leave it unset");
      }
      if (req.assignedToMe && me.role !== "developer") {
        throw new ValidationError(
          "assigned_to_me",
          "only developers have tasks assigned to them; leave it unset",
        );
      }
      let status = statusFromProto(req.status);
      if (status === undefined && req.status !== TaskStatus.UNSPECIFIED) {
        throw new ValidationError(
          "status",
          `${req.status} is not a task status; leave it unset for every status`,
        );
      }
      // The visibility rule, as a listing: clients list their own tasks, developers browse OPEN
      // tasks or list those assigned to them, admins and services list everything.
      let clientId: string | undefined;
      let assignedDeveloperId: string | undefined;
      let view: "full" | "browse" = "full";
      if (me.role === "client") {
        clientId = me.subject.toLowerCase();
      } else if (me.role === "developer" && req.assignedToMe) {
        assignedDeveloperId = me.subject.toLowerCase();
      } else if (me.role === "developer") {
        if (status !== undefined && status !== "OPEN") {
          throw new ValidationError(
            "status",
            "developers browse OPEN tasks; set assigned_to_me to list the tasks assigned to you",
          );
        }
        status = "OPEN";
        view = "browse";
      }
      const rows = await store.list({
        status,
        clientId,
        assignedDeveloperId,
        skill,
        pageSize,
        after,
      });
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return {
        tasks: page.map((row) => toTaskMessage(row, view)),
        nextPageToken: rows.length > pageSize && last
          ? encodePageToken({ createdAt: last.created_at, id: last.id })
          : "",
      };
    },

    async updateTask(req, ctx) {
      const me = requireRole(ctx, "client", "admin");
      const id = validateId(req.taskId, "task_id");
      const patch: TaskPatch = {};
      if (req.title !== undefined) patch.title = validateTitle(req.title);
      if (req.description !== undefined) patch.description = validateDescription(req.description);
      if (req.requiredSkills) {
        patch.requiredSkills = validateRequiredSkills(
          req.requiredSkills.skills,
          "required_skills.skills",
        );
      }
      if (req.budget) {
        const budget = validateBudget(req.budget);
        patch.budgetMinor = budget.amountMinor;
        patch.currency = budget.currency;
      }
      if (req.deadline) patch.deadline = validateDeadline(timestampDate(req.deadline));
      const row = await commands.update(id, patch, ownerOrAdmin(me, "update"), me.subject);
      return { task: toTaskMessage(row) };
    },

    async cancelTask(req, ctx) {
      const me = requireRole(ctx, "client", "admin");
      const row = await commands.transition({
        taskId: validateId(req.taskId, "task_id"),
        action: "cancel",
        actorId: me.subject,
        reason: validateReason(req.reason),
        authorize: ownerOrAdmin(me, "cancel"),
      });
      return { task: toTaskMessage(row) };
    },

    async assignTask(req, ctx) {
      const me = requireRole(ctx, "admin", "service");
      const row = await commands.transition({
        taskId: validateId(req.taskId, "task_id"),
        action: "assign",
        actorId: me.subject,
        developerId: validateId(req.developerId, "developer_id"),
      });
      return { task: toTaskMessage(row) };
    },

    async startTask(req, ctx) {
      const me = requirePrincipal(ctx);
      const row = await commands.transition({
        taskId: validateId(req.taskId, "task_id"),
        action: "start",
        actorId: me.subject,
        authorize: assignedDeveloper(me, "start"),
      });
      return { task: toTaskMessage(row) };
    },

    async completeTask(req, ctx) {
      const me = requirePrincipal(ctx);
      const row = await commands.transition({
        taskId: validateId(req.taskId, "task_id"),
        action: "complete",
        actorId: me.subject,
        authorize: assignedDeveloper(me, "complete"),
      });
      return { task: toTaskMessage(row) };
    },

    async submitWork(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = validateId(req.taskId, "task_id");
      const work = { note: validateNote(req.note), link: validateLink(req.link) };
      const row = await delivery.submit({
        taskId,
        actorId: me.subject,
        authorize: assignedDeveloper(me, "submit work for"),
      }, work);
      return { task: toTaskMessage(row) };
    },

    async approveWork(req, ctx) {
      const me = requirePrincipal(ctx);
      const row = await delivery.approve({
        taskId: validateId(req.taskId, "task_id"),
        actorId: me.subject,
        authorize: clientOrAdmin(me, "approve its work"),
      });
      return { task: toTaskMessage(row) };
    },

    async requestChanges(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = validateId(req.taskId, "task_id");
      const note = validateNote(req.note);
      const row = await delivery.requestChanges({
        taskId,
        actorId: me.subject,
        authorize: clientOrAdmin(me, "request changes"),
      }, note);
      return { task: toTaskMessage(row) };
    },

    async withdrawFromTask(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = validateId(req.taskId, "task_id");
      const reason = validateReason(req.reason) || "developer withdrew before starting";
      const row = await delivery.withdraw({
        taskId,
        actorId: me.subject,
        authorize: assignedDeveloper(me, "withdraw from"),
      }, reason);
      return { task: toTaskMessage(row) };
    },

    async openDispute(req, ctx) {
      const me = requirePrincipal(ctx);
      const taskId = validateId(req.taskId, "task_id");
      const reason = validateNote(req.reason, "reason");
      const row = await delivery.openDispute({
        taskId,
        actorId: me.subject,
        authorize: eitherParty(me, "dispute its work"),
      }, reason);
      return { task: toTaskMessage(row) };
    },

    async resolveDispute(req, ctx) {
      const me = requireRole(ctx, "admin");
      const taskId = validateId(req.taskId, "task_id");
      const resolution = resolutionNames[req.resolution as keyof typeof resolutionNames];
      if (!resolution) {
        throw new ValidationError("resolution", "must be APPROVE, REFUND or SPLIT");
      }
      let developerShareBps: number | null = null;
      if (resolution === "SPLIT") {
        developerShareBps = validateShareBps(req.developerShareBps);
      } else if (req.developerShareBps !== 0) {
        throw new ValidationError("developer_share_bps", "is only for a SPLIT; leave it 0");
      }
      const row = await delivery.resolveDispute({
        taskId,
        actorId: me.subject,
        authorize: () => {},
      }, { resolution, developerShareBps, note: validateReason(req.note, "note") });
      return { task: toTaskMessage(row) };
    },

    async getTaskHistory(req, ctx) {
      const me = requirePrincipal(ctx);
      const pageSize = validatePageSize(req.pageSize);
      const after = decodeHistoryToken(req.pageToken);
      const { row: task, view } = await load(me, req.taskId);
      if (view !== "full") {
        throw new PermissionDeniedError(
          "a task's history is for its client, its developer, developers holding a proposal " +
            "for it, and admins",
        );
      }
      const rows = await store.history(task.id, pageSize + 1, after);
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return {
        nextPageToken: rows.length > pageSize && last ? encodeHistoryToken(BigInt(last.id)) : "",
        transitions: page.map((r) =>
          create(TransitionSchema, {
            from: statusToProto(r.from_status),
            to: statusToProto(r.to_status),
            actorId: r.actor_id,
            reason: r.reason,
            at: timestampFromDate(r.at),
            changes: r.changes.map((c) => ({
              field: c.field,
              oldValue: c.old_value,
              newValue: c.new_value,
            })),
            termsVersion: r.terms_version ?? 0,
          })
        ),
      };
    },
  };
}
