/**
 * Handles the Task Service's `task.status_changed` and `task.assigned`: a task that is cancelled,
 * completed or assigned another way stops being matched and its PENDING proposals are withdrawn.
 * Events of tasks the orchestrator never saw are acknowledged and ignored; malformed ones are
 * terminated by the consumer.
 *
 * @module
 */
import {
  TaskAssignedSchema,
  TaskStatusChangedSchema,
} from "@platform/gen/platform/events/v1/events_pb.ts";
import { TaskStatus } from "@platform/gen/platform/tasks/v1/tasks_pb.ts";
import { decodeEvent } from "../../lib/events/event_codec.ts";
import { type ConsumedEvent, UnprocessableEventError } from "../../lib/events/durable_consumer.ts";
import type { Logger } from "../../lib/log/logger.ts";
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
      await close(store, assigned.taskId.toLowerCase(), "ASSIGNED", assigned.developerId);
      return;
    }
    if (event.subject === "task.status_changed") {
      const changed = decodeEvent(TaskStatusChangedSchema, event.data);
      requireUuid("task_id", changed.taskId);
      const taskId = changed.taskId.toLowerCase();
      if (changed.to === TaskStatus.CANCELLED || changed.to === TaskStatus.COMPLETED) {
        const withdrawn = await close(store, taskId, "CLOSED");
        if (withdrawn > 0) {
          logger.info("task closed; proposals withdrawn", { task_id: taskId, withdrawn });
        }
      } else if (changed.to === TaskStatus.ASSIGNED || changed.to === TaskStatus.IN_PROGRESS) {
        await close(store, taskId, "ASSIGNED");
      }
      return;
    }
    // Other task events are not the orchestrator's business.
  };
}

async function close(
  store: ProposalStore,
  taskId: string,
  state: "ASSIGNED" | "CLOSED",
  developerId?: string,
): Promise<number> {
  return await store.db.transaction(async (tx) => {
    const task = await store.getTask(taskId, tx, true);
    if (!task) return 0; // a task the orchestrator never matched
    if (task.state === "CLOSED" || (task.state === "ASSIGNED" && state === "ASSIGNED")) {
      if (developerId && !task.assigned_developer_id) {
        await store.setTaskState(tx, taskId, task.state, developerId.toLowerCase());
      }
      return 0;
    }
    const withdrawn = await store.withdrawPending(tx, taskId);
    await store.setTaskState(tx, taskId, state, developerId?.toLowerCase());
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
