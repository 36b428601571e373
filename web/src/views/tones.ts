/**
 * Badge colours for states (decoration only: the words carry the meaning).
 *
 * @module
 */
import { ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskStatus } from "@platform/proto/tasks/v1";

/** The badge tone of a task status. */
export function taskTone(status: TaskStatus): "good" | "bad" | "warn" | "info" | "muted" {
  switch (status) {
    case TaskStatus.OPEN:
      return "info";
    case TaskStatus.ASSIGNED:
    case TaskStatus.IN_PROGRESS:
    case TaskStatus.SUBMITTED:
      return "warn";
    case TaskStatus.DISPUTED:
      return "bad";
    case TaskStatus.COMPLETED:
      return "good";
    default:
      return "muted";
  }
}

/** The badge tone of a proposal status. */
export function proposalTone(status: ProposalStatus): "good" | "bad" | "warn" | "info" | "muted" {
  switch (status) {
    case ProposalStatus.PENDING:
      return "info";
    case ProposalStatus.ACCEPTED:
      return "good";
    default:
      return "muted";
  }
}
