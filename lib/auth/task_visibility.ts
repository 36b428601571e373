/**
 * Who may see a task: one rule for every service (the Task Service's GetTask, ListTasks and
 * GetTaskHistory, the Orchestrator's GetMatchStatus and ListProposals), so that the same caller
 * gets the same answer everywhere.
 *
 * - `full`: the task's client, its assigned developer, developers holding a proposal for it
 *   (pending or accepted), admins and services: everything, history and assignee included.
 * - `browse`: any other developer, while the task is OPEN: the task without its history or
 *   assignee.
 * - `none`: everyone else; the service answers `not_found`, exactly as for an unknown task, so
 *   that task ids cannot be probed.
 *
 * Pure: each service passes the facts it keeps itself.
 *
 * @module
 */
import type { Principal } from "./principal.ts";

/** How much of a task a caller may see. */
export type TaskVisibility = "full" | "browse" | "none";

/** What the rule needs to know about a task and the caller's relation to it. */
export interface TaskAudience {
  /** The client who posted it (null when the service does not know it yet). */
  clientId: string | null;
  /** The developer it is assigned to, if any. */
  assignedDeveloperId: string | null;
  /** True while the task is OPEN (matching: pending, proposed, no candidates). */
  open: boolean;
  /** True when the caller is a developer holding a pending or accepted proposal for it. */
  holdsProposal: boolean;
}

/**
 * How much of the task the caller may see.
 *
 * @example
 * ```ts ignore
 * const seen = taskVisibility(me, {
 *   clientId: task.client_id,
 *   assignedDeveloperId: task.assigned_developer_id,
 *   open: task.status === "OPEN",
 *   holdsProposal: false,
 * });
 * if (seen === "none") throw new NotFoundError("task", task.id);
 * ```
 */
export function taskVisibility(me: Principal, task: TaskAudience): TaskVisibility {
  if (me.role === "admin" || me.role === "service") return "full";
  const id = me.subject.toLowerCase();
  if (me.role === "client") {
    return task.clientId !== null && task.clientId.toLowerCase() === id ? "full" : "none";
  }
  if (me.role === "developer") {
    if (task.assignedDeveloperId?.toLowerCase() === id || task.holdsProposal) return "full";
    return task.open ? "browse" : "none";
  }
  return "none";
}

/**
 * True when the caller may see the task whole (history, assignee, match status, proposals).
 *
 * @example
 * ```ts ignore
 * if (!seesWhole(me, audience)) throw new NotFoundError("task", taskId);
 * ```
 */
export function seesWhole(me: Principal, task: TaskAudience): boolean {
  return taskVisibility(me, task) === "full";
}
