import assert from "node:assert/strict";
import { PostgresServer } from "../../tests/harness/postgres_server.ts";
import { DependencyUnavailableError } from "../errors.ts";
import { Database } from "./database.ts";

Deno.test("a write told 'unavailable' never commits later", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const { pg, db } = await oneConnectionDatabase("timeouts");
  try {
    await db.run((sql) => sql`CREATE TABLE t (v text)`);
    // The only connection is busy for 1.5 s; both writes wait for it and time out first.
    const busy = db.run((sql) => sql`SELECT pg_sleep(1.5)`);
    await new Promise((r) => setTimeout(r, 100)); // let it take the connection
    await assert.rejects(
      db.transaction((tx) => tx`INSERT INTO t VALUES ('transaction')`, 300),
      DependencyUnavailableError,
    );
    await assert.rejects(
      db.run((sql) => sql`INSERT INTO t VALUES ('statement')`, 300),
      DependencyUnavailableError,
    );
    await busy;
    await new Promise((r) => setTimeout(r, 500));
    const rows = await db.run((sql) => sql`SELECT v FROM t`);
    assert.equal(rows.length, 0, "a timed-out write was committed after all");
  } finally {
    await db.close();
    await pg.destroy();
  }
});

Deno.test(
  "async work that outlives its time makes no further query, and the health check does not wait for a busy pool",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const { pg, db } = await oneConnectionDatabase("guard");
    try {
      await db.run((sql) => sql`CREATE TABLE t (v text)`);
      await assert.rejects(
        db.run(async (sql) => {
          await sql`SELECT pg_sleep(0.5)`; // cancelled at 300 ms
          await sql`INSERT INTO t VALUES ('after the deadline')`;
        }, 300),
        DependencyUnavailableError,
      );
      const busy = db.run((sql) => sql`SELECT pg_sleep(1)`);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await db.ping();
      assert.ok(Date.now() - started < 500, "ping waited for the busy pool");
      await busy;
      await new Promise((r) => setTimeout(r, 300));
      const rows = await db.run((sql) => sql`SELECT v FROM t`);
      assert.equal(rows.length, 0, "a query ran after its call had timed out");
    } finally {
      await db.close();
      await pg.destroy();
    }
  },
);

/** A throwaway server and a Database whose pool has a single connection, easy to keep busy. */
async function oneConnectionDatabase(name: string) {
  const pg = await PostgresServer.start();
  const db = new Database(await pg.createDatabase(name), {
    maxConnections: 1,
    maxLifetimeSeconds: 60,
    idleTimeoutSeconds: 60,
    connectTimeoutSeconds: 5,
    queryTimeoutMs: 5000,
  }, "test");
  return { pg, db };
}
