/**
 * Builds the Task Service's events (proto messages as JSON with proto field names) for the
 * outbox, and maps stored statuses to the proto enum.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  TaskAssignedSchema,
  TaskCreatedSchema,
  TaskStatusChangedSchema,
} from "@platform/proto/events/v1";
import { TaskStatus } from "@platform/proto/tasks/v1";
import { buildEventJson } from "@platform/lib/events";
import type { TaskState } from "./domain/task_state_machine.ts";
import type { OutboxEvent, TaskRow } from "./task_store.ts";

/** Subjects of the events this service emits (stream TASKS). */
export const SUBJECTS = {
  created: "task.created",
  assigned: "task.assigned",
  statusChanged: "task.status_changed",
} as const;

const toProto: Record<TaskState, TaskStatus> = {
  OPEN: TaskStatus.OPEN,
  ASSIGNED: TaskStatus.ASSIGNED,
  IN_PROGRESS: TaskStatus.IN_PROGRESS,
  COMPLETED: TaskStatus.COMPLETED,
  CANCELLED: TaskStatus.CANCELLED,
};

/**
 * The proto enum of a stored status.
 *
 * @example
 * ```ts
 * statusToProto("OPEN"); // TaskStatus.OPEN
 * ```
 */
export function statusToProto(state: TaskState | null): TaskStatus {
  return state === null ? TaskStatus.UNSPECIFIED : toProto[state];
}

/**
 * The stored status of a proto enum value, or undefined for UNSPECIFIED.
 *
 * @example
 * ```ts
 * statusFromProto(TaskStatus.OPEN); // "OPEN"
 * ```
 */
export function statusFromProto(status: TaskStatus): TaskState | undefined {
  for (const [state, value] of Object.entries(toProto)) {
    if (value === status) return state as TaskState;
  }
  return undefined;
}

/**
 * `task.created` for a new task.
 *
 * @example
 * ```ts
 * await store.addEvents(tx, [taskCreatedEvent(row)]);
 * ```
 */
export function taskCreatedEvent(task: TaskRow, now = new Date()): OutboxEvent {
  const id = crypto.randomUUID();
  return {
    id,
    subject: SUBJECTS.created,
    payload: buildEventJson(TaskCreatedSchema, {
      eventId: id,
      taskId: task.id,
      clientId: task.client_id,
      title: task.title,
      description: task.description,
      requiredSkills: task.required_skills,
      budget: { currency: task.currency, amountMinor: BigInt(task.budget_minor) },
      deadline: task.deadline ? timestampFromDate(task.deadline) : undefined,
      occurredAt: timestampFromDate(now),
    }),
  };
}

/**
 * `task.status_changed` for a transition.
 *
 * @example
 * ```ts
 * statusChangedEvent(task.id, "OPEN", "CANCELLED", actor, "no longer needed");
 * ```
 */
export function statusChangedEvent(
  taskId: string,
  from: TaskState,
  to: TaskState,
  actorId: string,
  reason: string,
  now = new Date(),
): OutboxEvent {
  const id = crypto.randomUUID();
  return {
    id,
    subject: SUBJECTS.statusChanged,
    payload: buildEventJson(TaskStatusChangedSchema, {
      eventId: id,
      taskId,
      from: toProto[from],
      to: toProto[to],
      actorId,
      reason,
      occurredAt: timestampFromDate(now),
    }),
  };
}

/**
 * `task.assigned` when a task gets its developer.
 *
 * @example
 * ```ts
 * taskAssignedEvent(task.id, developerId, proposalId);
 * ```
 */
export function taskAssignedEvent(
  taskId: string,
  developerId: string,
  proposalId = "",
  now = new Date(),
): OutboxEvent {
  const id = crypto.randomUUID();
  return {
    id,
    subject: SUBJECTS.assigned,
    payload: buildEventJson(TaskAssignedSchema, {
      eventId: id,
      taskId,
      developerId,
      proposalId,
      occurredAt: timestampFromDate(now),
    }),
  };
}
