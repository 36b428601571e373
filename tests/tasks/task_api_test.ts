/**
 * The Task Service over the wire: Connect JSON with fetch, and the Connect and gRPC-web clients.
 * CRUD, the lifecycle and its history, bad input (code, field, nothing written), authorisation.
 */
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { caller, rpc, startStack, startTasks, taskBody, testOptions } from "./support.ts";

Deno.test("task service API", testOptions, async (t) => {
  const stack = await startStack("tasks_api");
  const service = await startTasks(stack);
  const url = service.url;
  const client = await caller("client");
  const other = await caller("client");
  const dev = await caller("developer");
  const dev2 = await caller("developer");
  const admin = await caller("admin");
  const orchestrator = await caller("service", "orchestrator");
  const auth = (c: { token: string }) => ({ headers: { authorization: `Bearer ${c.token}` } });
  const connectClient = createClient(TaskService, createConnectTransport({ baseUrl: url }));
  const webClient = createClient(TaskService, createGrpcWebTransport({ baseUrl: url }));
  const counts = async () => {
    const [row] = await stack.sql`
      SELECT (SELECT count(*) FROM tasks)::int AS tasks,
             (SELECT count(*) FROM task_outbox)::int AS outbox,
             (SELECT count(*) FROM task_transitions)::int AS transitions`;
    return row;
  };

  try {
    await t.step("create, get, list over Connect JSON", async () => {
      const created = await rpc(url, "CreateTask", taskBody(), client);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const task = created.body.task as Record<string, unknown>;
      assert.equal(task.status, "TASK_STATUS_OPEN");
      assert.deepEqual(task.requiredSkills, ["css", "typescript"]);
      assert.deepEqual(task.budget, { currency: "USD", amountMinor: "150000" });
      assert.equal(task.clientId, client.id);
      const got = await rpc(url, "GetTask", { task_id: task.id }, dev);
      assert.equal(got.status, 200);
      assert.equal((got.body.task as Record<string, unknown>).title, "Build a landing page");
      const [{ n }] = await stack.sql`SELECT count(*)::int AS n FROM tasks WHERE status = 'OPEN'`;
      assert.equal(n, 1);
    });

    await t.step("Connect and gRPC-web clients: lifecycle with history", async () => {
      const deadline = timestampFromDate(new Date(Date.now() + 7 * 86_400_000));
      const { task } = await connectClient.createTask({
        title: "  Port the API  ",
        requiredSkills: ["go", "Go", "postgres"],
        budget: { currency: "eur", amountMinor: 99_00n },
        deadline,
      }, auth(client));
      assert.ok(task);
      assert.equal(task.title, "Port the API");
      assert.deepEqual(task.requiredSkills, ["go", "postgres"]);
      assert.equal(task.budget?.currency, "EUR");
      const id = task.id;

      const updated = await webClient.updateTask(
        { taskId: id, title: "Port the API to Deno", requiredSkills: { skills: ["deno"] } },
        auth(client),
      );
      assert.equal(updated.task?.title, "Port the API to Deno");
      assert.deepEqual(updated.task?.requiredSkills, ["deno"]);

      const assigned = await webClient.assignTask({ taskId: id, developerId: dev.id }, auth(admin));
      assert.equal(assigned.task?.status, TaskStatus.ASSIGNED);
      assert.equal(assigned.task?.assignedDeveloperId, dev.id);
      // Same developer again: a no-op, not an error.
      await connectClient.assignTask({ taskId: id, developerId: dev.id }, auth(orchestrator));

      // Update is only while OPEN.
      await assert.rejects(
        connectClient.updateTask({ taskId: id, title: "late" }, auth(client)),
        (e: ConnectError) => e.code === Code.FailedPrecondition && /ASSIGNED/.test(e.message),
      );
      // Another developer may not start it.
      await assert.rejects(
        connectClient.startTask({ taskId: id }, auth(dev2)),
        (e: ConnectError) => e.code === Code.PermissionDenied,
      );
      // Completing before starting is out of order.
      await assert.rejects(
        connectClient.completeTask({ taskId: id }, auth(dev)),
        (e: ConnectError) =>
          e.code === Code.FailedPrecondition && /task is ASSIGNED/.test(e.message),
      );
      assert.equal(
        (await webClient.startTask({ taskId: id }, auth(dev))).task?.status,
        TaskStatus.IN_PROGRESS,
      );
      await assert.rejects(
        connectClient.cancelTask({ taskId: id }, auth(client)),
        (e: ConnectError) => e.code === Code.FailedPrecondition && /IN_PROGRESS/.test(e.message),
      );
      assert.equal(
        (await connectClient.completeTask({ taskId: id }, auth(dev))).task?.status,
        TaskStatus.COMPLETED,
      );
      // The history is for those who see the task whole: another client gets not_found, as for an
      // unknown task; the assigned developer, the owner and admins read it.
      await assert.rejects(
        webClient.getTaskHistory({ taskId: id }, auth(other)),
        (e: ConnectError) => e.code === Code.NotFound,
      );
      assert.equal(
        (await webClient.getTaskHistory({ taskId: id }, auth(dev))).transitions.length,
        5,
      );
      const history = await webClient.getTaskHistory({ taskId: id }, auth(admin));
      assert.deepEqual(
        history.transitions.map((tr) => [tr.from, tr.to, tr.actorId]),
        [
          [TaskStatus.UNSPECIFIED, TaskStatus.OPEN, client.id],
          [TaskStatus.OPEN, TaskStatus.OPEN, client.id], // the edit
          [TaskStatus.OPEN, TaskStatus.ASSIGNED, admin.id],
          [TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, dev.id],
          [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, dev.id],
        ],
      );
      assert.ok(history.transitions.every((tr) => tr.at));
      assert.deepEqual(history.transitions.map((tr) => tr.termsVersion), [1, 2, 2, 2, 2]);
    });

    await t.step(
      "edits say what they change: history, no skill-less task, no unknown field",
      async () => {
        const task = (await rpc(url, "CreateTask", taskBody({ title: "Edit me" }), client)).body
          .task as Record<string, string>;
        const id = task.id;
        const deadline = new Date(Date.now() + 3 * 86_400_000);
        const edited = await rpc(url, "UpdateTask", {
          task_id: id,
          title: "Edited",
          description: "new words",
          budget: { currency: "USD", amount_minor: "200000" },
          deadline: deadline.toISOString(),
        }, client);
        assert.equal(edited.status, 200, JSON.stringify(edited.body));
        // A change of description alone is an edit too, but not of terms.
        assert.equal(
          (await rpc(url, "UpdateTask", { task_id: id, description: "again" }, client)).status,
          200,
        );
        // Nothing changed: no entry.
        assert.equal(
          (await rpc(url, "UpdateTask", { task_id: id, title: "Edited" }, client)).status,
          200,
        );
        const before = await counts();
        // A task always keeps a skill, and a misspelt field is named, not taken for unset.
        for (
          const [body, pattern] of [
            [
              { task_id: id, required_skills: { skills: [] } },
              /required_skills\.skills: must name at least one skill/,
            ],
            [
              { task_id: id, requiredSkills: {} },
              /required_skills\.skills: must name at least one skill/,
            ],
            [
              { task_id: id, required_skills: { tags: ["go"] } },
              /required_skills\.tags: unknown field "tags" of SkillList/,
            ],
            [
              { task_id: id, skills: ["go"] },
              /skills: unknown field "skills" of UpdateTaskRequest/,
            ],
          ] as const
        ) {
          const refused = await rpc(url, "UpdateTask", body, client);
          assert.equal(refused.status, 400, JSON.stringify(refused.body));
          assert.equal(refused.body.code, "invalid_argument");
          assert.match(refused.body.message ?? "", pattern);
        }
        await assert.rejects(
          webClient.updateTask({ taskId: id, requiredSkills: { skills: [] } }, auth(client)),
          (e: ConnectError) =>
            e.code === Code.InvalidArgument && /at least one skill/.test(e.message),
        );
        assert.deepEqual(await counts(), before);
        const got = await connectClient.getTask({ taskId: id }, auth(client));
        assert.deepEqual(got.task?.requiredSkills, ["css", "typescript"]);

        const history = await connectClient.getTaskHistory({ taskId: id }, auth(client));
        assert.deepEqual(
          history.transitions.map((tr) => [tr.from, tr.to, tr.reason, tr.termsVersion]),
          [
            [TaskStatus.UNSPECIFIED, TaskStatus.OPEN, "created", 1],
            [TaskStatus.OPEN, TaskStatus.OPEN, "edited", 2],
            [TaskStatus.OPEN, TaskStatus.OPEN, "edited", 2],
          ],
        );
        assert.deepEqual(
          history.transitions[1].changes.map((c) => [c.field, c.oldValue, c.newValue]),
          [
            ["title", "Edit me", "Edited"],
            ["description", "", ""],
            ["budget", "USD 1500.00", "USD 2000.00"],
            ["deadline", "", deadline.toISOString()],
          ],
        );
        assert.deepEqual(history.transitions[2].changes.map((c) => c.field), ["description"]);
        assert.equal(history.transitions[0].changes.length, 0);
      },
    );

    await t.step("cancel: owner from OPEN or ASSIGNED; admin too; others not", async () => {
      const a = (await connectClient.createTask(taskBodyPb(), auth(client))).task!;
      await assert.rejects(
        connectClient.cancelTask({ taskId: a.id }, auth(other)),
        (e: ConnectError) => e.code === Code.PermissionDenied,
      );
      await assert.rejects(
        connectClient.cancelTask({ taskId: a.id }, auth(dev)),
        (e: ConnectError) => e.code === Code.PermissionDenied,
      );
      const cancelled = await connectClient.cancelTask(
        { taskId: a.id, reason: "not needed" },
        auth(client),
      );
      assert.equal(cancelled.task?.status, TaskStatus.CANCELLED);
      await assert.rejects(
        connectClient.cancelTask({ taskId: a.id }, auth(client)),
        (e: ConnectError) => e.code === Code.FailedPrecondition && /CANCELLED/.test(e.message),
      );
      const b = (await connectClient.createTask(taskBodyPb(), auth(client))).task!;
      await connectClient.assignTask({ taskId: b.id, developerId: dev.id }, auth(admin));
      const byAdmin = await connectClient.cancelTask({ taskId: b.id }, auth(admin));
      assert.equal(byAdmin.task?.status, TaskStatus.CANCELLED);
      const hist = await connectClient.getTaskHistory({ taskId: a.id }, auth(client));
      assert.equal(hist.transitions.at(-1)?.reason, "not needed");
    });

    await t.step("authorisation", async () => {
      const created = await rpc(url, "CreateTask", taskBody(), dev);
      assert.equal(created.status, 403);
      assert.equal(created.body.code, "permission_denied");
      const noToken = await rpc(url, "GetTask", { task_id: crypto.randomUUID() });
      assert.equal(noToken.body.code, "unauthenticated");
      const own = (await connectClient.createTask(taskBodyPb(), auth(client))).task!;
      const upd = await rpc(url, "UpdateTask", { task_id: own.id, title: "mine now" }, other);
      assert.equal(upd.body.code, "permission_denied");
      const byAdmin = await rpc(url, "UpdateTask", { task_id: own.id, title: "admin edit" }, admin);
      assert.equal(byAdmin.status, 200);
      const assignByClient = await rpc(
        url,
        "AssignTask",
        { task_id: own.id, developer_id: dev.id },
        client,
      );
      assert.equal(assignByClient.body.code, "permission_denied");
      const unknown = await rpc(url, "GetTask", { task_id: crypto.randomUUID() }, client);
      assert.equal(unknown.body.code, "not_found");
      const unknownCancel = await rpc(url, "CancelTask", { task_id: crypto.randomUUID() }, client);
      assert.equal(unknownCancel.body.code, "not_found");
    });

    await t.step("list: filters, mine, skill, cursor pagination", async () => {
      const lister = await caller("client");
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await rpc(
          url,
          "CreateTask",
          taskBody({ title: `list ${i}`, requiredSkills: i % 2 ? ["rust"] : ["elixir"] }),
          lister,
        );
        ids.push((res.body.task as { id: string }).id);
      }
      const seen: string[] = [];
      let token = "";
      do {
        const page = await connectClient.listTasks(
          { mine: true, pageSize: 3, pageToken: token },
          auth(lister),
        );
        assert.ok(page.tasks.length <= 3);
        seen.push(...page.tasks.map((x) => x.id));
        token = page.nextPageToken;
      } while (token !== "");
      assert.deepEqual(seen, [...ids].reverse());
      const rust = await connectClient.listTasks({ mine: true, skill: "RUST" }, auth(lister));
      assert.equal(rust.tasks.length, 3);
      const cancelled = await connectClient.listTasks(
        { status: TaskStatus.CANCELLED, pageSize: 100 },
        auth(admin),
      );
      assert.ok(cancelled.tasks.every((x) => x.status === TaskStatus.CANCELLED));
      assert.ok(cancelled.tasks.length >= 2);
      // Developers browse OPEN tasks only (no assignee), or list the tasks assigned to them.
      const browsing = await connectClient.listTasks({ pageSize: 100 }, auth(dev2));
      assert.ok(browsing.tasks.length > 0);
      assert.ok(
        browsing.tasks.every((x) => x.status === TaskStatus.OPEN && !x.assignedDeveloperId),
      );
      const notOpen = await rpc(url, "ListTasks", { status: "TASK_STATUS_CANCELLED" }, dev2);
      assert.equal(notOpen.body.code, "invalid_argument");
      const mine = await connectClient.listTasks({ assignedToMe: true, pageSize: 100 }, auth(dev));
      assert.ok(mine.tasks.length >= 2);
      assert.ok(mine.tasks.every((x) => x.assignedDeveloperId === dev.id));
      assert.equal(
        (await connectClient.listTasks({ assignedToMe: true }, auth(dev2))).tasks.length,
        0,
      );
      const assignedClient = await rpc(url, "ListTasks", { assigned_to_me: true }, lister);
      assert.equal(assignedClient.body.code, "invalid_argument");
      // A client lists only their own tasks, with or without mine.
      const ownOnly = await connectClient.listTasks({ pageSize: 100 }, auth(lister));
      assert.deepEqual(ownOnly.tasks.map((x) => x.id).sort(), [...ids].sort());
      const bad = await rpc(url, "ListTasks", { page_token: "not-a-token!" }, lister);
      assert.equal(bad.body.code, "invalid_argument");
      assert.match(bad.body.message!, /page_token/);
      const bad2 = await rpc(url, "ListTasks", { page_token: "eyJ4IjoxfQ" }, lister);
      assert.equal(bad2.body.code, "invalid_argument");
      const size = await rpc(url, "ListTasks", { page_size: 1000 }, lister);
      assert.match(size.body.message!, /page_size/);
      const mineDev = await rpc(url, "ListTasks", { mine: true }, dev);
      assert.equal(mineDev.body.code, "invalid_argument");
    });

    await t.step(
      "CreateTask without a skill: invalid_argument naming required_skills, nothing written",
      async () => {
        const before = await counts();
        const withoutSkills: Record<string, unknown>[] = [
          taskBody({ requiredSkills: [] }),
          taskBody({ requiredSkills: undefined }),
          taskBody({ requiredSkills: ["  ", ""] }),
        ];
        for (const body of withoutSkills) {
          const res = await rpc(url, "CreateTask", body, client);
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.equal(res.body.code, "invalid_argument");
          assert.match(res.body.message!, /^required_skills: must name at least one skill/);
        }
        await assert.rejects(
          connectClient.createTask({
            title: "No skills",
            requiredSkills: [],
            budget: { currency: "USD", amountMinor: 100n },
          }, auth(client)),
          (e: ConnectError) =>
            e.code === Code.InvalidArgument && /^required_skills: /.test(e.rawMessage),
        );
        assert.deepEqual(await counts(), before);
      },
    );

    await t.step("bad input: invalid_argument naming the field, nothing written", async () => {
      const before = await counts();
      const past = new Date(Date.now() - 60_000).toISOString();
      const far = new Date(Date.now() + 3 * 366 * 86_400_000).toISOString();
      const cases: Array<[Record<string, unknown>, string]> = [
        [taskBody({ title: "" }), "title"],
        [taskBody({ title: "   " }), "title"],
        [taskBody({ title: "x".repeat(201) }), "title"],
        [taskBody({ description: "d".repeat(10_001) }), "description"],
        [taskBody({ budget: { currency: "USD", amountMinor: "-5" } }), "budget.amount_minor"],
        [taskBody({ budget: { currency: "USD", amountMinor: "0" } }), "budget.amount_minor"],
        [
          taskBody({ budget: { currency: "USD", amountMinor: "999999999999999" } }),
          "budget.amount_minor",
        ],
        [taskBody({ budget: { currency: "XYZ", amountMinor: "100" } }), "budget.currency"],
        [taskBody({ budget: undefined }), "budget"],
        [taskBody({ deadline: past }), "deadline"],
        [taskBody({ deadline: far }), "deadline"],
        [
          taskBody({ requiredSkills: Array.from({ length: 21 }, (_, i) => `skill${i}`) }),
          "required_skills",
        ],
        [taskBody({ requiredSkills: ["has/slash"] }), "required_skills"],
        [taskBody({ title: "nul\u0000byte" }), "title"],
        [taskBody({ title: "bell\u0007" }), "title"],
        [taskBody({ description: "nul \u0000 in text" }), "description"],
      ];
      for (const [body, fieldName] of cases) {
        const res = await rpc(url, "CreateTask", body, client);
        assert.equal(res.status, 400, `${fieldName}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, "invalid_argument");
        assert.ok(res.body.message!.startsWith(fieldName), `${fieldName}: ${res.body.message}`);
      }
      const badId = await rpc(url, "GetTask", { task_id: "nope" }, client);
      assert.equal(badId.body.code, "invalid_argument");
      assert.match(badId.body.message!, /task_id/);
      const own = (await connectClient.createTask(taskBodyPb(), auth(client))).task!;
      const mid = await counts();
      const badUpdate = await rpc(url, "UpdateTask", { task_id: own.id, title: "" }, client);
      assert.equal(badUpdate.body.code, "invalid_argument");
      const badAssign = await rpc(url, "AssignTask", { task_id: own.id, developer_id: "x" }, admin);
      assert.match(badAssign.body.message!, /developer_id/);
      const nulUpdate = await rpc(url, "UpdateTask", { task_id: own.id, title: "a\u0000" }, client);
      assert.equal(nulUpdate.body.code, "invalid_argument");
      assert.match(nulUpdate.body.message!, /^title/);
      const nulReason = await rpc(
        url,
        "CancelTask",
        { task_id: own.id, reason: "why\u0000not" },
        client,
      );
      assert.equal(nulReason.body.code, "invalid_argument", JSON.stringify(nulReason.body));
      assert.match(nulReason.body.message!, /^reason/);
      const badStatus = await rpc(url, "ListTasks", { status: 99 }, client);
      assert.equal(badStatus.body.code, "invalid_argument", JSON.stringify(badStatus.body));
      assert.match(badStatus.body.message!, /^status/);
      const forge = (createdAt: string, id: unknown) =>
        btoa(JSON.stringify([createdAt, id])).replaceAll("+", "-").replaceAll("/", "_")
          .replace(/=+$/, "");
      for (
        const pageToken of [
          forge("0000-01-01T00:00:00.000Z", crypto.randomUUID()),
          forge("-271821-04-20T00:00:00.000Z", crypto.randomUUID()),
          forge("+275760-09-13T00:00:00.000Z", crypto.randomUUID()),
          forge("2026-01-01T00:00:00.000Z", [crypto.randomUUID()]),
        ]
      ) {
        const forged = await rpc(url, "ListTasks", { page_token: pageToken }, client);
        assert.equal(forged.body.code, "invalid_argument", JSON.stringify(forged.body));
        assert.match(forged.body.message!, /^page_token/);
      }
      const outOfOrder = await rpc(url, "StartTask", { task_id: own.id }, dev);
      assert.equal(outOfOrder.body.code, "permission_denied"); // not the assigned developer
      assert.deepEqual(await counts(), mid);
      assert.equal(mid.tasks, before.tasks + 1);
      const after = await stack.sql`SELECT title FROM tasks WHERE id = ${own.id}`;
      assert.equal(after[0].title, "Fix the build");
    });

    await t.step("health and metrics", async () => {
      const health = await fetch(`${url}/health`);
      const body = await health.json();
      assert.equal(health.status, 200);
      assert.deepEqual(body.checks, { database: "healthy", nats: "healthy" });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /tasks_created_total \d+/);
      assert.match(metrics, /outbox_backlog\{outbox="task_outbox"\} \d+/);
      assert.match(metrics, /outbox_oldest_event_age_seconds\{outbox="task_outbox"\}/);
      assert.match(
        metrics,
        /events_published_total\{subject="task.created",outbox="task_outbox"\}/,
      );
    });
  } finally {
    await service.stop();
    await stack.destroy();
  }
});

function taskBodyPb() {
  return {
    title: "Fix the build",
    requiredSkills: ["ci"],
    budget: { currency: "GBP", amountMinor: 5000n },
  };
}
