/**
 * The Task Service's part of the marketplace loop, over the wire with real PostgreSQL and NATS:
 * UpdateTask publishes task.updated (changed fields, terms version); an OPEN task whose deadline
 * passes becomes EXPIRED with its history row, task.expired, task.status_changed and the
 * client's notification; GetTaskHistory pages like the other lists; an acceptance made on older
 * terms does not assign the task.
 */
import assert from "node:assert/strict";
import {
  caller,
  publishJson,
  readStream,
  rpc,
  startStack,
  startTasks,
  taskBody,
  testOptions,
  waitForEvents,
} from "./support.ts";

Deno.test("task.updated, deadlines, paged history, stale acceptances", testOptions, async (t) => {
  const stack = await startStack("tasks_loop");
  const service = await startTasks(stack, { TASK_EXPIRY_SWEEP_MS: "100" });
  const url = service.url;
  try {
    const client = await caller("client");
    const admin = await caller("admin");

    await t.step("UpdateTask publishes task.updated with what changed", async () => {
      const created = await rpc(url, "CreateTask", taskBody(), client);
      const id = (created.body.task as { id: string }).id;
      const same = await rpc(
        url,
        "UpdateTask",
        { task_id: id, title: "Build a landing page" },
        client,
      );
      assert.equal(same.status, 200);
      const desc = await rpc(url, "UpdateTask", { task_id: id, description: "more" }, client);
      assert.equal((desc.body.task as { termsVersion: number }).termsVersion, 1);
      const terms = await rpc(url, "UpdateTask", {
        task_id: id,
        required_skills: { skills: ["Zig"] },
        budget: { currency: "USD", amount_minor: "200000" },
      }, client);
      assert.equal((terms.body.task as { termsVersion: number }).termsVersion, 2);
      const events = await waitForEvents(stack.nats.url, "TASKS", "task.updated", 2);
      const mine = events.filter((e) => e.json.task_id === id);
      // A no-op patch publishes nothing; a description-only change keeps the terms version.
      assert.deepEqual(mine.map((e) => e.json.changed_fields), [
        ["description"],
        ["required_skills", "budget"],
      ]);
      assert.deepEqual(mine.map((e) => e.json.terms_version), [1, 2]);
      assert.deepEqual(mine[1].json.required_skills, ["zig"]);
      assert.equal(mine[1].json.client_id, client.id);
      assert.equal(mine[1].json.actor_id, client.id);
    });

    await t.step("an OPEN task past its deadline is EXPIRED, with history and events", async () => {
      const created = await rpc(
        url,
        "CreateTask",
        taskBody({ deadline: new Date(Date.now() + 1500).toISOString() }),
        client,
      );
      const id = (created.body.task as { id: string }).id;
      const deadline = Date.now() + 10_000;
      let status = "";
      while (Date.now() < deadline && status !== "TASK_STATUS_EXPIRED") {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await rpc(url, "GetTask", { task_id: id }, client)).body.task as {
          status: string;
        }).status;
      }
      assert.equal(status, "TASK_STATUS_EXPIRED");
      const late = await rpc(url, "UpdateTask", { task_id: id, title: "too late" }, client);
      assert.equal(late.body.code, "failed_precondition");
      const cancel = await rpc(url, "CancelTask", { task_id: id }, client);
      assert.equal(cancel.body.code, "failed_precondition");
      const history = await rpc(url, "GetTaskHistory", { task_id: id }, client);
      const transitions = history.body.transitions as Array<Record<string, string>>;
      assert.deepEqual(transitions.map((tr) => tr.to), [
        "TASK_STATUS_OPEN",
        "TASK_STATUS_EXPIRED",
      ]);
      assert.equal(transitions[1].reason, "deadline passed");
      const expired = await waitForEvents(stack.nats.url, "TASKS", "task.expired", 1);
      assert.equal(expired.find((e) => e.json.task_id === id)?.json.client_id, client.id);
      const changes = await readStream(stack.nats.url, "TASKS", "task.status_changed");
      assert.ok(
        changes.some((e) => e.json.task_id === id && e.json.to === "TASK_STATUS_EXPIRED"),
      );
      const told = await waitForEvents(
        stack.nats.url,
        "NOTIFICATIONS",
        `notify.${client.id}.task_status_changed`,
        1,
      );
      assert.ok(told.some((e) => e.json.task_id === id));
      const listed = await rpc(url, "ListTasks", { status: "TASK_STATUS_EXPIRED" }, client);
      assert.ok((listed.body.tasks as Array<{ id: string }>).some((x) => x.id === id));
    });

    await t.step("GetTaskHistory pages like the other lists", async () => {
      const created = await rpc(url, "CreateTask", taskBody(), client);
      const id = (created.body.task as { id: string }).id;
      const dev = await caller("developer");
      await rpc(url, "AssignTask", { task_id: id, developer_id: dev.id }, admin);
      await rpc(url, "StartTask", { task_id: id }, dev);
      await rpc(url, "CompleteTask", { task_id: id }, dev);
      const seen: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await rpc(url, "GetTaskHistory", {
          task_id: id,
          page_size: 3,
          page_token: token,
        }, client);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        const transitions = page.body.transitions as Array<{ to: string }>;
        assert.ok(transitions.length <= 3);
        seen.push(...transitions.map((tr) => tr.to));
        token = (page.body.nextPageToken as string | undefined) ?? "";
        pages++;
      } while (token !== "");
      assert.equal(pages, 2);
      assert.deepEqual(seen, [
        "TASK_STATUS_OPEN",
        "TASK_STATUS_ASSIGNED",
        "TASK_STATUS_IN_PROGRESS",
        "TASK_STATUS_COMPLETED",
      ]);
      for (const bad of ["nope!", "aDow", btoa("h:99999999999999999999")]) {
        const res = await rpc(url, "GetTaskHistory", { task_id: id, page_token: bad }, client);
        assert.equal(res.body.code, "invalid_argument", bad);
        assert.match(res.body.message!, /page_token/);
      }
      const size = await rpc(url, "GetTaskHistory", { task_id: id, page_size: 101 }, client);
      assert.match(size.body.message!, /page_size/);
    });

    await t.step("an acceptance on older terms does not assign the task", async () => {
      const created = await rpc(url, "CreateTask", taskBody(), client);
      const id = (created.body.task as { id: string }).id;
      await rpc(url, "UpdateTask", { task_id: id, title: "New terms" }, client);
      const developer = crypto.randomUUID();
      const stale = crypto.randomUUID();
      await publishJson(stack.nats.url, "proposal.accepted", {
        event_id: stale,
        proposal_id: crypto.randomUUID(),
        task_id: id,
        developer_id: developer,
        terms_version: 1,
      }, stale);
      const current = crypto.randomUUID();
      await new Promise((r) => setTimeout(r, 1000));
      let task = (await rpc(url, "GetTask", { task_id: id }, client)).body.task as Record<
        string,
        unknown
      >;
      assert.equal(task.status, "TASK_STATUS_OPEN");
      await publishJson(stack.nats.url, "proposal.accepted", {
        event_id: current,
        proposal_id: crypto.randomUUID(),
        task_id: id,
        developer_id: developer,
        terms_version: 2,
      }, current);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && task.status !== "TASK_STATUS_ASSIGNED") {
        await new Promise((r) => setTimeout(r, 100));
        task = (await rpc(url, "GetTask", { task_id: id }, client)).body.task as Record<
          string,
          unknown
        >;
      }
      assert.equal(task.status, "TASK_STATUS_ASSIGNED");
      assert.equal(task.assignedDeveloperId, developer);
    });
  } finally {
    await service.stop();
    await stack.destroy();
  }
});
