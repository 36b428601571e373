/**
 * Retention against a real PostgreSQL with the platform's schema: old published outbox rows and
 * the orchestrator's rows of long-closed tasks go, in batches; everything still needed stays.
 */
import assert from "node:assert/strict";
import { maintenanceCli } from "./maintenance.ts";
import type { MaintenanceReport } from "./maintenance/run_maintenance.ts";
import { trimClosedTasks, trimOutbox } from "./maintenance/retention.ts";
import { captureOutput } from "./shared/output.ts";
import { startPlatformDb } from "./testing/platform_db.ts";

Deno.test({
  name: "retention",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const db = await startPlatformDb();
    const { sql } = db;
    const count = async (query: string) =>
      Number((await sql.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${query}`))[0].n);
    try {
      await t.step("outbox: published rows older than the days go, oldest first", async () => {
        // seq order: 12 old published, 1 old unpublished (it stays), 3 old published
        // after it, 5 young published.
        await sql.unsafe(`
          INSERT INTO task_outbox (id, subject, payload, created_at, published_at)
          SELECT gen_random_uuid(), 'task.created', '{}', now() - interval '30 days',
                 now() - interval '30 days' FROM generate_series(1, 12);
          INSERT INTO task_outbox (id, subject, payload, created_at)
          VALUES (gen_random_uuid(), 'task.created', '{}', now() - interval '30 days');
          INSERT INTO task_outbox (id, subject, payload, created_at, published_at)
          SELECT gen_random_uuid(), 'task.created', '{}', now() - interval '30 days',
                 now() - interval '30 days' FROM generate_series(1, 3);
          INSERT INTO task_outbox (id, subject, payload, created_at, published_at)
          SELECT gen_random_uuid(), 'task.created', '{}', now(), now() FROM generate_series(1, 5);`);
        const settings = { outboxDays: 7, closedTaskDays: 365, batch: 5 };
        assert.deepEqual(await trimOutbox(sql, "task_outbox", settings), {
          table: "task_outbox",
          deleted: 15,
        });
        // The unpublished one stays (the relay still owes it), and so do the young ones.
        assert.equal(await count("task_outbox WHERE published_at IS NULL"), 1);
        assert.equal(await count("task_outbox"), 6);
        // Once it is published, the next run takes it.
        await sql`UPDATE task_outbox SET published_at = created_at WHERE published_at IS NULL`;
        assert.equal((await trimOutbox(sql, "task_outbox", settings)).deleted, 1);
        assert.equal(await count("task_outbox"), 5);
        assert.equal(
          (await trimOutbox(sql, "task_outbox", { ...settings, outboxDays: 0 })).deleted,
          0,
        );
      });

      await t.step(
        "closed tasks: their match row, proposals and terms go after the days",
        async () => {
          // 7 tasks closed 400 days ago, 2 closed 10 days ago, 3 still open (PROPOSED) and old.
          await sql.unsafe(`
          INSERT INTO match_tasks (task_id, client_id, state, updated_at)
          SELECT gen_random_uuid(), gen_random_uuid(), s, now() - make_interval(days => d)
          FROM (VALUES ('CLOSED', 400, 7), ('CLOSED', 10, 2), ('PROPOSED', 400, 3)) v(s, d, n),
               generate_series(1, n);
          INSERT INTO match_task_terms (task_id, terms_version) SELECT task_id, 1 FROM match_tasks;
          INSERT INTO proposals (task_id, developer_id, score, status, expires_at)
          SELECT task_id, gen_random_uuid(), 0.5, 'EXPIRED', now() FROM match_tasks,
                 generate_series(1, 3);`);
          const result = await trimClosedTasks(sql, {
            outboxDays: 7,
            closedTaskDays: 365,
            batch: 8,
          });
          assert.deepEqual(result, {
            table: "match_tasks",
            deleted: 7,
            alsoDeleted: { proposals: 21, match_task_terms: 7 },
          });
          assert.equal(await count("match_tasks WHERE state = 'CLOSED'"), 2);
          assert.equal(await count("match_tasks WHERE state = 'PROPOSED'"), 3);
          assert.equal(await count("proposals"), 15);
          assert.equal(await count("match_task_terms"), 5);
        },
      );

      await t.step(
        "deno task maintenance runs it, with the days from the environment",
        async () => {
          await sql.unsafe(`
          INSERT INTO user_outbox (id, subject, payload, created_at, published_at)
          SELECT gen_random_uuid(), 'presence.online', '{}', now() - interval '3 days',
                 now() - interval '3 days' FROM generate_series(1, 4);`);
          const cap = captureOutput();
          const env = { DATABASE_URL: db.url, RETENTION_OUTBOX_DAYS: "2", RETENTION_BATCH: "3" };
          const code = await maintenanceCli(["--json", "--no-reindex"], cap.output, env);
          assert.equal(code, 0, cap.text());
          const report: MaintenanceReport = JSON.parse(cap.stdout.join(""));
          const step = report.steps.find((s) => s.step === "retention user_outbox")!;
          assert.equal(step.status, "ok");
          assert.match(step.detail!, /^4 rows older than 2 days deleted/);
          assert.equal(await count("user_outbox"), 0);
          const off = captureOutput();
          await maintenanceCli(
            ["--json", "--no-reindex"],
            off.output,
            { ...env, RETENTION_CLOSED_TASK_DAYS: "0" },
          );
          const closed = (JSON.parse(off.stdout.join("")) as MaintenanceReport).steps
            .find((s) => s.step === "retention closed tasks")!;
          assert.equal(closed.detail, "retention off (0 days)");
        },
      );
    } finally {
      await db.close();
    }
  },
});
