import assert from "node:assert/strict";
import { FailedPreconditionError } from "@platform/lib/errors";
import {
  assertApprovalMode,
  assertEditable,
  canTransition,
  type DeliveryAction,
  isTerminal,
  nextState,
  resolutionAction,
  TASK_STATES,
  type TaskAction,
  type TaskState,
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

Deno.test("delivery: submit -> request changes -> submit -> approve, with approval", () => {
  assert.equal(nextState("IN_PROGRESS", "submit", true), "SUBMITTED");
  assert.equal(nextState("SUBMITTED", "request_changes", true), "IN_PROGRESS");
  assert.equal(nextState("SUBMITTED", "approve", true), "COMPLETED");
  assert.equal(nextState("SUBMITTED", "dispute", true), "DISPUTED");
  assert.equal(nextState("DISPUTED", resolutionAction("approve"), true), "COMPLETED");
  assert.equal(nextState("DISPUTED", resolutionAction("split"), true), "COMPLETED");
  assert.equal(nextState("DISPUTED", resolutionAction("refund"), true), "CANCELLED");
  assert.ok(!isTerminal("SUBMITTED") && !isTerminal("DISPUTED"));
});

Deno.test("delivery steps only from their one state, naming the current one", () => {
  const allowed: Record<DeliveryAction, TaskState> = {
    submit: "IN_PROGRESS",
    approve: "SUBMITTED",
    request_changes: "SUBMITTED",
    withdraw: "ASSIGNED",
    dispute: "SUBMITTED",
    resolve_approve: "DISPUTED",
    resolve_refund: "DISPUTED",
    resolve_split: "DISPUTED",
  };
  for (const [action, from] of Object.entries(allowed) as [DeliveryAction, TaskState][]) {
    for (const state of TASK_STATES) {
      if (state === from) continue;
      assert.equal(canTransition(state, action), false, `${action} from ${state}`);
      assert.throws(
        () => nextState(state, action, true),
        (e: Error) => e instanceof FailedPreconditionError && e.message.includes(state),
      );
    }
  }
  // The new states are closed to everything else.
  for (const state of ["SUBMITTED", "DISPUTED"] as const) {
    for (const action of ["assign", "start", "complete", "cancel", "expire", "update"] as const) {
      assert.equal(canTransition(state, action), false, `${action} from ${state}`);
    }
  }
});

Deno.test("the approval mode is fixed: complete needs none, delivery steps need it", () => {
  assert.throws(
    () => nextState("IN_PROGRESS", "complete", true),
    (e: Error) => e instanceof FailedPreconditionError && /use SubmitWork/.test(e.message),
  );
  assert.equal(nextState("IN_PROGRESS", "complete", false), "COMPLETED");
  for (const action of ["submit", "approve", "request_changes", "dispute"] as const) {
    assert.throws(
      () => nextState(action === "submit" ? "IN_PROGRESS" : "SUBMITTED", action, false),
      (e: Error) =>
        e instanceof FailedPreconditionError && /without requires_approval/.test(e.message),
    );
  }
  // Withdrawing before the start is for every task.
  assert.equal(nextState("ASSIGNED", "withdraw", false), "OPEN");
  assert.equal(nextState("ASSIGNED", "withdraw", true), "OPEN");
  assert.doesNotThrow(() => assertApprovalMode("withdraw", false));
});
