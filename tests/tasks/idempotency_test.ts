/**
 * CreateTask's idempotency keys (issue 21): a retry with the same key answers the first task and
 * creates nothing (no second row, history row or task.created), even when the retries arrive
 * together (one group-commit batch); the key with another request is already_exists; keys are
 * per client; a key past its window is used again; a malformed key is invalid_argument.
 */
import assert from "node:assert/strict";
import {
  caller,
  rpc,
  startStack,
  startTasks,
  taskBody,
  testOptions,
  waitForEvents,
} from "./support.ts";

Deno.test("CreateTask with an idempotency key creates once", testOptions, async () => {
  const stack = await startStack("tasks_idempotency");
  const service = await startTasks(stack, { TASK_IDEMPOTENCY_WINDOW_HOURS: "1" });
  try {
    const client = await caller("client");
    const key = crypto.randomUUID();
    const body = taskBody({ title: "once only", idempotencyKey: key });

    const first = await rpc(service.url, "CreateTask", body, client);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const taskId = (first.body.task as { id: string }).id;

    // Retried one after the other, and ten at once (they share batches with each other).
    const again = await rpc(service.url, "CreateTask", body, client);
    assert.equal((again.body.task as { id: string }).id, taskId);
    const burst = await Promise.all(
      Array.from({ length: 10 }, () => rpc(service.url, "CreateTask", body, client)),
    );
    for (const r of burst) {
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal((r.body.task as { id: string }).id, taskId);
    }
    // A fresh key racing itself in one burst: one task for all of them.
    const racing = taskBody({ title: "raced", idempotencyKey: crypto.randomUUID() });
    const raced = await Promise.all(
      Array.from({ length: 10 }, () => rpc(service.url, "CreateTask", racing, client)),
    );
    const racedIds = new Set(raced.map((r) => (r.body.task as { id: string }).id));
    assert.equal(racedIds.size, 1, JSON.stringify(raced.map((r) => r.body)));

    // The same key with another request: refused, nothing created.
    const other = await rpc(
      service.url,
      "CreateTask",
      taskBody({ title: "something else", idempotencyKey: key }),
      client,
    );
    assert.equal(other.status, 409, JSON.stringify(other.body));
    assert.equal(other.body.code, "already_exists");
    assert.match(other.body.message!, /idempotency_key was already used/);

    // Keys are per client: another client's same key is its own task.
    const someoneElse = await rpc(service.url, "CreateTask", body, await caller("client"));
    assert.notEqual((someoneElse.body.task as { id: string }).id, taskId);

    // Malformed keys are the caller's mistake.
    const bad = await rpc(
      service.url,
      "CreateTask",
      taskBody({ idempotencyKey: "has spaces in it" }),
      client,
    );
    assert.equal(bad.body.code, "invalid_argument");

    const [{ n }] = await stack.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM tasks WHERE client_id = ${client.id}`;
    assert.equal(n, 2, "one task per key");
    const [{ history }] = await stack.sql<{ history: number }[]>`
      SELECT count(*)::int AS history FROM task_transitions
      WHERE task_id IN (SELECT id FROM tasks WHERE client_id = ${client.id})`;
    assert.equal(history, 2, "one history row per task");
    const events = await waitForEvents(stack.nats.url, "TASKS", "task.created", 3);
    await new Promise((r) => setTimeout(r, 1000));
    const mine = (await waitForEvents(stack.nats.url, "TASKS", "task.created", 3))
      .filter((e) => e.json.client_id === client.id);
    assert.ok(events.length >= 3);
    assert.equal(mine.length, 2, "one task.created per task");

    // Past its window, a key counts as unused: a new task.
    await stack.sql`UPDATE task_idempotency_keys SET created_at = now() - interval '2 hours'
                    WHERE key = ${key}`;
    const later = await rpc(service.url, "CreateTask", body, client);
    assert.notEqual((later.body.task as { id: string }).id, taskId);
  } finally {
    await service.stop();
    await stack.destroy();
  }
});

Deno.test("CreateTask takes its key from the Idempotency-Key header too", testOptions, async () => {
  const stack = await startStack("tasks_idempotency_header");
  const service = await startTasks(stack);
  try {
    const client = await caller("client");
    const send = async (
      headers: Record<string, string>,
      body = taskBody({ title: "by header" }),
    ) => {
      const res = await fetch(`${service.url}/platform.tasks.v1.TaskService/CreateTask`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${client.token}`,
          ...headers,
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    const key = crypto.randomUUID();
    const first = await send({ "idempotency-key": key });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await send({ "idempotency-key": key });
    assert.equal(again.body.task.id, first.body.task.id, "the header's key answers the first task");
    // The same key in the field answers it as well: one key, wherever it is sent.
    const field = await send({}, taskBody({ title: "by header", idempotencyKey: key }));
    assert.equal(field.body.task.id, first.body.task.id);
    // Field and header that differ: refused, naming the field.
    const both = await send(
      { "idempotency-key": crypto.randomUUID() },
      taskBody({ idempotencyKey: key }),
    );
    assert.equal(both.status, 400, JSON.stringify(both.body));
    assert.equal(both.body.code, "invalid_argument");
    assert.match(both.body.message, /idempotency_key/);
  } finally {
    await service.stop();
    await stack.destroy();
  }
});
