/**
 * One outbox shape: after every service's migrations, each `*_outbox` table has exactly the
 * columns and the index of unpublished rows that `outboxTableSql` creates, and no trigger
 * (lib/events/outbox/outbox_table.ts). A new service's outbox is found and checked too.
 */
import assert from "node:assert/strict";
import { OUTBOX_COLUMNS, outboxTableSql } from "@platform/lib/events";
import { applyPlatformSchema, client } from "../../ops/testing/platform_db.ts";
import { PostgresServer } from "../harness/postgres_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({ name: "every service's outbox has the shared shape", ...opts }, async () => {
  const pg = await PostgresServer.start();
  const sql = client(await pg.createDatabase("outbox_shape"));
  try {
    await applyPlatformSchema(sql);
    await sql.unsafe(outboxTableSql("reference_outbox"));
    const shape = async (table: string) => {
      const columns = await sql<
        { name: string; type: string; nullable: string; has_default: boolean }[]
      >`
        SELECT column_name AS name, data_type AS type, is_nullable AS nullable,
               (column_default IS NOT NULL) AS has_default
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ${table}
        ORDER BY column_name`;
      const indexes = await sql<{ def: string }[]>`
        SELECT regexp_replace(indexdef, ${table}, 'T', 'g') AS def
        FROM pg_indexes WHERE schemaname = 'public' AND tablename = ${table} ORDER BY indexname`;
      const triggers = await sql<{ name: string; source: string }[]>`
        SELECT regexp_replace(t.tgname, ${table}, 'T', 'g') AS name,
               regexp_replace(p.prosrc, ${table}, 'T', 'g') AS source
        FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE t.tgrelid = ${table}::regclass AND NOT t.tgisinternal`;
      return {
        columns: columns.map((c) => ({ ...c })),
        indexes: indexes.map((i) => i.def),
        triggers: triggers.map((t) => ({ ...t })),
      };
    };
    const reference = await shape("reference_outbox");
    assert.deepEqual(reference.columns.map((c) => c.name), [...OUTBOX_COLUMNS].sort());
    // No per-row NOTIFY trigger (issue 10): relays are woken in-process and poll.
    assert.deepEqual(reference.triggers, []);

    const outboxes = (await sql<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_name LIKE '%\\_outbox' AND table_name <> 'reference_outbox'
      ORDER BY table_name`).map((r) => r.name);
    assert.ok(
      outboxes.includes("task_outbox") && outboxes.includes("proposal_outbox"),
      `${outboxes}`,
    );
    for (const table of outboxes) {
      assert.deepEqual(await shape(table), reference, `${table} differs from outboxTableSql`);
    }
  } finally {
    await sql.end({ timeout: 1 });
    await pg.destroy();
  }
});
