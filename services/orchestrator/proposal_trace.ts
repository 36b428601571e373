/**
 * Joins a developer's answer to the trace of the proposal it answers. The answer is a request of
 * its own (its RPC span starts its own trace, and `proposal.accepted` and the Task Service's
 * assignment follow in that trace); its span gets a link to the span that made the proposal
 * (the matching of the task, in the trace that started with CreateTask), read from the
 * `proposal.created` outbox row, whose event id is the proposal's id.
 *
 * @module
 */
import { trace } from "@opentelemetry/api";
import { parseTraceparent, tracingEnabled } from "@platform/lib/tracing";
import type { ProposalCommands } from "./proposal_commands.ts";

/**
 * Adds a link to the proposal's trace to the active span (the RPC's); with tracing off it does
 * nothing and reads nothing.
 *
 * @example
 * ```ts
 * await linkProposalTrace(commands, proposalId);
 * ```
 */
export async function linkProposalTrace(
  commands: Pick<ProposalCommands, "proposalTraceparent">,
  proposalId: string,
): Promise<void> {
  if (!tracingEnabled) return;
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  try {
    const proposal = parseTraceparent(await commands.proposalTraceparent(proposalId));
    if (proposal) span.addLink({ context: proposal, attributes: { "link.kind": "proposal" } });
  } catch {
    // A missing link never fails the answer.
  }
}
