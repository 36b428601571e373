import assert from "node:assert/strict";
import { ConfigError } from "@platform/lib/config";
import { ValidationError } from "@platform/lib/errors";
import { MalformedEventError, nakDelay, UnprocessableEventError } from "@platform/lib/events";
import { loadOrchestratorConfig } from "./config.ts";
import { eventSkills } from "./event_skills.ts";
import { decodePageToken, encodePageToken } from "./proposal_handlers.ts";
import { parseTaskCreated } from "./task_created_consumer.ts";

const enc = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("the manual's malformed task.created is unprocessable", () => {
  assert.throws(
    () => parseTaskCreated(enc({ task_id: "test-123", title: "Test" })),
    UnprocessableEventError,
  );
  assert.throws(() => parseTaskCreated(new TextEncoder().encode("{not json")), MalformedEventError);
  assert.throws(
    () => parseTaskCreated(enc({ task_id: crypto.randomUUID(), title: "no owner" })),
    UnprocessableEventError,
  );
  assert.throws(() => parseTaskCreated(enc({ task_id: 42 })), MalformedEventError);
});

Deno.test("a valid task.created is normalised", () => {
  const taskId = crypto.randomUUID();
  const clientId = crypto.randomUUID();
  const task = parseTaskCreated(enc({
    event_id: "e1",
    task_id: taskId.toUpperCase(),
    client_id: clientId,
    title: "Build",
    required_skills: ["Go", " sql", "go"],
    budget: { currency: "usd", amount_minor: "150000" },
    occurred_at: "2024-10-19T15:30:00Z",
    unknown_field: true,
  }));
  assert.equal(task.taskId, taskId);
  assert.deepEqual(task.requiredSkills, ["go", "sql"]);
  assert.equal(task.budgetMinor, 150000n);
  assert.equal(task.currency, "USD");
  assert.equal(task.taskCreatedAt?.toISOString(), "2024-10-19T15:30:00.000Z");
});

Deno.test("nak delay grows with deliveries and is capped", () => {
  assert.equal(nakDelay(1, [100, 200]), 100);
  assert.equal(nakDelay(2, [100, 200]), 200);
  assert.equal(nakDelay(50, [100, 200]), 200);
});

Deno.test("page tokens round-trip and reject garbage", () => {
  const id = crypto.randomUUID();
  assert.deepEqual(decodePageToken(encodePageToken(123456n, id)), { micros: 123456n, id });
  assert.equal(decodePageToken(""), undefined);
  assert.throws(() => decodePageToken("garbage!"), /page_token/);
});

Deno.test("page tokens beyond int8 are invalid_argument, not a database error", () => {
  const id = crypto.randomUUID();
  for (const micros of ["99999999999999999999", "9223372036854775808", "1".repeat(400)]) {
    assert.throws(
      () => decodePageToken(btoa(`${micros}:${id}`)),
      (e) => e instanceof ValidationError && /page_token/.test(e.message),
      micros,
    );
  }
  assert.equal(decodePageToken(btoa(`9223372036854775807:${id}`))?.micros, 2n ** 63n - 1n);
});

Deno.test("config: defaults, and a bad value names the variable", () => {
  const config = loadOrchestratorConfig({});
  assert.equal(config.port, 50053);
  assert.equal(config.proposalsPerTask, 3);
  assert.equal(config.usersUrl, "http://127.0.0.1:50051");
  assert.throws(
    () => loadOrchestratorConfig({ PROPOSALS_PER_TASK: "zero" }),
    (e) => e instanceof ConfigError && e.variable === "PROPOSALS_PER_TASK",
  );
  assert.throws(() =>
    loadOrchestratorConfig({
      MATCH_WEIGHT_SKILL: "0",
      MATCH_WEIGHT_TRACK_RECORD: "0",
      MATCH_WEIGHT_RATE: "0",
      MATCH_WEIGHT_LOAD: "0",
      MATCH_WEIGHT_FAIRNESS: "0",
    }), ConfigError);
});

Deno.test("event skills: normalised as the services do; a broken rule sets the event aside", () => {
  assert.deepEqual(eventSkills([" Go ", "go", "Node JS", ""]), ["go", "node-js"]);
  assert.throws(() => eventSkills(["node/js"]), UnprocessableEventError);
  assert.throws(() => eventSkills(["x".repeat(200)]), UnprocessableEventError);
});
