/**
 * What became of a developer's answer to a proposal, told truthfully. An accept is provisional:
 * it stands only once the Task Service assigns the task (`task.assigned`); a concurrent edit,
 * cancellation or deadline ends the proposal WITHDRAWN or CANCELLED instead, and the developer's
 * page then says so in place of "You accepted ...".
 *
 * @module
 */
import { type Proposal, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { proposalReasonText } from "../format.ts";

/** An answer the developer gave on this page. */
export interface GivenAnswer {
  proposalId: string;
  taskId: string;
  title: string;
  accept: boolean;
}

/** What the page knows now: the developer's proposals and the tasks assigned to them. */
export interface AnswerFacts {
  /** Every proposal of the developer the page holds (pending and earlier). */
  proposals: readonly Proposal[];
  /** Ids of the tasks assigned to the developer. */
  assignedTaskIds: ReadonlySet<string>;
}

/** The notice to show, and whether the answer has reached its final outcome. */
export interface AnswerNotice {
  text: string;
  final: boolean;
}

/**
 * The notice for an answer, from what the page knows now.
 *
 * @example
 * ```ts
 * answerNotice({ proposalId, taskId, title: "Port", accept: true }, facts);
 * // { text: "You accepted \"Port\". It is yours once the Task Service assigns it.", final: false }
 * ```
 */
export function answerNotice(answer: GivenAnswer, facts: AnswerFacts): AnswerNotice {
  const quoted = `"${answer.title}"`;
  if (!answer.accept) return { text: `You declined ${quoted}.`, final: true };
  if (facts.assignedTaskIds.has(answer.taskId)) {
    return { text: `${quoted} is assigned to you: it is under My tasks.`, final: true };
  }
  const proposal = facts.proposals.find((p) => p.id === answer.proposalId);
  if (
    proposal &&
    (proposal.status === ProposalStatus.WITHDRAWN ||
      proposal.status === ProposalStatus.CANCELLED ||
      proposal.status === ProposalStatus.EXPIRED)
  ) {
    const why = proposalReasonText(proposal.reason);
    const again = facts.proposals.some((p) =>
      p.taskId === answer.taskId && p.id !== answer.proposalId &&
      p.status === ProposalStatus.PENDING
    );
    return {
      text: `Your acceptance of ${quoted} did not stand${why ? `: ${why}` : ""}.` +
        (again ? " It is offered to you again below, on its new terms." : ""),
      final: true,
    };
  }
  return {
    text: `You accepted ${quoted}. It is yours once the Task Service assigns it.`,
    final: false,
  };
}
