/**
 * The Task Service's operations: each change, its history row and its events commit in one
 * transaction. Used by the RPC handlers and the proposal.accepted consumer. Authorisation that
 * depends on the stored task runs inside the transaction, on the locked row.
 *
 * @module
 */
import type { Counter } from "prom-client";
import { NotFoundError } from "@platform/lib/errors";
import { type OutboxEvent, OutboxWriter } from "@platform/lib/events";
import { assertEditable, nextState, type TaskAction } from "./domain/task_state_machine.ts";
import {
  statusChangedEvent,
  TASK_OUTBOX,
  taskAssignedEvent,
  taskCreatedEvent,
} from "./task_events.ts";
import type { NewTask, TaskPatch, TaskRow, TaskStore } from "./task_store.ts";

/** A transition request. */
export interface TransitionRequest {
  taskId: string;
  action: Exclude<TaskAction, "update">;
  actorId: string;
  reason?: string;
  /** For assign: the developer. */
  developerId?: string;
  /** For assign from an accepted proposal. */
  proposalId?: string;
  /** Throws when the caller may not act on this task (runs on the locked row). */
  authorize?: (task: TaskRow) => void;
}

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
  readonly outbox: OutboxWriter = new OutboxWriter(TASK_OUTBOX);

  constructor(readonly store: TaskStore, private readonly created?: Counter) {}

  /** Creates an OPEN task with its first history row and `task.created`. */
  async create(task: NewTask, actorId: string): Promise<TaskRow> {
    const row = await this.store.transaction(async (tx) => {
      const row = await this.store.insert(tx, task);
      await this.store.addTransition(tx, row.id, null, "OPEN", actorId, "created");
      await this.outbox.write(tx, [taskCreatedEvent(row)]);
      return row;
    });
    this.created?.inc();
    return row;
  }

  /** Changes an OPEN task's fields. */
  update(taskId: string, patch: TaskPatch, authorize: (task: TaskRow) => void): Promise<TaskRow> {
    return this.store.transaction(async (tx) => {
      const task = await this.store.lock(tx, taskId);
      if (!task) throw new NotFoundError("task", taskId);
      authorize(task);
      assertEditable(task.status);
      return await this.store.update(tx, taskId, patch);
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
    request.authorize?.(task);
    if (
      request.action === "assign" && task.status === "ASSIGNED" &&
      task.assigned_developer_id === request.developerId
    ) {
      return task;
    }
    const to = nextState(task.status, request.action);
    const reason = request.reason ?? "";
    const updated = await this.store.setStatus(tx, task.id, to, request.developerId);
    await this.store.addTransition(tx, task.id, task.status, to, request.actorId, reason);
    const events: OutboxEvent[] = [];
    if (request.action === "assign" && request.developerId) {
      events.push(taskAssignedEvent(task.id, request.developerId, request.proposalId));
    }
    events.push(statusChangedEvent(task.id, task.status, to, request.actorId, reason));
    await this.outbox.write(tx, events);
    return updated;
  }
}
