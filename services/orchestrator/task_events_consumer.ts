/**
 * Handles the Task Service's `task.status_changed` and `task.assigned`: a task that is cancelled,
 * completed or assigned another way stops being matched and its PENDING proposals are withdrawn
 * ({@link ProposalCommands.closeTask}, which also records a tombstone for a task not seen yet and
 * treats `task.assigned` as the final word on the assignee). This file only decodes and
 * validates; malformed events are terminated by the consumer.
 *
 * @module
 */
import { TaskStatus } from "@platform/proto/tasks/v1";
import {
  type ConsumedEvent,
  decodeEvent,
  EVENTS,
  UnprocessableEventError,
} from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { ProposalCommands } from "./proposal_commands.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The handler for the durable consumer of task.status_changed and task.assigned.
 *
 * @example
 * ```ts
 * const handler = taskEventsHandler(commands, logger);
 * ```
 */
export function taskEventsHandler(
  commands: ProposalCommands,
  logger: Logger,
): (event: ConsumedEvent) => Promise<void> {
  return async (event) => {
    if (event.subject === EVENTS.taskAssigned.subject) {
      const assigned = decodeEvent(EVENTS.taskAssigned.schema, event.data);
      requireUuid("task_id", assigned.taskId);
      requireUuid("developer_id", assigned.developerId);
      await commands.closeTask({
        taskId: assigned.taskId.toLowerCase(),
        state: "ASSIGNED",
        developerId: assigned.developerId,
      });
      return;
    }
    if (event.subject === EVENTS.taskStatusChanged.subject) {
      const changed = decodeEvent(EVENTS.taskStatusChanged.schema, event.data);
      requireUuid("task_id", changed.taskId);
      const taskId = changed.taskId.toLowerCase();
      if (changed.to === TaskStatus.CANCELLED || changed.to === TaskStatus.COMPLETED) {
        const { withdrawn } = await commands.closeTask({ taskId, state: "CLOSED" });
        if (withdrawn > 0) {
          logger.info("task closed; proposals withdrawn", { task_id: taskId, withdrawn });
        }
      } else if (changed.to === TaskStatus.ASSIGNED || changed.to === TaskStatus.IN_PROGRESS) {
        await commands.closeTask({ taskId, state: "ASSIGNED" });
      }
      return;
    }
    // Other task events are not the orchestrator's business.
  };
}

function requireUuid(field: string, value: string): void {
  if (!UUID.test(value)) {
    throw new UnprocessableEventError(
      `${field} must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`,
    );
  }
}
