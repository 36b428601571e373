import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusEndpointError } from "@platform/client";
import { TaskStatus } from "@platform/proto/tasks/v1";
import { createConnectivity, SERVICE_UNHEALTHY } from "./connectivity.ts";
import { resolveBase } from "./endpoints.ts";
import { describeError, fieldLabel, isUnreachable } from "./errors.ts";
import {
  amountText,
  formatMoney,
  historyEntryText,
  localDateTimeValue,
  parseAmount,
  parseLocalDateTime,
  parseSkills,
  percentage,
  taskStatusLabel,
} from "./format.ts";
import { startPoll } from "./live/poll.ts";
import { createSessionStore } from "./session.ts";
import { parseDraft } from "./views/task_form.tsx";

Deno.test("a validation error names the field and reads as a sentence", () => {
  const problem = describeError(
    new ConnectError("display_name: must be at most 100 characters", Code.InvalidArgument),
    "User Service",
  );
  assert.deepEqual(problem, {
    kind: "input",
    field: "display_name",
    message: "Display name: must be at most 100 characters.",
  });
  assert.equal(fieldLabel("budget.amount_minor"), "Budget");
  assert.equal(fieldLabel("skill_tags.tags"), "Skill tags");
});

Deno.test("a wrong password, an ended session and a conflict say what to do", () => {
  const wrong = describeError(
    new ConnectError("wrong email or password", Code.Unauthenticated),
    "User Service",
  );
  assert.equal(wrong.kind, "signin");
  assert.match(wrong.message, /Wrong email or password/);
  const expired = describeError(
    new ConnectError("the token has expired; log in again", Code.Unauthenticated),
    "Task Service",
  );
  assert.equal(expired.kind, "session");
  const taken = describeError(
    new ConnectError("an account with this email already exists", Code.AlreadyExists),
    "User Service",
  );
  assert.deepEqual(taken, {
    kind: "conflict",
    message: "An account with this email already exists.",
  });
  const state = describeError(
    new ConnectError("another developer accepted this task first", Code.FailedPrecondition),
    "Orchestrator",
  );
  assert.equal(state.message, "Another developer accepted this task first.");
  const internal = describeError(new ConnectError("boom", Code.Internal), "Orchestrator");
  assert.match(internal.message, /Orchestrator failed to answer \(Internal\)/);
  assert.ok(!internal.message.includes("boom"));
});

Deno.test("unreachable: no answer, a proxy's 5xx, a timeout; not: an answer", () => {
  for (
    const error of [
      new ConnectError("Failed to fetch", Code.Unknown),
      new ConnectError("upstream", Code.Unavailable),
      new ConnectError("late", Code.DeadlineExceeded),
      new TypeError("Failed to fetch"),
      new StatusEndpointError(502, "GET /health answered 502 without a health report"),
      new DOMException("timed out", "TimeoutError"),
    ]
  ) assert.ok(isUnreachable(error), String(error));
  for (
    const error of [
      new ConnectError("title: must not be empty", Code.InvalidArgument),
      new ConnectError("weird", Code.Unknown),
      new StatusEndpointError(404, "GET /metrics answered 404"),
    ]
  ) assert.ok(!isUnreachable(error), String(error));
  const down = describeError(new ConnectError("Failed to fetch", Code.Unknown), "Task Service");
  assert.equal(down.kind, "unreachable");
  assert.match(down.message, /^The Task Service cannot be reached right now/);
  const late = describeError(new ConnectError("late", Code.DeadlineExceeded), "Task Service");
  assert.match(late.message, /did not answer in time. Check whether it was done/);
});

Deno.test("money is typed in units and sent in minor units", () => {
  assert.equal(parseAmount("90", "USD"), 9000n);
  assert.equal(parseAmount("90.5", "USD"), 9050n);
  assert.equal(parseAmount(" 1,250.00 ", "EUR"), 125000n);
  assert.equal(parseAmount("1000", "JPY"), 1000n);
  for (const bad of ["", "-5", "9.999", "abc", "1.5e3"]) {
    assert.equal(parseAmount(bad, "USD"), undefined, bad);
  }
  assert.equal(parseAmount("10.5", "JPY"), undefined);
  assert.equal(amountText(9050n, "USD"), "90.50");
  assert.equal(amountText(1000n, "JPY"), "1000");
  assert.equal(formatMoney({ currency: "USD", amountMinor: 50000n }), "$500.00");
  assert.equal(formatMoney(undefined), "—");
});

Deno.test("skills, dates, labels and percentages", () => {
  assert.deepEqual(parseSkills("Go, PostgreSQL ,, rust"), ["Go", "PostgreSQL", "rust"]);
  const date = new Date(2026, 11, 1, 17, 5);
  assert.equal(localDateTimeValue(date), "2026-12-01T17:05");
  assert.equal(parseLocalDateTime("2026-12-01T17:05")?.getTime(), date.getTime());
  assert.equal(parseLocalDateTime(""), undefined);
  assert.equal(taskStatusLabel(TaskStatus.IN_PROGRESS), "In progress");
  assert.equal(taskStatusLabel(99 as TaskStatus), "99");
  assert.equal(percentage(39, 40), "97.5%");
  assert.equal(percentage(3, 3), "100%");
  assert.equal(percentage(0, 0), "—");
});

Deno.test("a task draft is checked for what only the page can read", () => {
  const ok = parseDraft({
    title: "API",
    description: "",
    skills: "go, sql",
    budget: "500",
    currency: "USD",
    deadline: "",
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.budget, { currency: "USD", amountMinor: 50000n });
  assert.deepEqual(ok.skills, ["go", "sql"]);
  assert.equal(ok.deadline, undefined);
  const bad = parseDraft({ ...EMPTY, budget: "five hundred" });
  assert.ok(!bad.ok);
  assert.equal(bad.problem.field, "budget");
  // No skill: refused at the skills field, before anything is sent (the service refuses it too).
  for (const skills of ["", " , ,  "]) {
    const none = parseDraft({ ...EMPTY, skills, budget: "500" });
    assert.ok(!none.ok);
    assert.equal(none.problem.field, "required_skills");
    assert.match(none.problem.message, /^Required skills: must name at least one skill/);
  }
  // The service's own refusal names the same field.
  const refused = describeError(
    new ConnectError(
      "required_skills: must name at least one skill: a task always keeps at least one",
      Code.InvalidArgument,
    ),
    "Task Service",
  );
  assert.equal(refused.field, "required_skills");
});

const EMPTY = { title: "", description: "", skills: "", budget: "", currency: "USD", deadline: "" };

Deno.test("the session survives a reload, an expired one does not", () => {
  const data = new Map<string, string>();
  const storage = {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
  const session = {
    token: "t",
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    user: { id: "u", email: "a@b.c", role: "client" as const, displayName: "A" },
  };
  createSessionStore(storage).set(session);
  assert.deepEqual(createSessionStore(storage).get(), session);
  assert.equal(createSessionStore(storage, () => Date.now() + 120_000).get(), undefined);
  const store = createSessionStore(storage);
  store.set(undefined);
  assert.equal(data.size, 0, "signing out forgets the token");
  data.set("freelance-platform.session", "{not json");
  assert.equal(createSessionStore(storage).get(), undefined);
});

Deno.test("reachability: no answer marks a service down, any answer marks it up", () => {
  const connectivity = createConnectivity(() => 1000);
  connectivity.report("tasks", new ConnectError("Failed to fetch", Code.Unknown));
  assert.deepEqual(connectivity.store.get(), { tasks: { since: 1000 } });
  connectivity.report("tasks", new ConnectError("title: bad", Code.InvalidArgument));
  assert.deepEqual(connectivity.store.get(), {}, "an error answer is still an answer");
  connectivity.report("users", SERVICE_UNHEALTHY);
  assert.ok(connectivity.store.get().users);
  connectivity.report("users", undefined);
  assert.deepEqual(connectivity.store.get(), {});
});

Deno.test("a poll delivers, backs off after failures and stops for good", async () => {
  const seen: string[] = [];
  let calls = 0;
  const poll = startPoll(() => {
    calls++;
    return calls === 2 ? Promise.reject(new Error("down")) : Promise.resolve(calls);
  }, {
    intervalMs: 10,
    onValue: (n) => seen.push(`value ${n}`),
    onError: (e) => seen.push(`error ${(e as Error).message}`),
  });
  await new Promise((r) => setTimeout(r, 80));
  poll.stop();
  const after = calls;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(calls, after, "no load after stop");
  assert.deepEqual(seen.slice(0, 3), ["value 1", "error down", "value 3"]);
});

Deno.test("endpoints resolve against the page: same origin or another port", () => {
  assert.equal(resolveBase("", "http://localhost:8080/#/status"), "http://localhost:8080");
  assert.equal(
    resolveBase("/services/users/", "http://localhost:8080/"),
    "http://localhost:8080/services/users",
  );
  assert.equal(
    resolveBase("http://localhost:50051", "http://localhost:8080/"),
    "http://localhost:50051",
  );
});

Deno.test("a limit with retry-after says when to try again", () => {
  const limited = (seconds: string) =>
    describeError(
      new ConnectError("too many failed logins; try again in 2710 s", Code.ResourceExhausted, {
        "retry-after": seconds,
      }),
      "User Service",
    );
  assert.equal(limited("2710").message, "Too many attempts. Try again in 46 minutes.");
  assert.equal(limited("30").message, "Too many attempts. Try again in 30 seconds.");
  const plain = describeError(new ConnectError("too big", Code.ResourceExhausted), "User Service");
  assert.equal(plain.message, "Too much at once: Too big.");
});

Deno.test("a history entry reads as what happened, an edit with what it changed", () => {
  const entry = { from: TaskStatus.OPEN, to: TaskStatus.OPEN, reason: "edited", termsVersion: 2 };
  assert.equal(
    historyEntryText({
      ...entry,
      changes: [
        { field: "title", oldValue: "Old", newValue: "New" } as never,
        { field: "description", oldValue: "", newValue: "" } as never,
        { field: "required_skills", oldValue: "go", newValue: "go, sql" } as never,
      ],
    }),
    "Edited (terms v2): title “Old” → “New”; description changed; skills “go” → “go, sql”",
  );
  assert.equal(
    historyEntryText({ ...entry, from: TaskStatus.UNSPECIFIED, reason: "created", changes: [] }),
    "posted as Open — created",
  );
  assert.equal(
    historyEntryText({ ...entry, to: TaskStatus.CANCELLED, reason: "", changes: [] }),
    "Open → Cancelled",
  );
});
