/**
 * publishWindows: never two events of one entity in a window; keyless events alone. subjectLabel:
 * bounded metric labels.
 */
import assert from "node:assert/strict";
import { type OutboxRow, publishWindows, subjectLabel } from "./outbox_relay.ts";

function row(id: string, payload: Record<string, unknown>): OutboxRow {
  return { id, subject: "task.created", payload, traceparent: null, created_ms: 0 };
}

Deno.test("publish windows keep each entity's events in separate, ordered windows", () => {
  const rows = [
    row("a1", { task_id: "a" }),
    row("b1", { task_id: "b" }),
    row("a2", { task_id: "a" }),
    row("c1", { task_id: "c", user_id: "u" }),
    row("u1", { user_id: "u" }),
    row("x", { other: 1 }),
    row("d1", { proposal_id: "p" }),
    row("e1", { task_id: "e" }),
  ];
  const ids = publishWindows(rows, 10).map((w) => w.map((r) => r.id));
  assert.deepEqual(ids, [["a1", "b1"], ["a2", "c1"], ["u1"], ["x"], ["d1", "e1"]]);
  assert.deepEqual(
    publishWindows(rows.slice(0, 2), 1).map((w) => w.map((r) => r.id)),
    [["a1"], ["b1"]],
  );
});

Deno.test("metric labels: per-user notification subjects are folded, others kept", () => {
  assert.equal(
    subjectLabel("notify.8f2c0d3e-1111-4222-8333-944445555666.task_assigned"),
    "notify.*.task_assigned",
  );
  assert.equal(subjectLabel("task.created"), "task.created");
  assert.equal(subjectLabel("presence.online"), "presence.online");
});
