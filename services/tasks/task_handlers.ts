/**
 * The TaskService RPCs: translate requests into validated domain calls and rows into responses,
 * and check who may do what. No SQL here (the store's) and no transaction logic (the commands').
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { isPrivileged, type Principal, requirePrincipal, requireRole } from "@platform/lib/auth";
import { NotFoundError, PermissionDeniedError, ValidationError } from "@platform/lib/errors";
import {
  type Task,
  TaskSchema,
  type TaskService,
  TaskStatus,
  TransitionSchema,
} from "@platform/proto/tasks/v1";
import {
  decodePageToken,
  encodePageToken,
  normalizeSkills,
  validateBudget,
  validateDeadline,
  validateDescription,
  validateId,
  validatePageSize,
  validateReason,
  validateTitle,
} from "./domain/task_validation.ts";
import type { TaskCommands } from "./task_commands.ts";
import { statusFromProto, statusToProto } from "./task_events.ts";
import type { TaskPatch, TaskRow } from "./task_store.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Task message of a row.
 *
 * @example
 * ```ts
 * const message = toTaskMessage(row);
 * ```
 */
export function toTaskMessage(row: TaskRow): Task {
  return create(TaskSchema, {
    id: row.id,
    clientId: row.client_id,
    title: row.title,
    description: row.description,
    requiredSkills: row.required_skills,
    budget: { currency: row.currency, amountMinor: BigInt(row.budget_minor) },
    deadline: row.deadline ? timestampFromDate(row.deadline) : undefined,
    status: statusToProto(row.status),
    assignedDeveloperId: row.assigned_developer_id ?? "",
    createdAt: timestampFromDate(row.created_at),
    updatedAt: timestampFromDate(row.updated_at),
  });
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

/**
 * Builds the TaskService implementation.
 *
 * @example
 * ```ts
 * router.service(TaskService, taskHandlers(commands));
 * ```
 */
export function taskHandlers(commands: TaskCommands): ServiceImpl<typeof TaskService> {
  const store = commands.store;

  const load = async (taskId: string) => {
    const id = validateId(taskId, "task_id");
    const row = await store.get(id);
    if (!row) throw new NotFoundError("task", id);
    return row;
  };

  return {
    async createTask(req, ctx) {
      const me = requireRole(ctx, "client");
      if (!UUID.test(me.subject)) {
        throw new PermissionDeniedError("the caller's token does not name a client account");
      }
      const title = validateTitle(req.title);
      const description = validateDescription(req.description);
      const requiredSkills = normalizeSkills(req.requiredSkills);
      const budget = validateBudget(req.budget);
      const deadline = validateDeadline(req.deadline ? timestampDate(req.deadline) : undefined);
      const row = await commands.create({
        clientId: me.subject,
        title,
        description,
        requiredSkills,
        budgetMinor: budget.amountMinor,
        currency: budget.currency,
        deadline: deadline ?? null,
      }, me.subject);
      return { task: toTaskMessage(row) };
    },

    async getTask(req, ctx) {
      requirePrincipal(ctx);
      return { task: toTaskMessage(await load(req.taskId)) };
    },

    async listTasks(req, ctx) {
      const me = requirePrincipal(ctx);
      const pageSize = validatePageSize(req.pageSize);
      const after = decodePageToken(req.pageToken);
      const skill = normalizeSkills([req.skill], "skill")[0];
      if (req.mine && (me.role !== "client" || !UUID.test(me.subject))) {
        throw new ValidationError("mine", "only client accounts own tasks; leave it unset");
      }
      const status = statusFromProto(req.status);
      if (status === undefined && req.status !== TaskStatus.UNSPECIFIED) {
        throw new ValidationError(
          "status",
          `${req.status} is not a task status; leave it unset for every status`,
        );
      }
      const rows = await store.list({
        status,
        clientId: req.mine ? me.subject : undefined,
        skill,
        pageSize,
        after,
      });
      const page = rows.slice(0, pageSize);
      const last = page.at(-1);
      return {
        tasks: page.map(toTaskMessage),
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
        patch.requiredSkills = normalizeSkills(req.requiredSkills.skills, "required_skills.skills");
      }
      if (req.budget) {
        const budget = validateBudget(req.budget);
        patch.budgetMinor = budget.amountMinor;
        patch.currency = budget.currency;
      }
      if (req.deadline) patch.deadline = validateDeadline(timestampDate(req.deadline));
      const row = await commands.update(id, patch, ownerOrAdmin(me, "update"));
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
      if (!isPrivileged(me)) throw new PermissionDeniedError("only admins and services assign");
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

    async getTaskHistory(req, ctx) {
      requirePrincipal(ctx);
      const task = await load(req.taskId);
      const rows = await store.history(task.id);
      return {
        transitions: rows.map((r) =>
          create(TransitionSchema, {
            from: statusToProto(r.from_status),
            to: statusToProto(r.to_status),
            actorId: r.actor_id,
            reason: r.reason,
            at: timestampFromDate(r.at),
          })
        ),
      };
    },
  };
}
