/**
 * Consumers dispatch through the catalog: typed handlers by event name, `"skip"` for the rest of
 * the stream, an unknown subject set aside, and a stream's event forgotten does not compile. No
 * servers.
 */
import assert from "node:assert/strict";
import { MalformedEventError } from "./event_codec.ts";
import { UnprocessableEventError } from "./durable_consumer.ts";
import type { ConsumedEvent } from "./durable_consumer.ts";
import { decodeStreamEvent, dispatchStream, eventNameOf } from "./event_dispatch.ts";

const consumed = (subject: string, json: string) =>
  ({ subject, data: new TextEncoder().encode(json) }) as ConsumedEvent;

Deno.test("dispatchStream: decodes by the catalog and calls the event's handler", async () => {
  const seen: string[] = [];
  const handler = dispatchStream("PROPOSALS", {
    proposalCreated: (created) => void seen.push(`created ${created.proposalId}`),
    proposalAccepted: (accepted, event) =>
      void seen.push(`accepted ${accepted.taskId} ${event.subject}`),
    proposalClosed: "skip",
  });
  await handler(consumed("proposal.created", '{"proposal_id":"p1"}'));
  await handler(consumed("proposal.accepted", '{"task_id":"t1"}'));
  await handler(consumed("proposal.closed", '{"proposal_id":"p2"}'));
  await handler(consumed("task.created", "not even json")); // another stream's event: skipped
  assert.deepEqual(seen, ["created p1", "accepted t1 proposal.accepted"]);
  await assert.rejects(handler(consumed("proposal.creatd", "{}")), UnprocessableEventError);
  await assert.rejects(handler(consumed("proposal.created", "{")), MalformedEventError);
});

Deno.test("decodeStreamEvent and eventNameOf", () => {
  assert.equal(eventNameOf("task.created"), "taskCreated");
  assert.equal(eventNameOf("notify.u.k"), "notification");
  assert.equal(eventNameOf("notify.*.*"), undefined);
  assert.equal(eventNameOf("task.creatd"), undefined);
  const decoded = decodeStreamEvent("TASKS", consumed("task.expired", '{"task_id":"t1"}'));
  assert.equal(decoded?.name, "taskExpired");
  assert.equal(decoded?.name === "taskExpired" && decoded.payload.taskId, "t1");
  assert.equal(decodeStreamEvent("TASKS", consumed("presence.online", "{}")), undefined);
  assert.throws(
    () => decodeStreamEvent("TASKS", consumed("task.x", "{}")),
    UnprocessableEventError,
  );
});

Deno.test("a consumer that forgets an event of its stream does not compile", () => {
  const forgot = () =>
    // @ts-expect-error: proposalClosed is missing (handle it or say "skip")
    dispatchStream("PROPOSALS", { proposalCreated: "skip", proposalAccepted: "skip" });
  const foreign = () =>
    dispatchStream("PROPOSALS", {
      proposalCreated: "skip",
      proposalAccepted: "skip",
      proposalClosed: "skip",
      // @ts-expect-error: taskCreated is not on PROPOSALS
      taskCreated: "skip",
    });
  const wrongPayload = () =>
    dispatchStream("PROPOSALS", {
      // @ts-expect-error: ProposalCreated has no field userId
      proposalCreated: (created) => void created.userId,
      proposalAccepted: "skip",
      proposalClosed: "skip",
    });
  assert.equal(typeof forgot, "function");
  assert.equal(typeof foreign, "function");
  assert.equal(typeof wrongPayload, "function");
});
