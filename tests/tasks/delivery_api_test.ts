/**
 * Delivery and approval over the wire (issue 20), against the Task Service as a real process on
 * real PostgreSQL and NATS: the flows with their history, events and notifications; the
 * authorisation matrix of every new RPC (each refusal its Connect code, nothing written); bad
 * input; the approval mode fixed at creation; auto-approval by the sweeper; the metrics.
 */
import assert from "node:assert/strict";
import {
  type Caller,
  caller,
  readStream,
  rpc,
  startStack,
  startTasks,
  taskBody,
  testOptions,
  waitForEvents,
} from "./support.ts";

type Body = Record<string, unknown> & { code?: string; message?: string };

Deno.test("delivery and approval over the wire", testOptions, async (t) => {
  const stack = await startStack("tasks_delivery");
  const service = await startTasks(stack, {
    AUTO_APPROVE_AFTER: "2s",
    AUTO_APPROVE_SWEEP_MS: "200",
  });
  const url = service.url;
  const client = await caller("client");
  const otherClient = await caller("client");
  const dev = await caller("developer");
  const otherDev = await caller("developer");
  const admin = await caller("admin");
  const orchestrator = await caller("service", "orchestrator");
  const call = async (method: string, body: unknown, who?: Caller) => {
    const res = await rpc(url, method, body, who);
    return res as { status: number; body: Body };
  };
  const ok = async (method: string, body: unknown, who: Caller) => {
    const res = await call(method, body, who);
    assert.equal(res.status, 200, `${method}: ${JSON.stringify(res.body)}`);
    return res.body.task as Record<string, unknown>;
  };
  /** A task of `client`, assigned to `dev`, in the given state. */
  const taskIn = async (
    state: "ASSIGNED" | "IN_PROGRESS" | "SUBMITTED" | "DISPUTED",
    requiresApproval = true,
  ) => {
    const task = await ok("CreateTask", taskBody({ requiresApproval }), client);
    const id = task.id as string;
    await ok("AssignTask", { taskId: id, developerId: dev.id }, orchestrator);
    if (state === "ASSIGNED") return id;
    await ok("StartTask", { taskId: id }, dev);
    if (state === "IN_PROGRESS") return id;
    await ok(
      "SubmitWork",
      { taskId: id, note: "first cut", link: "https://example.com/pr/1" },
      dev,
    );
    if (state === "SUBMITTED") return id;
    await ok("OpenDispute", { taskId: id, reason: "not what we agreed" }, client);
    return id;
  };
  const counts = async () => {
    const [row] = await stack.sql`
      SELECT (SELECT count(*) FROM tasks)::int AS tasks,
             (SELECT count(*) FROM task_outbox)::int AS outbox,
             (SELECT count(*) FROM task_transitions)::int AS transitions,
             (SELECT string_agg(id::text || status || coalesce(assigned_developer_id::text, '') ||
                                submissions::text || dispute_reason, ',' ORDER BY id)
              FROM tasks) AS rows`;
    return row;
  };
  /** The events of `subject` about task `id`, once there are `count` of them. */
  const eventsOf = async (subject: string, id: string, count = 1) => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const mine = (await readStream(stack.nats.url, "TASKS", subject))
        .filter((m) => m.json.task_id === id);
      if (mine.length >= count) return mine;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no ${count} ${subject} for task ${id} within 20 s`);
  };
  const history = async (id: string) =>
    (await stack.sql<{ from_status: string | null; to_status: string; actor_id: string }[]>`
      SELECT from_status, to_status, actor_id FROM task_transitions WHERE task_id = ${id}
      ORDER BY id`).map((r) => `${r.from_status ?? "-"}>${r.to_status}`);

  try {
    await t.step("submit -> request changes -> submit -> approve, all recorded", async () => {
      const id = await taskIn("IN_PROGRESS");
      const submitted = await ok("SubmitWork", {
        taskId: id,
        note: "  landing page v1 ",
        link: "https://example.com/pr/7",
      }, dev);
      assert.equal(submitted.status, "TASK_STATUS_SUBMITTED");
      assert.equal(submitted.requiresApproval, true);
      const delivery = submitted.delivery as Record<string, unknown>;
      assert.equal(delivery.note, "landing page v1");
      assert.equal(delivery.link, "https://example.com/pr/7");
      assert.equal(delivery.submissions, 1);
      assert.ok(delivery.submittedAt);
      const back = await ok("RequestChanges", { taskId: id, note: "bigger logo" }, client);
      assert.equal(back.status, "TASK_STATUS_IN_PROGRESS");
      assert.equal((back.delivery as Record<string, unknown>).changeRequest, "bigger logo");
      const again = await ok("SubmitWork", { taskId: id, note: "v2" }, dev);
      assert.equal((again.delivery as Record<string, unknown>).submissions, 2);
      assert.equal((again.delivery as Record<string, unknown>).link ?? "", "");
      const done = await ok("ApproveWork", { taskId: id }, client);
      assert.equal(done.status, "TASK_STATUS_COMPLETED");
      assert.equal((done.delivery as Record<string, unknown>).approvalMode, "APPROVAL_MODE_MANUAL");
      assert.deepEqual(await history(id), [
        "->OPEN",
        "OPEN>ASSIGNED",
        "ASSIGNED>IN_PROGRESS",
        "IN_PROGRESS>SUBMITTED",
        "SUBMITTED>IN_PROGRESS",
        "IN_PROGRESS>SUBMITTED",
        "SUBMITTED>COMPLETED",
      ]);
      const hist = await call("GetTaskHistory", { taskId: id }, dev);
      const reasons = (hist.body.transitions as Array<{ reason?: string }>).map((r) => r.reason);
      assert.ok(reasons.includes("bigger logo"), JSON.stringify(reasons));
      // The events: one of each step, and the developer's notifications.
      const mine = await eventsOf("task.work_approved", id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].json.approval_mode, "APPROVAL_MODE_MANUAL");
      const submittedEvents = await eventsOf("task.work_submitted", id, 2);
      assert.equal(submittedEvents.length, 2);
      assert.equal(submittedEvents[0].json.link, "https://example.com/pr/7");
      const changes = await eventsOf("task.changes_requested", id);
      assert.equal(changes.length, 1);
      assert.equal(changes[0].json.note, "bigger logo");
      const toDev = await waitForEvents(
        stack.nats.url,
        "NOTIFICATIONS",
        `notify.${dev.id}.task_work_approved`,
        1,
      );
      assert.ok(toDev.some((m) => (m.json.task_id as string) === id));
      const askedDev = await readStream(
        stack.nats.url,
        "NOTIFICATIONS",
        `notify.${dev.id}.task_changes_requested`,
      );
      assert.ok(askedDev.some((m) => (m.json.task_id as string) === id));
      const toClient = (await readStream(
        stack.nats.url,
        "NOTIFICATIONS",
        `notify.${client.id}.task_status_changed`,
      )).filter((m) => m.json.task_id === id);
      assert.ok(toClient.length >= 4, `client told of each step: ${toClient.length}`);
    });

    await t.step("the approval mode is fixed at creation", async () => {
      const withApproval = await taskIn("IN_PROGRESS");
      const before = await counts();
      const refused = await call("CompleteTask", { taskId: withApproval }, dev);
      assert.equal(refused.body.code, "failed_precondition");
      assert.match(refused.body.message!, /SubmitWork/);
      const manual = await taskIn("IN_PROGRESS", false);
      const mid = await counts();
      const noSubmit = await call("SubmitWork", { taskId: manual, note: "done" }, dev);
      assert.equal(noSubmit.body.code, "failed_precondition");
      assert.match(noSubmit.body.message!, /CompleteTask/);
      assert.deepEqual(await counts(), mid);
      // The manual's flow is unchanged for a task created without approval.
      const completed = await ok("CompleteTask", { taskId: manual }, dev);
      assert.equal(completed.status, "TASK_STATUS_COMPLETED");
      assert.equal(completed.requiresApproval ?? false, false);
      assert.ok(before.tasks < mid.tasks);
    });

    await t.step("authorisation matrix: every new RPC, every kind of caller", async () => {
      const stranger = await caller("developer");
      const who: Record<string, Caller | undefined> = {
        anonymous: undefined,
        owner: client,
        otherClient,
        assignedDev: dev,
        otherDev,
        stranger,
        admin,
        service: orchestrator,
      };
      // For each RPC: the state it acts from, its body, and who may (the rest are refused).
      const rpcs: Array<{
        method: string;
        from: "ASSIGNED" | "IN_PROGRESS" | "SUBMITTED" | "DISPUTED";
        body: (id: string) => Record<string, unknown>;
        allowed: string[];
      }> = [
        {
          method: "SubmitWork",
          from: "IN_PROGRESS",
          body: (id) => ({ taskId: id, note: "here" }),
          allowed: ["assignedDev"],
        },
        {
          method: "ApproveWork",
          from: "SUBMITTED",
          body: (id) => ({ taskId: id }),
          allowed: ["owner", "admin"],
        },
        {
          method: "RequestChanges",
          from: "SUBMITTED",
          body: (id) => ({ taskId: id, note: "more" }),
          allowed: ["owner", "admin"],
        },
        {
          method: "WithdrawFromTask",
          from: "ASSIGNED",
          body: (id) => ({ taskId: id }),
          allowed: ["assignedDev"],
        },
        {
          method: "OpenDispute",
          from: "SUBMITTED",
          body: (id) => ({ taskId: id, reason: "no" }),
          allowed: ["owner", "assignedDev"],
        },
        {
          method: "ResolveDispute",
          from: "DISPUTED",
          body: (id) => ({ taskId: id, resolution: "DISPUTE_RESOLUTION_REFUND" }),
          allowed: ["admin"],
        },
      ];
      for (const r of rpcs) {
        const id = await taskIn(r.from);
        for (const [name, c] of Object.entries(who)) {
          if (r.allowed.includes(name)) continue;
          const before = await counts();
          const res = await call(r.method, r.body(id), c);
          const want = c === undefined ? "unauthenticated" : "permission_denied";
          assert.equal(res.body.code, want, `${r.method} by ${name}: ${JSON.stringify(res.body)}`);
          assert.deepEqual(await counts(), before, `${r.method} by ${name} wrote something`);
        }
        for (const name of r.allowed) {
          const fresh = await taskIn(r.from);
          const res = await call(r.method, r.body(fresh), who[name]);
          assert.equal(res.status, 200, `${r.method} by ${name}: ${JSON.stringify(res.body)}`);
        }
        // Unknown task: not_found, for an allowed caller.
        const unknown = await call(r.method, r.body(crypto.randomUUID()), who[r.allowed[0]]);
        assert.equal(
          unknown.body.code,
          "not_found",
          `${r.method}: ${JSON.stringify(unknown.body)}`,
        );
      }
    });

    await t.step("wrong state and twice: failed_precondition, nothing written", async () => {
      const submitted = await taskIn("SUBMITTED");
      await ok("ApproveWork", { taskId: submitted }, client);
      const before = await counts();
      const cases: Array<[string, Record<string, unknown>, Caller]> = [
        ["ApproveWork", { taskId: submitted }, client], // approving twice
        ["RequestChanges", { taskId: submitted, note: "late" }, client],
        ["OpenDispute", { taskId: submitted, reason: "late" }, dev],
        ["SubmitWork", { taskId: submitted, note: "again" }, dev],
        ["WithdrawFromTask", { taskId: submitted }, dev],
        ["ResolveDispute", { taskId: submitted, resolution: "DISPUTE_RESOLUTION_APPROVE" }, admin],
      ];
      for (const [method, body, who] of cases) {
        const res = await call(method, body, who);
        assert.equal(
          res.body.code,
          "failed_precondition",
          `${method}: ${JSON.stringify(res.body)}`,
        );
        assert.match(res.body.message!, /task is COMPLETED/);
      }
      const started = await taskIn("IN_PROGRESS");
      const mid = await counts();
      const withdrawLate = await call("WithdrawFromTask", { taskId: started }, dev);
      assert.equal(withdrawLate.body.code, "failed_precondition");
      const approveEarly = await call("ApproveWork", { taskId: started }, client);
      assert.equal(approveEarly.body.code, "failed_precondition");
      assert.deepEqual(await counts(), mid);
      assert.ok(before.tasks < mid.tasks);
    });

    await t.step("bad input: invalid_argument naming the field, nothing written", async () => {
      const inProgress = await taskIn("IN_PROGRESS");
      const disputed = await taskIn("DISPUTED");
      const before = await counts();
      const cases: Array<[string, Record<string, unknown>, Caller, string]> = [
        ["SubmitWork", { taskId: inProgress, note: "" }, dev, "note"],
        ["SubmitWork", { taskId: inProgress, note: "x".repeat(2001) }, dev, "note"],
        ["SubmitWork", { taskId: inProgress, note: "ok", link: "ftp://x.org/a" }, dev, "link"],
        [
          "SubmitWork",
          { taskId: inProgress, note: "ok", link: "javascript:alert(1)" },
          dev,
          "link",
        ],
        ["SubmitWork", { taskId: inProgress, note: "nul\u0000" }, dev, "note"],
        ["SubmitWork", { taskId: "nope", note: "ok" }, dev, "task_id"],
        ["RequestChanges", { taskId: inProgress, note: "  " }, client, "note"],
        ["OpenDispute", { taskId: inProgress, reason: "" }, client, "reason"],
        ["WithdrawFromTask", { taskId: inProgress, reason: "r".repeat(1001) }, dev, "reason"],
        ["ResolveDispute", { taskId: disputed }, admin, "resolution"],
        [
          "ResolveDispute",
          { taskId: disputed, resolution: "DISPUTE_RESOLUTION_SPLIT" },
          admin,
          "developer_share_bps",
        ],
        [
          "ResolveDispute",
          { taskId: disputed, resolution: "DISPUTE_RESOLUTION_SPLIT", developerShareBps: 10_000 },
          admin,
          "developer_share_bps",
        ],
        [
          "ResolveDispute",
          { taskId: disputed, resolution: "DISPUTE_RESOLUTION_REFUND", developerShareBps: 10 },
          admin,
          "developer_share_bps",
        ],
        ["ResolveDispute", { taskId: disputed, resolution: 42 }, admin, "resolution"],
      ];
      for (const [method, body, who, field] of cases) {
        const res = await call(method, body, who);
        assert.equal(res.body.code, "invalid_argument", `${method}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.message!.startsWith(field), `${field}: ${res.body.message}`);
      }
      assert.deepEqual(await counts(), before);
    });

    await t.step("disputes: approve, refund, split; either party opens one", async () => {
      const outcomes: Array<[string, number, string, string]> = [
        ["DISPUTE_RESOLUTION_APPROVE", 0, "TASK_STATUS_COMPLETED", "APPROVAL_MODE_DISPUTE"],
        ["DISPUTE_RESOLUTION_REFUND", 0, "TASK_STATUS_CANCELLED", ""],
        ["DISPUTE_RESOLUTION_SPLIT", 6000, "TASK_STATUS_COMPLETED", "APPROVAL_MODE_DISPUTE"],
      ];
      for (const [resolution, bps, status, mode] of outcomes) {
        const id = await taskIn("SUBMITTED");
        const disputed = await ok("OpenDispute", { taskId: id, reason: "late and broken" }, dev);
        assert.equal(disputed.status, "TASK_STATUS_DISPUTED");
        const d = disputed.delivery as Record<string, unknown>;
        assert.equal(d.disputedBy, dev.id);
        assert.equal(d.disputeReason, "late and broken");
        const resolved = await ok("ResolveDispute", {
          taskId: id,
          resolution,
          developerShareBps: bps,
          note: "looked at both sides",
        }, admin);
        assert.equal(resolved.status, status);
        const r = resolved.delivery as Record<string, unknown>;
        assert.equal(r.resolution, resolution);
        assert.equal(r.developerShareBps ?? 0, bps);
        assert.equal(r.approvalMode ?? "", mode);
        const [last] = await stack.sql`
          SELECT reason FROM task_transitions WHERE task_id = ${id} ORDER BY id DESC LIMIT 1`;
        assert.match(last.reason, /dispute resolved/);
        if (bps) assert.match(last.reason, /60% to the developer/);
        const [event] = await eventsOf("task.dispute_resolved", id);
        assert.equal(event.json.resolution, resolution);
        assert.equal(event.json.developer_share_bps ?? 0, bps);
      }
    });

    await t.step("withdraw before starting: OPEN again, no assignee, client told", async () => {
      const id = await taskIn("ASSIGNED", false);
      const open = await ok("WithdrawFromTask", { taskId: id, reason: "fell ill" }, dev);
      assert.equal(open.status, "TASK_STATUS_OPEN");
      assert.equal(open.assignedDeveloperId ?? "", "");
      const mine = await eventsOf("task.developer_withdrew", id);
      assert.equal(mine.length, 1);
      assert.equal(mine[0].json.developer_id, dev.id);
      assert.equal(mine[0].json.note, "fell ill");
      // The developer no longer sees it whole; another may now be assigned.
      await ok("AssignTask", { taskId: id, developerId: otherDev.id }, orchestrator);
    });

    await t.step("auto-approval after AUTO_APPROVE_AFTER, exactly once", async () => {
      const id = await taskIn("SUBMITTED");
      let status = "";
      for (let i = 0; i < 60 && status !== "COMPLETED"; i++) {
        await new Promise((r) => setTimeout(r, 200));
        [{ status }] = await stack.sql`SELECT status FROM tasks WHERE id = ${id}`;
      }
      assert.equal(status, "COMPLETED");
      const [row] = await stack.sql`SELECT approval_mode FROM tasks WHERE id = ${id}`;
      assert.equal(row.approval_mode, "AUTO");
      const rows = await stack.sql`
        SELECT actor_id FROM task_transitions WHERE task_id = ${id} AND to_status = 'COMPLETED'`;
      assert.equal(rows.length, 1);
      assert.equal(rows[0].actor_id, "service:tasks");
      const late = await call("ApproveWork", { taskId: id }, client);
      assert.equal(late.body.code, "failed_precondition");
    });

    await t.step("history stays in order when its ids gain a digit (9999 -> 10000)", async () => {
      // Regression: GetTaskHistory ordered by the id's text ("10000" before "9999").
      await stack.sql`SELECT setval('task_transitions_id_seq', 9997)`;
      const id = await taskIn("SUBMITTED");
      await ok("RequestChanges", { taskId: id, note: "again" }, client);
      const want = ["OPEN", "ASSIGNED", "IN_PROGRESS", "SUBMITTED", "IN_PROGRESS"];
      const whole = await call("GetTaskHistory", { taskId: id }, client);
      const to = (b: Body) =>
        (b.transitions as Array<{ to: string }>).map((x) => x.to.replace("TASK_STATUS_", ""));
      assert.deepEqual(to(whole.body), want);
      const paged: string[] = [];
      let pageToken = "";
      do {
        const page = await call("GetTaskHistory", { taskId: id, pageSize: 2, pageToken }, client);
        paged.push(...to(page.body));
        pageToken = (page.body.nextPageToken as string) ?? "";
      } while (pageToken);
      assert.deepEqual(paged, want);
    });

    await t.step("metrics", async () => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /task_submissions_total \d+/);
      assert.match(metrics, /task_approvals_total\{mode="manual"\} \d+/);
      assert.match(metrics, /task_approvals_total\{mode="auto"\} [1-9]/);
      assert.match(metrics, /task_approvals_total\{mode="dispute"\} [1-9]/);
      assert.match(metrics, /task_change_requests_total [1-9]/);
      assert.match(metrics, /task_withdrawals_total [1-9]/);
      assert.match(metrics, /task_disputes_opened_total [1-9]/);
      assert.match(metrics, /task_disputes_resolved_total\{resolution="split"\} 1/);
    });
  } finally {
    if (Deno.env.get("DEBUG_LOGS")) {
      for (const l of service.logs()) if (l.level === "error") console.error(JSON.stringify(l));
    }
    await service.stop();
    await stack.destroy();
  }
});
