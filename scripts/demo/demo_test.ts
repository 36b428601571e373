/**
 * `deno task demo` against the three real services (test harness PostgreSQL, NATS, Redis): it
 * makes the accounts, tasks, proposals and history it says, and a second run reuses them without
 * posting anything twice. The catalog is deterministic.
 */
import assert from "node:assert/strict";
import { tasksClient, usersClient } from "@platform/client";
import { TaskStatus } from "@platform/proto/tasks/v1";
import { PlatformEnv } from "../../tests/orchestrator/orchestrator_env.ts";
import { demoClient, demoDeveloper, demoTasks } from "./catalog.ts";
import { fillDemo } from "./fill.ts";

Deno.test("the catalog: deterministic, believable, unique logins and titles", () => {
  assert.deepEqual(demoDeveloper(3), demoDeveloper(3));
  const devs = Array.from({ length: 60 }, (_, n) => demoDeveloper(n));
  assert.equal(new Set(devs.map((d) => d.email)).size, 60);
  assert.ok(devs.every((d) => d.skills.length >= 3 && d.hourlyRateMinor >= 5000));
  assert.equal(demoClient(0).displayName, "Northwind Traders");
  const tasks = demoTasks(30, 8);
  const keys = tasks.map((t) => `${t.client}:${t.title}`);
  assert.equal(new Set(keys).size, 30, "a client never has two tasks of one title");
  assert.ok(tasks.every((t) => t.skills.length > 0 && t.budgetMinor > 0));
});

Deno.test({
  name: "deno task demo fills a platform through the RPCs, and a second run adds no duplicates",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const env = await PlatformEnv.start();
    try {
      const tasksService = await env.startTasks();
      const orchestrator = await env.startOrchestrator();
      const urls = {
        users: `http://127.0.0.1:${env.usersPort}`,
        tasks: tasksService.url,
        orchestrator: orchestrator.url,
      };
      const lines: string[] = [];
      const options = {
        urls,
        developers: 6,
        password: "demo password",
        proposalWaitMs: 15_000,
        log: (l: string) => lines.push(l),
      };
      const first = await fillDemo(options);
      assert.deepEqual(first.developers, { created: 6, existing: 0 });
      assert.deepEqual(first.clients, { created: 2, existing: 0 });
      assert.deepEqual(first.tasks, { created: 6, existing: 0 });
      assert.ok(first.proposals.accepted >= 1, JSON.stringify(first));
      assert.ok(first.transitions.started >= 1, JSON.stringify(first));
      assert.match(lines.join("\n"), /developers: 6 created/);

      // What a person signing in sees: a developer's profile, a client's tasks and their history.
      const users = usersClient(urls.users);
      const { accessToken, user } = await users.login({
        email: demoDeveloper(0).email,
        password: "demo password",
      });
      assert.equal(user?.displayName, demoDeveloper(0).displayName);
      assert.deepEqual(user?.skillTags, [...demoDeveloper(0).skills].sort());
      assert.ok(accessToken);
      const client = await users.login({ email: demoClient(0).email, password: "demo password" });
      const tasks = tasksClient(urls.tasks, { token: client.accessToken });
      const mine = (await tasks.listTasks({ mine: true, pageSize: 100 })).tasks;
      assert.equal(mine.length, 3);
      const moved = mine.filter((t) => t.status !== TaskStatus.OPEN);
      assert.ok(moved.length >= 1, "some of a client's tasks have moved on");
      const history = await tasks.getTaskHistory({ taskId: moved[0].id });
      assert.ok(history.transitions.length >= 2);

      const second = await fillDemo({ ...options, proposalWaitMs: 3_000 });
      assert.deepEqual(second.developers, { created: 0, existing: 6 });
      assert.deepEqual(second.clients, { created: 0, existing: 2 });
      assert.deepEqual(second.tasks, { created: 0, existing: 6 });
      const again = (await tasks.listTasks({ mine: true, pageSize: 100 })).tasks;
      assert.equal(again.length, 3, "no task posted twice");

      await assert.rejects(
        fillDemo({ ...options, password: "another password" }),
        /exists with another password/,
      );
    } finally {
      await env.stop();
    }
  },
});
