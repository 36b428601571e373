/**
 * Handles `task.created`: validates the event, records the task (once: the task id is the key,
 * so a redelivered or duplicated event is a no-op) and runs its first matching attempt.
 *
 * Malformed events (bad JSON, a task_id or client_id that is not a UUID, such as the manual's
 * `{"task_id":"test-123","title":"Test"}`) throw {@link UnprocessableEventError}: the consumer logs,
 * counts and terminates them. A database error throws and the event is retried later.
 *
 * @module
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type ConsumedEvent,
  decodeEvent,
  EVENTS,
  UnprocessableEventError,
} from "@platform/lib/events";
import { eventSkills } from "./event_skills.ts";
import type { KeyedLimiter } from "./matching/keyed_limiter.ts";
import type { Matcher } from "./matcher.ts";
import type { ProposalCommands } from "./proposal_commands.ts";
import type { NewMatchTask } from "./proposal_store.ts";
import { isUuid } from "@platform/lib/domain";

/**
 * Decodes and validates a task.created payload.
 *
 * @example
 * ```ts
 * parseTaskCreated(new TextEncoder().encode('{"task_id":"test-123"}')); // throws UnprocessableEventError
 * ```
 */
export function parseTaskCreated(data: Uint8Array): NewMatchTask {
  const event = decodeEvent(EVENTS.taskCreated.schema, data);
  if (!isUuid(event.taskId)) {
    throw new UnprocessableEventError(
      `task_id must be a UUID, got ${JSON.stringify(event.taskId.slice(0, 64))}`,
    );
  }
  if (!isUuid(event.clientId)) {
    throw new UnprocessableEventError("client_id must be a UUID (unknown task owner)");
  }
  const skills = eventSkills(event.requiredSkills);
  const budget = event.budget && event.budget.currency && event.budget.amountMinor > 0n
    ? { budgetMinor: event.budget.amountMinor, currency: event.budget.currency.toUpperCase() }
    : {};
  return {
    taskId: event.taskId.toLowerCase(),
    clientId: event.clientId.toLowerCase(),
    title: event.title,
    requiredSkills: skills,
    ...budget,
    taskCreatedAt: event.occurredAt ? timestampDate(event.occurredAt) : undefined,
    deadline: event.deadline ? timestampDate(event.deadline) : undefined,
  };
}

/**
 * The handler for the durable consumer of task.created.
 *
 * @example
 * ```ts
 * const handler = taskCreatedHandler(commands, matcher, 30);
 * ```
 */
export function taskCreatedHandler(
  commands: ProposalCommands,
  matcher: Matcher,
  leaseSeconds: number,
  order?: KeyedLimiter,
): (event: ConsumedEvent) => Promise<void> {
  return async (event) => {
    const task = parseTaskCreated(event.data);
    const work = async () => {
      const { created, task: row } = await commands.recordTask(task, leaseSeconds);
      if (!created && (row.attempts > 0 || row.state !== "PENDING")) return; // a duplicate
      // The first attempt (or a redelivery after the first one did not finish). A User Service
      // outage defers the task (next_attempt_at) and the sweeper retries it: the event is done.
      await matcher.attempt(task.taskId, row);
    };
    // In line with the task's other events (task.updated, a cancellation) in this replica.
    // (Entered before any await, so in the order the consumer delivered the events.)
    await (order ? order.run(task.taskId, work) : work());
  };
}
