/**
 * The task lifecycle as one pure module: OPEN -> ASSIGNED -> IN_PROGRESS -> COMPLETED, with
 * CANCELLED from OPEN or ASSIGNED, and EXPIRED from OPEN when its deadline passes (terminal).
 *
 * @module
 */
import { FailedPreconditionError } from "@platform/lib/errors";

/** A task's status as stored (`tasks.status`). */
export type TaskState =
  | "OPEN"
  | "ASSIGNED"
  | "IN_PROGRESS"
  | "COMPLETED"
  | "CANCELLED"
  | "EXPIRED";

/** What can happen to a task. */
export type TaskAction = "assign" | "start" | "complete" | "cancel" | "expire" | "update";

/** Every stored status. */
export const TASK_STATES: readonly TaskState[] = [
  "OPEN",
  "ASSIGNED",
  "IN_PROGRESS",
  "COMPLETED",
  "CANCELLED",
  "EXPIRED",
];

const transitions: Record<Exclude<TaskAction, "update">, { from: TaskState[]; to: TaskState }> = {
  assign: { from: ["OPEN"], to: "ASSIGNED" },
  start: { from: ["ASSIGNED"], to: "IN_PROGRESS" },
  complete: { from: ["IN_PROGRESS"], to: "COMPLETED" },
  cancel: { from: ["OPEN", "ASSIGNED"], to: "CANCELLED" },
  expire: { from: ["OPEN"], to: "EXPIRED" },
};

const verbs: Record<TaskAction, string> = {
  assign: "assigned",
  start: "started",
  complete: "completed",
  cancel: "cancelled",
  expire: "expired",
  update: "updated",
};

/**
 * The status after `action`, or {@link FailedPreconditionError} naming the current status.
 *
 * @example
 * ```ts
 * nextState("OPEN", "assign"); // "ASSIGNED"
 * nextState("COMPLETED", "cancel"); // throws: task is COMPLETED; it cannot be cancelled ...
 * ```
 */
export function nextState(current: TaskState, action: Exclude<TaskAction, "update">): TaskState {
  const rule = transitions[action];
  if (!rule.from.includes(current)) {
    throw new FailedPreconditionError(
      `task is ${current}; it cannot be ${verbs[action]} (only from ${rule.from.join(" or ")})`,
    );
  }
  return rule.to;
}

/**
 * Throws unless the task's fields may still be changed: only while OPEN and before its deadline
 * (an OPEN task past its deadline is about to become EXPIRED).
 *
 * @example
 * ```ts
 * assertEditable("OPEN"); // ok
 * ```
 */
export function assertEditable(
  current: TaskState,
  deadline: Date | null = null,
  now: Date = new Date(),
): void {
  if (current !== "OPEN") {
    throw new FailedPreconditionError(
      `task is ${current}; it cannot be updated (only while OPEN)`,
    );
  }
  if (deadline && deadline.getTime() <= now.getTime()) {
    throw new FailedPreconditionError(
      "task's deadline has passed; it is expiring and can no longer be updated",
    );
  }
}

/**
 * True for the statuses a task never leaves.
 *
 * @example
 * ```ts
 * isTerminal("EXPIRED"); // true
 * ```
 */
export function isTerminal(state: TaskState): boolean {
  return state === "COMPLETED" || state === "CANCELLED" || state === "EXPIRED";
}

/**
 * True when `action` is allowed from `current`.
 *
 * @example
 * ```ts
 * canTransition("ASSIGNED", "cancel"); // true
 * ```
 */
export function canTransition(current: TaskState, action: TaskAction): boolean {
  if (action === "update") return current === "OPEN";
  return transitions[action].from.includes(current);
}
