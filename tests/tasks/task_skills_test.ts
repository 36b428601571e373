/**
 * task_skills (services/tasks/migrations/071_task_skills.sql) follows the tasks it indexes in the
 * transaction that writes them: a new task's skills, a change of skills, a change of status; and
 * ListTasks with a skill, which reads through it, pages in the same order as without one.
 */
import assert from "node:assert/strict";
import { Database, migrate, readMigrations } from "@platform/lib/db";
import { PostgresServer } from "../harness/postgres_server.ts";
import { TaskStore } from "../../services/tasks/task_store.ts";

Deno.test({
  name: "task_skills follows the tasks, and a skill listing pages like the others",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await PostgresServer.start();
    const url = await pg.createDatabase("task_skills");
    const db = new Database(url, {
      maxConnections: 2,
      maxLifetimeSeconds: 60,
      idleTimeoutSeconds: 60,
      connectTimeoutSeconds: 5,
      queryTimeoutMs: 10_000,
    }, "task-skills-test");
    try {
      const sql = db.sql;
      await migrate(
        sql,
        "tasks",
        await readMigrations(new URL("../../services/tasks/migrations/", import.meta.url)),
      );
      const client = crypto.randomUUID();
      const ids = (await sql<{ id: string }[]>`
        INSERT INTO tasks (client_id, title, required_skills, budget_minor, currency, created_at)
        SELECT ${client}, 'task ' || i,
               CASE WHEN i % 2 = 0 THEN '["go", "sql"]' ELSE '["go"]' END::jsonb, 100, 'USD',
               timestamptz '2026-01-01' + make_interval(mins => i / 2)
        FROM generate_series(1, 9) i
        RETURNING id`).map((r) => r.id);
      const rows = async (id: string) =>
        (await sql<{ skill: string; status: string }[]>`
          SELECT skill, status FROM task_skills WHERE task_id = ${id} ORDER BY skill`)
          .map((r) => `${r.skill}:${r.status}`);
      assert.deepEqual(await rows(ids[1]), ["go:OPEN", "sql:OPEN"]);
      assert.deepEqual(await rows(ids[0]), ["go:OPEN"]);

      await sql`UPDATE tasks SET required_skills = '["rust", "go", "rust"]' WHERE id = ${ids[0]}`;
      assert.deepEqual(await rows(ids[0]), ["go:OPEN", "rust:OPEN"]);
      await sql`UPDATE tasks SET status = 'CANCELLED' WHERE id = ${ids[0]}`;
      assert.deepEqual(await rows(ids[0]), ["go:CANCELLED", "rust:CANCELLED"]);
      await sql`UPDATE tasks SET required_skills = '[]' WHERE id = ${ids[0]}`;
      assert.deepEqual(await rows(ids[0]), []);

      // Pages with a skill: the same tasks in the same order (created_at DESC, id DESC, ties
      // included) as the listing without one, filtered.
      const store = new TaskStore(db);
      const walk = async (skill?: string, status?: "OPEN") => {
        const seen: string[] = [];
        let after: { createdAt: Date; id: string } | undefined;
        for (;;) {
          const page = await store.list({ skill, status, pageSize: 2, after });
          seen.push(...page.slice(0, 2).map((t) => t.id));
          if (page.length <= 2) return seen;
          after = { createdAt: page[1].created_at, id: page[1].id };
        }
      };
      const all = await walk();
      const sqlTasks = new Set(ids.filter((_, i) => (i + 1) % 2 === 0));
      assert.deepEqual(await walk("sql"), all.filter((id) => sqlTasks.has(id)));
      assert.deepEqual(await walk("go", "OPEN"), all.filter((id) => id !== ids[0]));
    } finally {
      await db.close(1);
      await pg.destroy();
    }
  },
});
