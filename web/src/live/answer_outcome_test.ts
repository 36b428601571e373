import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { ProposalReason, ProposalSchema, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { answerNotice } from "./answer_outcome.ts";

const answer = { proposalId: "p1", taskId: "t1", title: "Port the parser", accept: true };
const proposal = (id: string, status: ProposalStatus, reason = ProposalReason.UNSPECIFIED) =>
  create(ProposalSchema, { id, taskId: "t1", status, reason });

Deno.test("an accept is provisional until the task is assigned", () => {
  const accepted = {
    proposals: [proposal("p1", ProposalStatus.ACCEPTED)],
    assignedTaskIds: new Set<string>(),
  };
  assert.deepEqual(answerNotice(answer, accepted), {
    text: 'You accepted "Port the parser". It is yours once the Task Service assigns it.',
    final: false,
  });
  assert.deepEqual(answerNotice(answer, { ...accepted, assignedTaskIds: new Set(["t1"]) }), {
    text: '"Port the parser" is assigned to you: it is under My tasks.',
    final: true,
  });
});

Deno.test("an accept the task refused says what happened, and a new offer is pointed at", () => {
  const withdrawn = proposal("p1", ProposalStatus.WITHDRAWN, ProposalReason.TERMS_CHANGED);
  assert.deepEqual(
    answerNotice(answer, {
      proposals: [withdrawn, proposal("p2", ProposalStatus.PENDING)],
      assignedTaskIds: new Set(),
    }),
    {
      text: 'Your acceptance of "Port the parser" did not stand: the task\'s terms changed. ' +
        "It is offered to you again below, on its new terms.",
      final: true,
    },
  );
  const cancelled = proposal("p1", ProposalStatus.CANCELLED, ProposalReason.TASK_CANCELLED);
  assert.equal(
    answerNotice(answer, { proposals: [cancelled], assignedTaskIds: new Set() }).text,
    'Your acceptance of "Port the parser" did not stand: the client cancelled the task.',
  );
  assert.deepEqual(
    answerNotice({ ...answer, accept: false }, { proposals: [], assignedTaskIds: new Set() }),
    {
      text: 'You declined "Port the parser".',
      final: true,
    },
  );
});
