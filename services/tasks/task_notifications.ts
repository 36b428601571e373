/**
 * Who the Task Service tells about a transition (notifications on `notify.<user_id>.<kind>`,
 * written to its outbox in the transition's transaction):
 *
 * - the task's client: every status change of their task (`task_status_changed`);
 * - the developer it is assigned to: `task_assigned`;
 * - the developer of an ASSIGNED task that is cancelled: `task_cancelled`;
 * - the developer of delivered work: `task_changes_requested` (SUBMITTED -> IN_PROGRESS),
 *   `task_work_approved` (SUBMITTED -> COMPLETED, by the client or automatically),
 *   `task_dispute_opened` (a dispute the client opened) and `task_dispute_resolved` (DISPUTED ->
 *   COMPLETED or CANCELLED). A developer's own steps (submit, withdraw, their dispute) reach the
 *   client through `task_status_changed`.
 *
 * @module
 */
import { isNotifiableUser, notificationEvent, type OutboxEvent } from "@platform/lib/events";
import { NotificationKind } from "@platform/proto/notifications/v1";
import type { TaskState } from "./domain/task_state_machine.ts";
import { statusToProto } from "./task_events.ts";
import { toTaskMessage } from "./task_message.ts";
import type { TaskRow } from "./task_store.ts";

/**
 * The notifications of one transition, `from` -> `task.status`.
 *
 * @example
 * ```ts
 * await outbox.write(tx, transitionNotifications(before.status, updated, actorId, reason));
 * ```
 */
export function transitionNotifications(
  from: TaskState,
  task: TaskRow,
  actorId: string,
  reason: string,
  previousDeveloperId: string | null = null,
): OutboxEvent[] {
  const change = {
    task: toTaskMessage(task),
    from: statusToProto(from),
    to: statusToProto(task.status),
    actorId,
    reason,
  };
  const body = { taskId: task.id, detail: { case: "task" as const, value: change } };
  const events: OutboxEvent[] = [];
  if (isNotifiableUser(task.client_id)) {
    events.push(notificationEvent(task.client_id, NotificationKind.TASK_STATUS_CHANGED, body));
  }
  const developer = task.assigned_developer_id;
  if (task.status === "ASSIGNED" && from === "OPEN" && developer && isNotifiableUser(developer)) {
    events.push(notificationEvent(developer, NotificationKind.TASK_ASSIGNED, body));
  }
  const cancelledDeveloper = previousDeveloperId ?? developer;
  if (
    task.status === "CANCELLED" && from === "ASSIGNED" && cancelledDeveloper &&
    isNotifiableUser(cancelledDeveloper)
  ) {
    events.push(notificationEvent(cancelledDeveloper, NotificationKind.TASK_CANCELLED, body));
  }
  const deliveryKind = developerDeliveryKind(from, task.status, actorId, developer);
  if (deliveryKind && developer && isNotifiableUser(developer)) {
    events.push(notificationEvent(developer, deliveryKind, body));
  }
  return events;
}

/** What the developer of delivered work is told of a transition they did not make; else none. */
function developerDeliveryKind(
  from: TaskState,
  to: TaskState,
  actorId: string,
  developer: string | null,
): NotificationKind | undefined {
  if (!developer || actorId === developer) return undefined;
  if (from === "SUBMITTED" && to === "IN_PROGRESS") return NotificationKind.TASK_CHANGES_REQUESTED;
  if (from === "SUBMITTED" && to === "COMPLETED") return NotificationKind.TASK_WORK_APPROVED;
  if (from === "SUBMITTED" && to === "DISPUTED") return NotificationKind.TASK_DISPUTE_OPENED;
  if (from === "DISPUTED") return NotificationKind.TASK_DISPUTE_RESOLVED;
  return undefined;
}
