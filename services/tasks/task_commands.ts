/**
 * The Task Service's operations: each change, its history row and its events commit in one
 * transaction. Used by the RPC handlers and the proposal.accepted consumer. Authorisation that
 * depends on the stored task runs inside the transaction, on the locked row.
 *
 * @module
 */
import type { Counter } from "prom-client";
import { GroupCommit, isRowError } from "@platform/lib/db";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "@platform/lib/errors";
import { type OutboxEvent, type OutboxWriter, wakeOutboxRelays } from "@platform/lib/events";
import { type CreateTaskSettings, type CreateTaskValues, requestHash } from "./create_task_sql.ts";
import { describeChanges } from "./domain/task_changes.ts";
import { assertEditable, nextState, type TaskAction } from "./domain/task_state_machine.ts";
import {
  statusChangedEvent,
  TASK_OUTBOX,
  TASK_OUTBOX_WRITER,
  taskAssignedEvent,
  taskCreatedEvent,
  taskExpiredEvent,
  taskUpdatedEvent,
  TERMS_FIELDS,
} from "./task_events.ts";
import { transitionNotifications } from "./task_notifications.ts";
import type { NewTask, TaskPatch, TaskRow, TaskStore } from "./task_store.ts";

/** A transition request. */
export interface TransitionRequest {
  taskId: string;
  action: Exclude<TaskAction, "update" | "expire">;
  actorId: string;
  reason?: string;
  /** For assign: the developer. */
  developerId?: string;
  /** For assign from an accepted proposal. */
  proposalId?: string;
  /** Throws when the caller may not act on this task (runs on the locked row). */
  authorize?: (task: TaskRow) => void;
}

/** How long an idempotency key answers its first task by default: 24 hours. */
export const DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 24 * 3600;

/**
 * Task operations over a {@link TaskStore}.
 *
 * @example
 * ```ts
 * const commands = new TaskCommands(store, createdCounter);
 * const task = await commands.create(newTask, actorId);
 * ```
 */
export class TaskCommands {
  /** The Task Service's outbox, written in each command's transaction. */
  readonly outbox: OutboxWriter = TASK_OUTBOX_WRITER;

  private readonly creates: GroupCommit<CreateTaskValues, TaskRow | null>;
  private readonly settings: CreateTaskSettings;

  constructor(
    readonly store: TaskStore,
    private readonly created?: Counter,
    groupCommit: { maxBatch?: number; maxInFlight?: number } = {},
    idempotencyWindowSeconds = DEFAULT_IDEMPOTENCY_WINDOW_SECONDS,
  ) {
    this.settings = { idempotencyWindowSeconds };
    this.creates = new GroupCommit((batch) => this.createBatch(batch), {
      ...groupCommit,
      // A value or constraint one task broke (SQLSTATE classes 22 and 23) fails that task alone;
      // anything else (an unavailable database, a timeout whose outcome is unknown, a read-only
      // server) fails the batch's members with that error, as it would each.
      isolate: isRowError,
    });
  }

  /**
   * Creates an OPEN task with its first history row and `task.created`: one statement
   * (create_task_sql.ts), shared with the creates that arrive while others commit (group commit).
   * The relays of this process are woken once it has committed.
   *
   * With an idempotency key, the key is stored in the same statement: the same key from the same
   * client within the window answers the task it first created (as stored now) and creates
   * nothing; the key with a different request is {@link AlreadyExistsError}.
   */
  async create(task: NewTask, actorId: string, idempotencyKey?: string): Promise<TaskRow> {
    const id = crypto.randomUUID();
    const event = taskCreatedEvent({
      id,
      client_id: task.clientId,
      title: task.title,
      description: task.description,
      required_skills: task.requiredSkills,
      budget_minor: task.budgetMinor,
      currency: task.currency,
      deadline: task.deadline,
    });
    this.outbox.check([event]);
    const hash = idempotencyKey ? await requestHash(task) : undefined;
    for (let attempt = 1;; attempt++) {
      const row = await this.creates.submit({
        ...task,
        id,
        actorId,
        eventId: event.id,
        eventSubject: event.subject,
        eventPayload: event.payload,
        traceparent: event.traceparent,
        idempotencyKey,
        requestHash: hash,
      });
      if (row) {
        this.created?.inc();
        return row;
      }
      // The key was already used: answer its first task, or refuse another request under it.
      const used = await this.store.idempotencyKey(
        task.clientId,
        idempotencyKey!,
        this.settings.idempotencyWindowSeconds,
      );
      if (used && used.request_hash !== hash) {
        throw new AlreadyExistsError(
          "idempotency_key was already used for a different CreateTask request; " +
            "send a new key for a new task",
        );
      }
      const first = used && await this.store.get(used.task_id);
      if (first) return first;
      // The key expired (or its task is gone) between the statement and the read: claim it again.
      if (attempt >= 3) throw new Error("idempotency key: no task after three attempts");
    }
  }

  private async createBatch(batch: CreateTaskValues[]): Promise<Array<TaskRow | null>> {
    const rows = await this.store.insertNewTasks(batch, this.settings);
    if (rows.some((row) => row.id !== null)) wakeOutboxRelays(TASK_OUTBOX);
    return rows.map((row) => (row.id === null ? null : row as TaskRow));
  }

  /** Deletes at most `limit` idempotency keys older than the window; returns how many. */
  deleteExpiredIdempotencyKeys(limit: number): Promise<number> {
    return this.store.deleteExpiredIdempotencyKeys(this.settings.idempotencyWindowSeconds, limit);
  }

  /**
   * Changes an OPEN task's fields (before its deadline) and publishes `task.updated` with the
   * fields that really changed; a change of terms (title, required skills, budget, deadline) adds
   * one to the terms version, so the orchestrator withdraws the proposals made on the old terms
   * and matches again. The task's history gets the edit with what it changed (old -> new). A patch
   * that changes nothing writes nothing.
   */
  update(
    taskId: string,
    patch: TaskPatch,
    authorize: (task: TaskRow) => void,
    actorId = "",
  ): Promise<TaskRow> {
    return this.store.transaction(async (tx) => {
      const task = await this.store.lock(tx, taskId);
      if (!task) throw new NotFoundError("task", taskId);
      authorize(task);
      assertEditable(task.status, task.deadline);
      const changed = changedFields(task, patch);
      if (changed.length === 0) return task;
      const termsChanged = changed.some((field) => TERMS_FIELDS.includes(field));
      const updated = await this.store.update(tx, taskId, patch, termsChanged);
      await this.store.addEdit(tx, updated, actorId, describeChanges(task, updated, changed));
      await this.outbox.write(tx, [taskUpdatedEvent(updated, changed, actorId)]);
      return updated;
    });
  }

  /**
   * Expires at most `limit` OPEN tasks whose deadline passed, in one transaction: status EXPIRED,
   * a history row each, `task.expired`, `task.status_changed` and the client's notification.
   * Returns how many.
   */
  expireDue(limit: number): Promise<number> {
    return this.store.transaction(async (tx) => {
      const expired = await this.store.expireDue(tx, limit);
      if (expired.length === 0) return 0;
      const reason = "deadline passed";
      await this.store.addTransitions(
        tx,
        expired.map((e) => e.after.id),
        "OPEN",
        "EXPIRED",
        EXPIRY_ACTOR,
        reason,
      );
      const now = new Date();
      await this.outbox.write(
        tx,
        expired.flatMap(({ after }) => [
          taskExpiredEvent(after, now),
          statusChangedEvent(after.id, "OPEN", "EXPIRED", EXPIRY_ACTOR, reason, now),
          ...transitionNotifications("OPEN", after, EXPIRY_ACTOR, reason),
        ]),
      );
      return expired.length;
    });
  }

  /**
   * Applies a transition with its history row and events (`task.status_changed`, plus
   * `task.assigned` for an assignment). An assignment to the developer the task already has is a
   * no-op that returns the task.
   */
  transition(request: TransitionRequest): Promise<TaskRow> {
    return this.store.transaction((tx) => this.transitionIn(tx, request));
  }

  /** {@link transition} inside a transaction the caller holds. */
  async transitionIn(
    tx: Parameters<Parameters<TaskStore["transaction"]>[0]>[0],
    request: TransitionRequest,
  ): Promise<TaskRow> {
    const task = await this.store.lock(tx, request.taskId);
    if (!task) throw new NotFoundError("task", request.taskId);
    return await this.transitionLocked(tx, task, request);
  }

  /**
   * Applies a proposal's acceptance (`proposal.accepted`) once: the event id is recorded in
   * `task_processed_events` and the task locked once, in one transaction. An acceptance already
   * applied, of a task unknown or no longer OPEN, or made on terms that changed since (its
   * `termsVersion`, when set), changes nothing and says why.
   */
  acceptProposal(accepted: ProposalAcceptance): Promise<AcceptanceResult> {
    return this.store.transaction(async (tx) => {
      if (!await this.store.markProcessed(tx, accepted.eventId)) return { outcome: "duplicate" };
      const task = await this.store.lock(tx, accepted.taskId);
      if (!task) return { outcome: "unknown_task" };
      if (task.status === "ASSIGNED" && task.assigned_developer_id === accepted.developerId) {
        return { outcome: "already_assigned" };
      }
      if (
        task.status === "OPEN" && accepted.termsVersion > 0 &&
        accepted.termsVersion !== task.terms_version
      ) {
        // The client changed the terms after this acceptance was made: it does not assign; the
        // orchestrator withdraws it on the task.updated it also receives.
        return { outcome: "terms_changed", termsVersion: task.terms_version };
      }
      try {
        await this.transitionLocked(tx, task, {
          taskId: task.id,
          action: "assign",
          actorId: "service:tasks",
          developerId: accepted.developerId,
          proposalId: accepted.proposalId,
          reason: `proposal ${accepted.proposalId} accepted`,
        });
        return { outcome: "assigned" };
      } catch (error) {
        if (error instanceof FailedPreconditionError) {
          return { outcome: "skipped", problem: error.message };
        }
        throw error;
      }
    });
  }

  /** {@link transition} of a task the caller's transaction has locked. */
  private async transitionLocked(
    tx: Parameters<Parameters<TaskStore["transaction"]>[0]>[0],
    task: TaskRow,
    request: TransitionRequest,
  ): Promise<TaskRow> {
    request.authorize?.(task);
    if (
      request.action === "assign" && task.status === "ASSIGNED" &&
      task.assigned_developer_id === request.developerId
    ) {
      return task;
    }
    const to = nextState(task.status, request.action, task.requires_approval);
    const reason = request.reason ?? "";
    const updated = await this.store.setStatus(tx, task.id, to, request.developerId);
    await this.store.addTransition(tx, task.id, task.status, to, request.actorId, reason);
    const events: OutboxEvent[] = [];
    if (request.action === "assign" && request.developerId) {
      events.push(taskAssignedEvent(task.id, request.developerId, request.proposalId));
    }
    events.push(statusChangedEvent(task.id, task.status, to, request.actorId, reason));
    events.push(
      ...transitionNotifications(
        task.status,
        updated,
        request.actorId,
        reason,
        task.assigned_developer_id,
      ),
    );
    await this.outbox.write(tx, events);
    return updated;
  }
}

/** A developer's acceptance of a proposal, as `proposal.accepted` carries it (ids lower-case). */
export interface ProposalAcceptance {
  /** The event's id: an acceptance is applied once per id. */
  eventId: string;
  taskId: string;
  developerId: string;
  proposalId: string;
  /** The task's terms version the developer accepted (0: not said). */
  termsVersion: number;
}

/** What {@link TaskCommands.acceptProposal} did. */
export type AcceptanceResult =
  | { outcome: "assigned" | "duplicate" | "already_assigned" | "unknown_task" }
  /** Not assigned: the terms changed since (`termsVersion` is the task's current version). */
  | { outcome: "terms_changed"; termsVersion: number }
  /** Not assigned: the task cannot be assigned now (cancelled, expired, assigned to another). */
  | { outcome: "skipped"; problem: string };

/** The actor of transitions the Task Service makes by itself (expiry at the deadline). */
export const EXPIRY_ACTOR = "service:tasks";

/**
 * The proto names of the fields a patch really changes (a field set to its current value is not a
 * change).
 *
 * @example
 * ```ts
 * changedFields(task, { title: task.title, budgetMinor: 5n }); // ["budget"]
 * ```
 */
export function changedFields(task: TaskRow, patch: TaskPatch): string[] {
  const changed: string[] = [];
  if (patch.title !== undefined && patch.title !== task.title) changed.push("title");
  if (patch.description !== undefined && patch.description !== task.description) {
    changed.push("description");
  }
  if (
    patch.requiredSkills !== undefined &&
    JSON.stringify([...patch.requiredSkills].sort()) !==
      JSON.stringify([...task.required_skills].sort())
  ) {
    changed.push("required_skills");
  }
  if (
    (patch.budgetMinor !== undefined && patch.budgetMinor !== BigInt(task.budget_minor)) ||
    (patch.currency !== undefined && patch.currency !== task.currency)
  ) {
    changed.push("budget");
  }
  if (
    patch.deadline !== undefined &&
    (patch.deadline?.getTime() ?? null) !== (task.deadline?.getTime() ?? null)
  ) {
    changed.push("deadline");
  }
  return changed;
}
