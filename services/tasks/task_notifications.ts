/**
 * Who the Task Service tells about a transition (notifications on `notify.<user_id>.<kind>`,
 * written to its outbox in the transition's transaction):
 *
 * - the task's client: every status change of their task (`task_status_changed`);
 * - the developer it is assigned to: `task_assigned`;
 * - the developer of an ASSIGNED task that is cancelled: `task_cancelled`.
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
  return events;
}
