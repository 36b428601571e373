/**
 * The task lifecycle as one pure module: OPEN -> ASSIGNED -> IN_PROGRESS -> COMPLETED, with
 * CANCELLED from OPEN or ASSIGNED, and EXPIRED from OPEN when its deadline passes (terminal).
 *
 * Delivery and approval, for a task created with `requires_approval` (fixed for its life):
 * IN_PROGRESS -submit-> SUBMITTED; SUBMITTED -approve-> COMPLETED (the client, or the
 * auto-approval sweep), -request_changes-> IN_PROGRESS, -dispute-> DISPUTED; DISPUTED
 * -resolve_approve / resolve_split-> COMPLETED, -resolve_refund-> CANCELLED. Such a task is never
 * completed by its developer alone (`complete`), and a task without approval is never submitted.
 * Before starting, the assigned developer may step back: ASSIGNED -withdraw-> OPEN.
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
  | "EXPIRED"
  | "SUBMITTED"
  | "DISPUTED";

/** What can happen to a task. */
export type TaskAction =
  | "assign"
  | "start"
  | "complete"
  | "cancel"
  | "expire"
  | "update"
  | DeliveryAction;

/** The steps of delivery and approval (tasks created with `requires_approval`, and withdraw). */
export type DeliveryAction =
  | "submit"
  | "approve"
  | "request_changes"
  | "withdraw"
  | "dispute"
  | "resolve_approve"
  | "resolve_refund"
  | "resolve_split";

/** Every stored status. */
export const TASK_STATES: readonly TaskState[] = [
  "OPEN",
  "ASSIGNED",
  "IN_PROGRESS",
  "COMPLETED",
  "CANCELLED",
  "EXPIRED",
  "SUBMITTED",
  "DISPUTED",
];

const transitions: Record<Exclude<TaskAction, "update">, { from: TaskState[]; to: TaskState }> = {
  assign: { from: ["OPEN"], to: "ASSIGNED" },
  start: { from: ["ASSIGNED"], to: "IN_PROGRESS" },
  complete: { from: ["IN_PROGRESS"], to: "COMPLETED" },
  cancel: { from: ["OPEN", "ASSIGNED"], to: "CANCELLED" },
  expire: { from: ["OPEN"], to: "EXPIRED" },
  submit: { from: ["IN_PROGRESS"], to: "SUBMITTED" },
  approve: { from: ["SUBMITTED"], to: "COMPLETED" },
  request_changes: { from: ["SUBMITTED"], to: "IN_PROGRESS" },
  withdraw: { from: ["ASSIGNED"], to: "OPEN" },
  dispute: { from: ["SUBMITTED"], to: "DISPUTED" },
  resolve_approve: { from: ["DISPUTED"], to: "COMPLETED" },
  resolve_refund: { from: ["DISPUTED"], to: "CANCELLED" },
  resolve_split: { from: ["DISPUTED"], to: "COMPLETED" },
};

/** The actions only a task created with `requires_approval` takes (withdraw is for every task). */
const APPROVAL_ACTIONS: readonly TaskAction[] = [
  "submit",
  "approve",
  "request_changes",
  "dispute",
  "resolve_approve",
  "resolve_refund",
  "resolve_split",
];

const verbs: Record<TaskAction, string> = {
  assign: "assigned",
  start: "started",
  complete: "completed",
  cancel: "cancelled",
  expire: "expired",
  update: "updated",
  submit: "submitted",
  approve: "approved",
  request_changes: "sent back for changes",
  withdraw: "withdrawn from",
  dispute: "disputed",
  resolve_approve: "resolved",
  resolve_refund: "resolved",
  resolve_split: "resolved",
};

/**
 * The status after `action`, or {@link FailedPreconditionError} naming the current status (or the
 * task's approval mode: `complete` on a task that requires approval, a delivery step on one that
 * does not).
 *
 * @example
 * ```ts
 * nextState("OPEN", "assign"); // "ASSIGNED"
 * nextState("COMPLETED", "cancel"); // throws: task is COMPLETED; it cannot be cancelled ...
 * nextState("IN_PROGRESS", "submit", true); // "SUBMITTED"
 * ```
 */
export function nextState(
  current: TaskState,
  action: Exclude<TaskAction, "update">,
  requiresApproval = false,
): TaskState {
  assertApprovalMode(action, requiresApproval);
  const rule = transitions[action];
  if (!rule.from.includes(current)) {
    throw new FailedPreconditionError(
      `task is ${current}; it cannot be ${verbs[action]} (only from ${rule.from.join(" or ")})`,
    );
  }
  return rule.to;
}

/**
 * Throws {@link FailedPreconditionError} when `action` is not for a task of this approval mode.
 *
 * @example
 * ```ts
 * assertApprovalMode("complete", true); // throws: ... use SubmitWork
 * ```
 */
export function assertApprovalMode(action: TaskAction, requiresApproval: boolean): void {
  if (requiresApproval && action === "complete") {
    throw new FailedPreconditionError(
      "this task requires the client's approval: use SubmitWork to deliver it (CompleteTask is " +
        "for tasks created without requires_approval)",
    );
  }
  if (!requiresApproval && APPROVAL_ACTIONS.includes(action)) {
    throw new FailedPreconditionError(
      "this task was created without requires_approval: its developer completes it with " +
        "CompleteTask; work is not submitted, approved or disputed",
    );
  }
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

/**
 * The delivery action of an admin's dispute resolution.
 *
 * @example
 * ```ts
 * resolutionAction("split"); // "resolve_split"
 * ```
 */
export function resolutionAction(
  resolution: "approve" | "refund" | "split",
): "resolve_approve" | "resolve_refund" | "resolve_split" {
  return `resolve_${resolution}`;
}
