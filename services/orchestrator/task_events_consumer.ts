/**
 * Handles the Task Service's `task.status_changed`, `task.assigned`, `task.expired` and
 * `task.updated`:
 *
 * - a task that is cancelled, completed, expired or assigned another way stops being matched and
 *   its PENDING proposals are withdrawn ({@link ProposalCommands.closeTask}, which also records a
 *   tombstone for a task not seen yet, treats `task.assigned` as the final word on the assignee,
 *   and cancels the acceptance of a task cancelled or expired);
 * - new terms replace the old ones, proposals on the old terms are taken back and the task is
 *   matched again at once ({@link ProposalCommands.applyTerms}).
 *
 * This file only validates (the catalog's `dispatchStream` decodes); malformed events are
 * terminated by the consumer.
 *
 * @module
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { TaskStatus } from "@platform/proto/tasks/v1";
import {
  type ConsumedEvent,
  decodeStreamEvent,
  dispatchStream,
  type EventsOnStream,
  UnprocessableEventError,
} from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import { eventSkills } from "./event_skills.ts";
import type { KeyedLimiter } from "./matching/keyed_limiter.ts";
import type { Matcher } from "./matcher.ts";
import type { ProposalCommands } from "./proposal_commands.ts";
import { isUuid } from "@platform/lib/domain";

/**
 * The handler for the durable consumer of task.status_changed and task.assigned.
 *
 * @example
 * ```ts
 * const handler = taskEventsHandler(commands, logger, matcher);
 * ```
 */
export function taskEventsHandler(
  commands: ProposalCommands,
  logger: Logger,
  matcher?: Pick<Matcher, "attempt">,
  order?: KeyedLimiter,
): (event: ConsumedEvent) => Promise<void> {
  const handle = handler(commands, logger, matcher);
  // One task's events are handled one after another in the order they were delivered (the
  // consumer runs several handlers at once); other tasks' pass them.
  return async (event) => {
    const taskId = order ? taskIdOf(event) : undefined;
    await (taskId && order ? order.run(taskId, () => handle(event)) : handle(event));
  };
}

/** The events this consumer handles, one task's in delivery order. */
const ORDERED = new Set<EventsOnStream<"TASKS">>([
  "taskUpdated",
  "taskExpired",
  "taskAssigned",
  "taskStatusChanged",
  "taskDeveloperWithdrew",
]);

/** The task id of one of the handled events; undefined for others or a malformed one. */
function taskIdOf(event: ConsumedEvent): string | undefined {
  try {
    const decoded = decodeStreamEvent("TASKS", event);
    if (!decoded || !ORDERED.has(decoded.name)) return undefined;
    const id = (decoded.payload as { taskId: string }).taskId.toLowerCase();
    return isUuid(id) ? id : undefined;
  } catch {
    return undefined; // the handler itself reports it
  }
}

function handler(
  commands: ProposalCommands,
  logger: Logger,
  matcher?: Pick<Matcher, "attempt">,
): (event: ConsumedEvent) => Promise<void> {
  return dispatchStream("TASKS", {
    // task.created is the task-created consumer's; the other delivery steps change nothing here.
    taskCreated: "skip",
    taskWorkSubmitted: "skip",
    taskChangesRequested: "skip",
    taskWorkApproved: "skip",
    taskDisputeOpened: "skip",
    taskDisputeResolved: "skip",
    taskUpdated: async (updated) => {
      requireUuid("task_id", updated.taskId);
      requireUuid("client_id", updated.clientId);
      if (updated.termsVersion < 1) {
        throw new UnprocessableEventError("terms_version must be 1 or more");
      }
      const taskId = updated.taskId.toLowerCase();
      const skills = eventSkills(updated.requiredSkills);
      const budget = updated.budget && updated.budget.currency && updated.budget.amountMinor > 0n
        ? {
          budgetMinor: updated.budget.amountMinor,
          currency: updated.budget.currency.toUpperCase(),
        }
        : {};
      const outcome = await commands.applyTerms({
        taskId,
        clientId: updated.clientId.toLowerCase(),
        title: updated.title,
        requiredSkills: skills,
        ...budget,
        deadline: updated.deadline ? timestampDate(updated.deadline) : undefined,
        termsVersion: updated.termsVersion,
      });
      if (outcome === "rematch" || outcome === "recorded") {
        logger.info("task terms changed; matching again", {
          task_id: taskId,
          terms_version: updated.termsVersion,
          changed: updated.changedFields,
        });
        // The first attempt on the new terms now; the sweeper retries it if this one fails.
        await matcher?.attempt(taskId).catch((error) =>
          logger.warn("re-match after new terms failed; the sweeper retries", {
            task_id: taskId,
            error,
          })
        );
      }
    },
    taskDeveloperWithdrew: async (withdrew) => {
      requireUuid("task_id", withdrew.taskId);
      requireUuid("developer_id", withdrew.developerId);
      const taskId = withdrew.taskId.toLowerCase();
      const outcome = await commands.releaseDeveloper(taskId, withdrew.developerId);
      if (outcome === "rematch") {
        logger.info("developer withdrew; matching again without them", { task_id: taskId });
        await matcher?.attempt(taskId).catch((error) =>
          logger.warn("re-match after a withdrawal failed; the sweeper retries", {
            task_id: taskId,
            error,
          })
        );
      }
    },
    taskExpired: async (expired) => {
      requireUuid("task_id", expired.taskId);
      await commands.closeTask({
        taskId: expired.taskId.toLowerCase(),
        state: "CLOSED",
        outcome: "expired",
      });
    },
    taskAssigned: async (assigned) => {
      requireUuid("task_id", assigned.taskId);
      requireUuid("developer_id", assigned.developerId);
      await commands.closeTask({
        taskId: assigned.taskId.toLowerCase(),
        state: "ASSIGNED",
        developerId: assigned.developerId,
      });
    },
    taskStatusChanged: async (changed) => {
      requireUuid("task_id", changed.taskId);
      const taskId = changed.taskId.toLowerCase();
      const outcome = changed.to === TaskStatus.CANCELLED
        ? "cancelled"
        : changed.to === TaskStatus.COMPLETED
        ? "completed"
        : changed.to === TaskStatus.EXPIRED
        ? "expired"
        : undefined;
      if (outcome) {
        const { withdrawn } = await commands.closeTask({ taskId, state: "CLOSED", outcome });
        if (withdrawn > 0) {
          logger.info("task closed; proposals withdrawn", { task_id: taskId, withdrawn });
        }
      } else if (changed.to === TaskStatus.ASSIGNED || changed.to === TaskStatus.IN_PROGRESS) {
        await commands.closeTask({ taskId, state: "ASSIGNED" });
      }
    },
  });
}

function requireUuid(field: string, value: string): void {
  if (!isUuid(value)) {
    throw new UnprocessableEventError(
      `${field} must be a UUID, got ${JSON.stringify(value.slice(0, 64))}`,
    );
  }
}
