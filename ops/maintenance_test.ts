/**
 * Maintenance against a real PostgreSQL with the platform's schema and data: it vacuums what is
 * there, reports bloat and index usage, and reindexes the skill-tags index when asked or in the
 * configured hour.
 */
import assert from "node:assert/strict";
import { maintenanceCli } from "./maintenance.ts";
import type { MaintenanceReport } from "./maintenance/run_maintenance.ts";
import { captureOutput } from "./shared/output.ts";
import { seedPlatform, startPlatformDb } from "./testing/platform_db.ts";
import { waitUntil } from "../tests/harness/processes.ts";

Deno.test({
  name: "maintenance",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const db = await startPlatformDb();
    try {
      await seedPlatform(db.sql, { users: 50, tasks: 2000 });
      await db.sql`UPDATE tasks SET updated_at = now() WHERE created_at < now()`;
      await waitUntil(
        async () => {
          const [row] = await db.sql<{ dead: string }[]>`
          SELECT n_dead_tup AS dead FROM pg_stat_user_tables WHERE relname = 'tasks'`;
          if (Number(row.dead) < 2000) throw new Error(`dead ${row.dead}`);
        },
        10_000,
        "dead tuples in the statistics",
      );
      const env = { DATABASE_URL: db.url, MAINTENANCE_REINDEX_HOUR: "3" };
      const at = (hour: number) => () => new Date(2024, 9, 19, hour, 5);

      await t.step(
        "vacuums, reports bloat and index usage, reindexes in the configured hour",
        async () => {
          const cap = captureOutput();
          const code = await maintenanceCli(["--json"], cap.output, env, at(3));
          assert.equal(code, 0, cap.text());
          const report: MaintenanceReport = JSON.parse(cap.stdout.join(""));
          assert.deepEqual(report.steps.map((s) => [s.step, s.status]), [
            ["retention task_outbox", "ok"],
            ["retention proposal_outbox", "ok"],
            ["retention user_outbox", "ok"],
            ["retention closed tasks", "ok"],
            ["ANALYZE", "ok"],
            ["VACUUM (ANALYZE)", "ok"],
            ["REINDEX INDEX CONCURRENTLY idx_users_skill_tags_gin", "ok"],
          ]);
          const before = report.bloatBefore.find((r) => r.table === "tasks")!;
          assert.ok(before.deadRows >= 2000 && before.deadPercent! >= 49, JSON.stringify(before));
          const after = report.bloatAfter.find((r) => r.table === "tasks")!;
          assert.equal(after.deadRows, 0);
          assert.equal(after.liveRows, 2000);
          const gin = report.indexes.find((i) => i.index === "idx_users_skill_tags_gin");
          assert.ok(gin && gin.valid && gin.sizeBytes > 0);
          assert.deepEqual(report.problems, []);
        },
      );

      await t.step("outside the hour it skips the reindex and says how to force it", async () => {
        const cap = captureOutput({ isTTY: true });
        const code = await maintenanceCli([], cap.output, env, at(14));
        assert.equal(code, 0, cap.text());
        const text = cap.stdout.join("");
        assert.match(
          text,
          /REINDEX INDEX CONCURRENTLY idx_users_skill_tags_gin\s+skipped\s+runs at hour 3 .*--reindex forces it/,
        );
        assert.match(text, /tasks\s+\S+ \S+\s+2,000\s+\d[\d,]*\s+\S+%\s+0\s+0\.00%/);
        assert.match(text, /idx_tasks_status_created\s+tasks\s/);
        assert.match(text, /No problems found/);

        const forced = captureOutput();
        assert.equal(await maintenanceCli(["--reindex", "--json"], forced.output, env, at(14)), 0);
        assert.equal(JSON.parse(forced.stdout.join("")).steps[6].status, "ok");
      });

      await t.step("a missing skill-tags index is a problem with the manual's fix", async () => {
        await db.sql`DROP INDEX idx_users_skill_tags_gin`;
        const cap = captureOutput();
        const code = await maintenanceCli([], cap.output, env, at(3));
        assert.equal(code, 1);
        assert.match(
          cap.text(),
          /CREATE INDEX CONCURRENTLY idx_users_skill_tags_gin ON users USING gin\(skill_tags\);/,
        );
      });
    } finally {
      await db.close();
    }
  },
});
