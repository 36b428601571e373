/**
 * Poison `proposal.accepted` payloads are refused before they reach SQL (so the durable consumer
 * terminates them instead of retrying forever). The store is never touched for them.
 */
import assert from "node:assert/strict";
import { MalformedEventError, UnprocessableEventError } from "@platform/lib/events";
import { Logger } from "@platform/lib/log";
import { handleProposalAccepted } from "./proposal_accepted_consumer.ts";
import { TaskCommands } from "./task_commands.ts";
import type { TaskStore } from "./task_store.ts";

const logger = new Logger("tasks-test", "error");

/** Commands whose store fails every transaction with `error` and counts the attempts. */
function commandsFailingWith(error: unknown) {
  const calls = { transactions: 0 };
  const commands = new TaskCommands({
    transaction: () => {
      calls.transactions++;
      return Promise.reject(error);
    },
  } as unknown as TaskStore);
  return { commands, calls };
}

function payload(overrides: Record<string, unknown> = {}): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    event_id: crypto.randomUUID(),
    proposal_id: crypto.randomUUID(),
    task_id: crypto.randomUUID(),
    developer_id: crypto.randomUUID(),
    ...overrides,
  }));
}

Deno.test("poison proposal.accepted payloads are unprocessable, not retried", async () => {
  const poison: Array<[string, Record<string, unknown>]> = [
    ["event_id", { event_id: "" }],
    ["event_id", { event_id: "   " }],
    ["event_id", { event_id: "abc\u0000def" }],
    ["event_id", { event_id: "x".repeat(129) }],
    ["event_id", { event_id: "é-not-ascii" }],
    ["event_id", { event_id: "line\nbreak" }],
    ["task_id", { task_id: "task-1" }],
    ["task_id", { task_id: `${crypto.randomUUID()}\u0000` }],
    ["developer_id", { developer_id: "" }],
    ["proposal_id", { proposal_id: "p\u0000" }],
    ["proposal_id", { proposal_id: "x".repeat(300) }],
    ["proposal_id", { proposal_id: "" }],
  ];
  for (const [field, overrides] of poison) {
    const { commands, calls } = commandsFailingWith(new Error("must not be reached"));
    await assert.rejects(
      handleProposalAccepted(commands, logger, payload(overrides)),
      (error: unknown) =>
        error instanceof UnprocessableEventError && error.message.startsWith(field),
      JSON.stringify(overrides),
    );
    assert.equal(calls.transactions, 0, `${JSON.stringify(overrides)} reached the store`);
  }
  const { commands } = commandsFailingWith(new Error("must not be reached"));
  await assert.rejects(
    handleProposalAccepted(commands, logger, new TextEncoder().encode("{not json")),
    MalformedEventError,
  );
});

Deno.test("valid ids reach the store; its errors go back to the consumer to decide", async () => {
  for (const eventId of [crypto.randomUUID(), "evt-123", "x".repeat(128)]) {
    const refused = Object.assign(new Error("invalid byte sequence"), { code: "22021" });
    const { commands, calls } = commandsFailingWith(refused);
    await assert.rejects(
      handleProposalAccepted(commands, logger, payload({ event_id: eventId })),
      (error: unknown) => error === refused,
    );
    assert.equal(calls.transactions, 1);
  }
  const down = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
  const { commands } = commandsFailingWith(down);
  await assert.rejects(
    handleProposalAccepted(commands, logger, payload()),
    (error: unknown) => error === down,
  );
});
