import assert from "node:assert/strict";
import {
  formatTraceparent,
  parseTraceparent,
  snakeCase,
  subjectTemplate,
  traceConsume,
  traceDb,
  tracePublish,
  tracingEnabled,
} from "./mod.ts";
import { traceFields } from "../log/trace_fields.ts";

const HEADER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("traceparent: parsed and formatted back", () => {
  const context = parseTraceparent(HEADER);
  assert.deepEqual(context && { ...context, traceState: undefined }, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
    isRemote: true,
    traceState: undefined,
  });
  assert.equal(formatTraceparent(context!), HEADER);
  assert.equal(parseTraceparent(HEADER, "a=1,b=2")?.traceState?.serialize(), "a=1,b=2");
});

Deno.test("traceparent: absent, malformed and all-zero ids are no context", () => {
  for (
    const bad of [
      undefined,
      null,
      "",
      "garbage",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ]
  ) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

Deno.test("names: Connect codes and subject templates", () => {
  assert.equal(snakeCase("InvalidArgument"), "invalid_argument");
  assert.equal(snakeCase("FailedPrecondition"), "failed_precondition");
  assert.equal(
    subjectTemplate("notify.4e3daba5-8f40-4e71-884e-a7a9f8d8311c.task_assigned"),
    "notify.{id}.task_assigned",
  );
  assert.equal(subjectTemplate("task.created"), "task.created");
});

Deno.test("with tracing off: nothing is made, the row's traceparent passes through", async () => {
  if (tracingEnabled) return; // this process was started with OTEL_DENO=true
  assert.deepEqual(traceFields(), {});
  assert.deepEqual(await tracePublish("task.created", "id", HEADER, (h) => Promise.resolve(h)), {
    traceparent: HEADER,
  });
  assert.equal(
    await tracePublish("task.created", "id", null, (h) => Promise.resolve(h)),
    undefined,
  );
  assert.equal(await traceConsume({ subject: "task.created" }, "c", () => Promise.resolve(7)), 7);
  assert.equal(await traceDb("query", () => Promise.resolve(8)), 8);
  await assert.rejects(traceConsume({ subject: "s" }, "c", () => Promise.reject(new Error("x"))));
});
