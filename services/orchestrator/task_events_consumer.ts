/**
 * Handles the Task Service's `task.status_changed` and `task.assigned`: a task that is cancelled,
 * completed or assigned another way stops being matched and its PENDING proposals are withdrawn.
 * A task the orchestrator has not seen yet gets a tombstone in that final state, so that its
 * task.created, if it comes later, matches nothing. `task.assigned` is the Task Service's final
 * word on the assignee: a different acceptance recorded here is withdrawn. Malformed events are
 * terminated by the consumer.
 *
 * @module
 */
import { TaskAssignedSchema, TaskStatusChangedSchema } from "@platform/proto/events/v1";
import { TaskStatus } from "@platform/proto/tasks/v1";
import { type ConsumedEvent, decodeEvent, UnprocessableEventError } from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { ProposalStore } from "./proposal_store.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The handler for the durable consumer of task.status_changed and task.assigned.
 *
 * @example
 * ```ts
 * const handler = taskEventsHandler(store, logger);
 * ```
 */
export function taskEventsHandler(
  store: ProposalStore,
  logger: Logger,
): (event: ConsumedEvent) => Promise<void> {
  return async (event) => {
    if (event.subject === "task.assigned") {
      const assigned = decodeEvent(TaskAssignedSchema, event.data);
      requireUuid("task_id", assigned.taskId);
      requireUuid("developer_id", assigned.developerId);
      await close(store, logger, assigned.taskId.toLowerCase(), "ASSIGNED", assigned.developerId);
      return;
    }
    if (event.subject === "task.status_changed") {
      const changed = decodeEvent(TaskStatusChangedSchema, event.data);
      requireUuid("task_id", changed.taskId);
      const taskId = changed.taskId.toLowerCase();
      if (changed.to === TaskStatus.CANCELLED || changed.to === TaskStatus.COMPLETED) {
        const withdrawn = await close(store, logger, taskId, "CLOSED");
        if (withdrawn > 0) {
          logger.info("task closed; proposals withdrawn", { task_id: taskId, withdrawn });
        }
      } else if (changed.to === TaskStatus.ASSIGNED || changed.to === TaskStatus.IN_PROGRESS) {
        await close(store, logger, taskId, "ASSIGNED");
      }
      return;
    }
    // Other task events are not the orchestrator's business.
  };
}

async function close(
  store: ProposalStore,
  logger: Logger,
  taskId: string,
  state: "ASSIGNED" | "CLOSED",
  developerId?: string,
): Promise<number> {
  const developer = developerId?.toLowerCase();
  return await store.db.transaction(async (tx) => {
    // The task is locked before its proposals are withdrawn (the lock order of proposal_store.ts).
    let task = await store.getTask(taskId, tx, true);
    if (!task) {
      // Not seen yet: the task-events consumer can run ahead of the task.created one (after an
      // outage, say). A tombstone in the final state makes the late task.created a no-op.
      if (await store.insertTombstone(tx, taskId, state, developer)) {
        logger.info("task closed before its task.created; tombstone recorded", {
          task_id: taskId,
          state,
        });
        return 0;
      }
      task = await store.getTask(taskId, tx, true); // recorded meanwhile
      if (!task) return 0;
    }
    if (task.state === "CLOSED" || (task.state === "ASSIGNED" && state === "ASSIGNED")) {
      if (developer && task.assigned_developer_id !== developer) {
        if (task.assigned_developer_id && task.state === "ASSIGNED") {
          // The Task Service assigned someone else than the acceptance recorded here: its word
          // is final. The stale acceptance is withdrawn.
          const stale = await store.withdrawAccepted(tx, taskId, developer);
          logger.warn("task assigned to another developer than the one who accepted", {
            task_id: taskId,
            assigned_developer_id: developer,
            previous_developer_id: task.assigned_developer_id,
            proposals_withdrawn: stale.map((p) => p.id),
          });
          await store.setTaskState(tx, taskId, task.state, developer);
        } else if (!task.assigned_developer_id) {
          await store.setTaskState(tx, taskId, task.state, developer);
        }
      }
      return 0;
    }
    const withdrawn = await store.withdrawPending(tx, taskId);
    await store.setTaskState(tx, taskId, state, developer);
    return withdrawn;
  });
}

function requireUuid(field: string, value: string): void {
  if (!UUID.test(value)) {
    throw new UnprocessableEventError(
      `${field} must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`,
    );
  }
}
