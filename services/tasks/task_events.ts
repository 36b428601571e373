/**
 * Builds the Task Service's events (the catalog's `task.*`, stream TASKS) for its outbox, and maps
 * stored statuses to the proto enum.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ApprovalMode, DisputeResolution, TaskStatus } from "@platform/proto/tasks/v1";
import { EVENTS, type OutboxEvent, outboxEvent, OutboxWriter } from "@platform/lib/events";
import type { TaskState } from "./domain/task_state_machine.ts";
import type { ApprovalModeName, DisputeResolutionName, TaskRow } from "./task_store.ts";

/** The Task Service's outbox table (migrations 001, 003). */
export const TASK_OUTBOX = "task_outbox";

/** The one writer of the Task Service's events (commands and CreateTask's statement use it). */
export const TASK_OUTBOX_WRITER: OutboxWriter = new OutboxWriter(TASK_OUTBOX);

const toProto: Record<TaskState, TaskStatus> = {
  OPEN: TaskStatus.OPEN,
  ASSIGNED: TaskStatus.ASSIGNED,
  IN_PROGRESS: TaskStatus.IN_PROGRESS,
  COMPLETED: TaskStatus.COMPLETED,
  CANCELLED: TaskStatus.CANCELLED,
  EXPIRED: TaskStatus.EXPIRED,
  SUBMITTED: TaskStatus.SUBMITTED,
  DISPUTED: TaskStatus.DISPUTED,
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
 * await outbox.write(tx, [taskCreatedEvent(row)]);
 * ```
 */
export function taskCreatedEvent(
  task: Pick<
    TaskRow,
    | "id"
    | "client_id"
    | "title"
    | "description"
    | "required_skills"
    | "budget_minor"
    | "currency"
    | "deadline"
  >,
  now = new Date(),
): OutboxEvent {
  return outboxEvent(EVENTS.taskCreated, {
    taskId: task.id,
    clientId: task.client_id,
    title: task.title,
    description: task.description,
    requiredSkills: task.required_skills,
    budget: { currency: task.currency, amountMinor: BigInt(task.budget_minor) },
    deadline: task.deadline ? timestampFromDate(task.deadline) : undefined,
  }, { now });
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
  return outboxEvent(EVENTS.taskStatusChanged, {
    taskId,
    from: toProto[from],
    to: toProto[to],
    actorId,
    reason,
  }, { now });
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
  return outboxEvent(EVENTS.taskAssigned, { taskId, developerId, proposalId }, { now });
}

/** The task fields that are its terms: changing one withdraws the proposals made on the old ones. */
export const TERMS_FIELDS: readonly string[] = ["title", "required_skills", "budget", "deadline"];

/**
 * `task.updated` after an UpdateTask: the task as it is now, what changed, and its terms version.
 *
 * @example
 * ```ts
 * taskUpdatedEvent(updated, ["budget"], actorId);
 * ```
 */
export function taskUpdatedEvent(
  task: TaskRow,
  changedFields: readonly string[],
  actorId: string,
  now = new Date(),
): OutboxEvent {
  return outboxEvent(EVENTS.taskUpdated, {
    taskId: task.id,
    clientId: task.client_id,
    title: task.title,
    description: task.description,
    requiredSkills: task.required_skills,
    budget: { currency: task.currency, amountMinor: BigInt(task.budget_minor) },
    deadline: task.deadline ? timestampFromDate(task.deadline) : undefined,
    changedFields: [...changedFields],
    actorId,
    updatedAt: timestampFromDate(task.updated_at),
    termsVersion: task.terms_version,
  }, { now });
}

/**
 * `task.expired` when an OPEN task's deadline passed.
 *
 * @example
 * ```ts
 * taskExpiredEvent(expiredRow);
 * ```
 */
export function taskExpiredEvent(task: TaskRow, now = new Date()): OutboxEvent {
  return outboxEvent(EVENTS.taskExpired, {
    taskId: task.id,
    clientId: task.client_id,
    deadline: task.deadline ? timestampFromDate(task.deadline) : undefined,
  }, { now });
}

/** The delivery steps that publish an event of their own (with their task.status_changed). */
export type DeliveryStep =
  | "workSubmitted"
  | "changesRequested"
  | "workApproved"
  | "developerWithdrew"
  | "disputeOpened"
  | "disputeResolved";

/** What a delivery step's event carries besides the task's parties. */
export interface DeliveryStepDetail {
  /** The developer concerned (for a withdrawal: the one who stepped back). */
  developerId: string;
  actorId: string;
  note?: string;
  link?: string;
  approvalMode?: ApprovalModeName;
  resolution?: DisputeResolutionName;
  developerShareBps?: number | null;
}

const stepEvents = {
  workSubmitted: EVENTS.taskWorkSubmitted,
  changesRequested: EVENTS.taskChangesRequested,
  workApproved: EVENTS.taskWorkApproved,
  developerWithdrew: EVENTS.taskDeveloperWithdrew,
  disputeOpened: EVENTS.taskDisputeOpened,
  disputeResolved: EVENTS.taskDisputeResolved,
} as const;

/**
 * The event of one delivery step (`task.work_submitted`, `task.work_approved`, ...).
 *
 * @example
 * ```ts
 * deliveryStepEvent("workApproved", task, { developerId, actorId, approvalMode: "AUTO" });
 * ```
 */
export function deliveryStepEvent(
  step: DeliveryStep,
  task: Pick<TaskRow, "id" | "client_id">,
  detail: DeliveryStepDetail,
  now = new Date(),
): OutboxEvent {
  return outboxEvent(stepEvents[step], {
    taskId: task.id,
    clientId: task.client_id,
    developerId: detail.developerId,
    actorId: detail.actorId,
    note: detail.note ?? "",
    link: detail.link ?? "",
    approvalMode: detail.approvalMode
      ? ApprovalMode[detail.approvalMode]
      : ApprovalMode.UNSPECIFIED,
    resolution: detail.resolution
      ? DisputeResolution[detail.resolution]
      : DisputeResolution.UNSPECIFIED,
    developerShareBps: detail.developerShareBps ?? 0,
  }, { now });
}
