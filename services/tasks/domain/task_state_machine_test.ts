import assert from "node:assert/strict";
import { FailedPreconditionError } from "@platform/lib/errors";
import {
  assertEditable,
  canTransition,
  isTerminal,
  nextState,
  TASK_STATES,
  type TaskAction,
} from "./task_state_machine.ts";

Deno.test("the happy path OPEN -> ASSIGNED -> IN_PROGRESS -> COMPLETED", () => {
  assert.equal(nextState("OPEN", "assign"), "ASSIGNED");
  assert.equal(nextState("ASSIGNED", "start"), "IN_PROGRESS");
  assert.equal(nextState("IN_PROGRESS", "complete"), "COMPLETED");
});

Deno.test("cancel only from OPEN or ASSIGNED", () => {
  assert.equal(nextState("OPEN", "cancel"), "CANCELLED");
  assert.equal(nextState("ASSIGNED", "cancel"), "CANCELLED");
  for (const state of ["IN_PROGRESS", "COMPLETED", "CANCELLED"] as const) {
    assert.throws(() => nextState(state, "cancel"), (error: Error) => {
      assert.ok(error instanceof FailedPreconditionError);
      assert.match(error.message, new RegExp(`task is ${state}`));
      return true;
    });
  }
});

Deno.test("every forbidden transition is failed_precondition naming the current state", () => {
  const allowed: Record<string, string[]> = {
    assign: ["OPEN"],
    start: ["ASSIGNED"],
    complete: ["IN_PROGRESS"],
    cancel: ["OPEN", "ASSIGNED"],
    expire: ["OPEN"],
  };
  for (const action of Object.keys(allowed) as Exclude<TaskAction, "update">[]) {
    for (const state of TASK_STATES) {
      if (allowed[action].includes(state)) {
        assert.ok(canTransition(state, action));
        continue;
      }
      assert.equal(canTransition(state, action), false);
      assert.throws(
        () => nextState(state, action),
        (e: Error) => e instanceof FailedPreconditionError && e.message.includes(state),
      );
    }
  }
});

Deno.test("only OPEN tasks are editable", () => {
  assertEditable("OPEN");
  assert.ok(canTransition("OPEN", "update"));
  for (const state of TASK_STATES.filter((s) => s !== "OPEN")) {
    assert.throws(() => assertEditable(state), /task is/);
    assert.equal(canTransition(state, "update"), false);
  }
});

Deno.test("EXPIRED: from OPEN only, terminal, and no edits once the deadline passed", () => {
  assert.equal(nextState("OPEN", "expire"), "EXPIRED");
  for (const action of ["assign", "start", "complete", "cancel", "expire", "update"] as const) {
    assert.equal(canTransition("EXPIRED", action), false, action);
  }
  assert.ok(isTerminal("EXPIRED") && isTerminal("CANCELLED") && isTerminal("COMPLETED"));
  assert.ok(!isTerminal("OPEN") && !isTerminal("ASSIGNED") && !isTerminal("IN_PROGRESS"));
  const now = new Date("2030-01-01T00:00:00Z");
  assertEditable("OPEN", new Date("2030-01-02T00:00:00Z"), now);
  assert.throws(() => assertEditable("OPEN", now, now), /deadline has passed/);
});
