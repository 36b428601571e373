import assert from "node:assert/strict";
import { PostgresServer } from "../../tests/harness/postgres_server.ts";
import { Database } from "./database.ts";
import { ensureDatabase, migrate, type Migration } from "./migrate.ts";

const pool = {
  maxConnections: 4,
  maxLifetimeSeconds: 60,
  idleTimeoutSeconds: 60,
  connectTimeoutSeconds: 5,
  queryTimeoutMs: 5000,
};

Deno.test("migrations apply once, even from several replicas at once, and a failure rolls back", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const pg = await PostgresServer.start();
  try {
    const url = pg.url("migrate_test");
    assert.equal(await ensureDatabase(url), true);
    assert.equal(await ensureDatabase(url), false);
    // Three services starting at once against a fresh server: one creates it, none fails.
    for (let round = 0; round < 5; round++) {
      const fresh = pg.url(`migrate_race_${round}`);
      const created = await Promise.all([0, 1, 2, 3].map(() => ensureDatabase(fresh)));
      assert.equal(created.filter(Boolean).length, 1, `round ${round}: ${created}`);
    }
    const replicas = [0, 1, 2].map(() => new Database(url, pool, "test"));
    const migrations: Migration[] = [
      { version: 1, name: "one", sql: "CREATE TABLE one (id int)" },
      { version: 2, name: "two", sql: "INSERT INTO one VALUES (1)" },
    ];
    const applied = await Promise.all(replicas.map((db) => migrate(db.sql, "svc", migrations)));
    assert.deepEqual(applied.map((a) => a.length).sort(), [0, 0, 2]);
    const [{ n }] = await replicas[0].sql`SELECT count(*)::int AS n FROM one`;
    assert.equal(n, 1);
    await assert.rejects(
      migrate(replicas[0].sql, "svc", [...migrations, {
        version: 3,
        name: "broken",
        sql: "INSERT INTO one VALUES (3); SELECT * FROM missing_table",
      }]),
      /migration svc\/3_broken failed/,
    );
    const [{ m }] = await replicas[0].sql`SELECT count(*)::int AS m FROM one`;
    assert.equal(m, 1, "the failed migration's insert was rolled back");
    await Promise.all(replicas.map((db) => db.close()));
  } finally {
    await pg.destroy();
  }
});
