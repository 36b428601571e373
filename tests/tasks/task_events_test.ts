/**
 * Events that are never lost: the outbox under a NATS outage, two relays at once, a restart
 * mid-backlog, and the idempotent consumption of proposal.accepted.
 */
import assert from "node:assert/strict";
import {
  caller,
  publishJson,
  readStream,
  rpc,
  startStack,
  startTasks,
  type StreamMessage,
  taskBody,
  testOptions,
  waitForEvents,
} from "./support.ts";

function assertOnceEach(events: StreamMessage[], taskIds: Map<string, string>) {
  const byTask = new Map<string, number>();
  const msgIds = new Set<string>();
  for (const e of events) {
    const taskId = e.json.task_id as string;
    byTask.set(taskId, (byTask.get(taskId) ?? 0) + 1);
    assert.ok(e.msgId, "every event carries Nats-Msg-Id");
    assert.equal(e.msgId, e.json.event_id, "Nats-Msg-Id is the event id");
    assert.ok(!msgIds.has(e.msgId!), "no event id twice");
    msgIds.add(e.msgId!);
  }
  for (const [id, title] of taskIds) {
    assert.equal(byTask.get(id), 1, `task ${id} has exactly one task.created`);
    const event = events.find((e) => e.json.task_id === id)!;
    assert.equal(event.json.title, title);
  }
}

Deno.test(
  "loss test: NATS down, 100 tasks, NATS up, exactly 100 task.created",
  testOptions,
  async () => {
    const stack = await startStack("tasks_loss");
    const service = await startTasks(stack);
    try {
      const client = await caller("client");
      // The stream exists once the service is connected.
      const warm = await rpc(service.url, "CreateTask", taskBody({ title: "warm-up" }), client);
      assert.equal(warm.status, 200);
      await waitForEvents(stack.nats.url, "TASKS", "task.created", 1);

      await stack.nats.stop();
      const ready = await fetch(`${service.url}/readyz`);
      assert.equal(ready.status, 200, "readyz stays 200 while NATS is down");
      const tasks = new Map<string, string>();
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => {
        const title = `outage task ${i}`;
        return rpc(service.url, "CreateTask", taskBody({ title }), client).then((r) => ({
          r,
          title,
        }));
      }));
      for (const { r, title } of results) {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        tasks.set((r.body.task as { id: string }).id, title);
      }
      const health = await fetch(`${service.url}/health`);
      const report = await health.json();
      assert.equal(health.status, 503);
      assert.equal(report.checks.nats, "unhealthy");
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      assert.match(metrics, /outbox_backlog\{outbox="task_outbox"\} (\d+)/);
      assert.ok(Number(/outbox_backlog\{outbox="task_outbox"\} (\d+)/.exec(metrics)![1]) >= 100);

      await stack.nats.resume();
      const events = await waitForEvents(stack.nats.url, "TASKS", "task.created", 101, 30_000);
      const outage = events.filter((e) => tasks.has(e.json.task_id as string));
      assert.equal(outage.length, 100);
      assert.equal(events.length, 101);
      assertOnceEach(outage, tasks);
      // Give a late duplicate a chance to show up, then check again.
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await readStream(stack.nats.url, "TASKS", "task.created")).length, 101);
      const [{ n }] = await stack.sql`
      SELECT count(*)::int AS n FROM task_outbox WHERE published_at IS NULL`;
      assert.equal(n, 0);
    } finally {
      await service.stop();
      await stack.destroy();
    }
  },
);

Deno.test(
  "two replicas' relays publish each event once; a restart mid-backlog loses nothing",
  testOptions,
  async () => {
    const stack = await startStack("tasks_replicas");
    const a = await startTasks(stack);
    let b = await startTasks(stack, { OUTBOX_BATCH_SIZE: "7" });
    try {
      const client = await caller("client");
      const tasks = new Map<string, string>();
      const create = async (prefix: string, n: number, urls: string[]) => {
        const results = await Promise.all(Array.from({ length: n }, (_, i) => {
          const title = `${prefix} ${i}`;
          return rpc(urls[i % urls.length], "CreateTask", taskBody({ title }), client)
            .then((r) => ({ r, title }));
        }));
        for (const { r, title } of results) {
          assert.equal(r.status, 200, JSON.stringify(r.body));
          tasks.set((r.body.task as { id: string }).id, title);
        }
      };
      await create("replicas", 150, [a.url, b.url]);
      let events = await waitForEvents(stack.nats.url, "TASKS", "task.created", 150);
      assert.equal(events.length, 150);
      assertOnceEach(events, tasks);
      const published = async (url: string) => {
        const text = await (await fetch(`${url}/metrics`)).text();
        const m = /events_published_total\{subject="task.created",outbox="task_outbox"\} (\d+)/
          .exec(text);
        return m ? Number(m[1]) : 0;
      };
      const [pa, pb] = [await published(a.url), await published(b.url)];
      assert.equal(pa + pb, 150, `relays published ${pa} + ${pb}`);

      // Restart mid-backlog: NATS down, a backlog builds, one replica stops, NATS comes back,
      // a new replica starts; everything arrives once.
      await stack.nats.stop();
      await create("backlog", 60, [a.url, b.url]);
      const status = await b.stop();
      assert.equal(status.code, 0);
      await a.stop();
      await stack.nats.resume();
      b = await startTasks(stack);
      events = await waitForEvents(stack.nats.url, "TASKS", "task.created", 210, 30_000);
      assert.equal(events.length, 210);
      assertOnceEach(events, tasks);
    } finally {
      await Promise.allSettled([a.stop(), b.stop()]);
      await stack.destroy();
    }
  },
);

Deno.test("proposal.accepted assigns the task once, idempotently", testOptions, async () => {
  const stack = await startStack("tasks_consumer");
  const service = await startTasks(stack);
  try {
    const client = await caller("client");
    const dev = await caller("developer");
    const created = await rpc(service.url, "CreateTask", taskBody(), client);
    const taskId = (created.body.task as { id: string }).id;
    await waitForEvents(stack.nats.url, "TASKS", "task.created", 1);
    const eventId = crypto.randomUUID();
    const proposalId = crypto.randomUUID();
    const accepted = {
      event_id: eventId,
      proposal_id: proposalId,
      task_id: taskId,
      developer_id: dev.id,
      occurred_at: new Date().toISOString(),
      some_future_field: "ignored",
    };
    await publishJson(stack.nats.url, "proposal.accepted", accepted, eventId);
    // A redelivery under another message id (the dedupe window would drop the same one).
    await publishJson(stack.nats.url, "proposal.accepted", accepted, crypto.randomUUID());
    // A second event for the same developer: already assigned, a no-op.
    const again = { ...accepted, event_id: crypto.randomUUID() };
    await publishJson(stack.nats.url, "proposal.accepted", again, again.event_id);
    // Malformed and unknown-task events are terminated/ignored; the consumer carries on.
    await publishJson(stack.nats.url, "proposal.accepted", { task_id: 5 }, crypto.randomUUID());
    const ghost = { ...accepted, event_id: crypto.randomUUID(), task_id: crypto.randomUUID() };
    await publishJson(stack.nats.url, "proposal.accepted", ghost, ghost.event_id);
    // Poison ids PostgreSQL would refuse on every delivery: terminated, not retried forever.
    for (const poison of ["nul\u0000id", "x".repeat(300)]) {
      const bad = { ...accepted, event_id: poison };
      await publishJson(stack.nats.url, "proposal.accepted", bad, crypto.randomUUID());
    }

    const assigned = await waitForEvents(stack.nats.url, "TASKS", "task.assigned", 1);
    if (assigned.length === 0) console.log(service.process.lines.join("\n"));
    assert.equal(assigned.length, 1);
    assert.equal(assigned[0].json.task_id, taskId);
    assert.equal(assigned[0].json.developer_id, dev.id);
    assert.equal(assigned[0].json.proposal_id, proposalId);
    const changed = await waitForEvents(stack.nats.url, "TASKS", "task.status_changed", 1);
    assert.equal(changed[0].json.from, "TASK_STATUS_OPEN");
    assert.equal(changed[0].json.to, "TASK_STATUS_ASSIGNED");

    // Let every message be handled, then check nothing happened twice.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [{ n }] = await stack.sql`SELECT count(*)::int AS n FROM task_processed_events`;
      if (n >= 3 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const got = await rpc(service.url, "GetTask", { task_id: taskId }, client);
    const task = got.body.task as Record<string, unknown>;
    assert.equal(task.status, "TASK_STATUS_ASSIGNED");
    assert.equal(task.assignedDeveloperId, dev.id);
    const history = await stack.sql`
      SELECT from_status, to_status FROM task_transitions WHERE task_id = ${taskId} ORDER BY id`;
    assert.deepEqual(history.map((h) => h.to_status), ["OPEN", "ASSIGNED"]);
    assert.equal((await readStream(stack.nats.url, "TASKS", "task.assigned")).length, 1);
    assert.equal((await readStream(stack.nats.url, "TASKS", "task.status_changed")).length, 1);
    const malformedCount = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const m = /events_malformed_total\{consumer="taskservice-proposal-accepted"\} (\d+)/
        .exec(text);
      return m ? Number(m[1]) : 0;
    };
    let malformed = await malformedCount();
    while (malformed < 3 && Date.now() < deadline + 10_000) {
      await new Promise((r) => setTimeout(r, 200));
      malformed = await malformedCount();
    }
    assert.equal(malformed, 3, "the malformed event and the two poison ids are terminated");
    // The developer can now start it.
    const started = await rpc(service.url, "StartTask", { task_id: taskId }, dev);
    assert.equal(started.status, 200, JSON.stringify(started.body));
  } finally {
    await service.stop();
    await stack.destroy();
  }
});

Deno.test("starts while NATS is down; events follow once it is up", testOptions, async () => {
  const stack = await startStack("tasks_nats_late");
  await stack.nats.stop();
  const service = await startTasks(stack);
  try {
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
    const health = await (await fetch(`${service.url}/health`)).json();
    assert.deepEqual(health.checks, { database: "healthy", nats: "unhealthy" });
    const client = await caller("client");
    const created = await rpc(service.url, "CreateTask", taskBody({ title: "early" }), client);
    assert.equal(created.status, 200);
    await stack.nats.resume();
    const events = await waitForEvents(stack.nats.url, "TASKS", "task.created", 1, 30_000);
    assert.equal(events.length, 1);
    assert.equal(events[0].json.title, "early");
    assert.equal(events[0].json.task_id, (created.body.task as { id: string }).id);
  } finally {
    await service.stop();
    await stack.destroy();
  }
});

Deno.test(
  "after a NATS outage two replicas publish in outbox order: created before cancelled",
  testOptions,
  async () => {
    const stack = await startStack("tasks_order");
    await stack.nats.stop();
    const a = await startTasks(stack, { OUTBOX_BATCH_SIZE: "7" });
    const b = await startTasks(stack, { OUTBOX_BATCH_SIZE: "5" });
    try {
      const client = await caller("client");
      const urls = [a.url, b.url];
      const created = await Promise.all(
        Array.from(
          { length: 120 },
          (_, i) => rpc(urls[i % 2], "CreateTask", taskBody({ title: `order ${i}` }), client),
        ),
      );
      const ids = created.map((r) => {
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.task as { id: string }).id;
      });
      // Cancel every other task: task.status_changed(CANCELLED) follows its task.created.
      for (const [i, id] of ids.entries()) {
        if (i % 2) continue;
        const cancelled = await rpc(urls[(i / 2) % 2], "CancelTask", { task_id: id }, client);
        assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      }
      const outbox = await stack.sql<{ id: string }[]>`
        SELECT id FROM task_outbox WHERE subject LIKE 'task.%' ORDER BY seq`;
      assert.equal(outbox.length, 180);
      // Each cancellation also tells the client (notify.<client>.task_status_changed).
      const [{ n }] = await stack.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM task_outbox WHERE subject LIKE 'notify.%'`;
      assert.equal(n, 60);

      await stack.nats.resume();
      let events: StreamMessage[] = [];
      const deadline = Date.now() + 30_000;
      while (events.length < outbox.length && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        events = await readStream(stack.nats.url, "TASKS").catch(() => []);
      }
      // Every row was committed before NATS came back, so the stream is the outbox in seq order.
      assert.deepEqual(events.map((e) => e.msgId), outbox.map((r) => r.id));
      for (const [i, id] of ids.entries()) {
        const subjects = events.filter((e) => e.json.task_id === id).map((e) => e.subject);
        assert.deepEqual(
          subjects,
          i % 2 ? ["task.created"] : ["task.created", "task.status_changed"],
          `events of task ${i}`,
        );
      }
    } finally {
      await Promise.allSettled([a.stop(), b.stop()]);
      await stack.destroy();
    }
  },
);
