import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresServer } from "../../tests/harness/postgres_server.ts";
import { DependencyUnavailableError, OutcomeUnknownError } from "../errors.ts";
import { Database, mayWrite } from "./database.ts";

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

Deno.test(
  "the pool keeps its warm minimum and replaces idle connections that died",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const pg = await PostgresServer.start();
    const url = await pg.createDatabase("warm");
    const db = new Database(url, {
      maxConnections: 10,
      minConnections: 3,
      healthCheckPeriodSeconds: 1,
      maxLifetimeSeconds: 3600,
      idleTimeoutSeconds: 1800,
      connectTimeoutSeconds: 2,
      queryTimeoutMs: 2000,
    }, "warm-test");
    const admin = postgres(pg.url("postgres"), { max: 1, onnotice: () => {} });
    const sessions = async () =>
      (await admin<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE application_name = 'warm-test'`).map((r) => r.pid);
    try {
      db.startMaintenance();
      await waitFor(async () => (await sessions()).length === 3, 5000, "3 warm connections");
      // Idle connections killed behind the pool's back: the next check opens new ones.
      const before = await sessions();
      await admin`SELECT pg_terminate_backend(pid) FROM unnest(${before}::int[]) AS pid`;
      await waitFor(
        async () => {
          const now = await sessions();
          return now.length === 3 && now.every((pid) => !before.includes(pid));
        },
        5000,
        "3 new warm connections",
      );
      const [{ one }] = await db.run((sql) => sql<{ one: number }[]>`SELECT 1 AS one`);
      assert.equal(one, 1);
    } finally {
      await db.close();
      await admin.end();
      await pg.destroy();
    }
  },
);

Deno.test(
  "a health check polled during an outage passes again within 5 s of PostgreSQL's return",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const { pg, db } = await oneConnectionDatabase("probe");
    const ping = () => db.ping(AbortSignal.timeout(300));
    try {
      await db.ping(AbortSignal.timeout(5000)); // the first check opens its connection and table
      await pg.stop("immediate");
      for (let i = 0; i < 10; i++) {
        await assert.rejects(ping());
        await new Promise((r) => setTimeout(r, 200));
      }
      await pg.resume();
      const back = Date.now();
      await waitFor(() => ping().then(() => true, () => false), 5000, "the probe to pass");
      assert.ok(Date.now() - back < 5000);
      await db.run((sql) => sql`SELECT 1`);
    } finally {
      await db.close();
      await pg.destroy();
    }
  },
);

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

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

Deno.test(
  "a write whose answer is lost is 'outcome unknown', never 'unavailable'; a read or a transaction that never reached COMMIT stays 'unavailable'",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const { pg, db } = await oneConnectionDatabase("outcomes");
    const admin = postgres(pg.url("outcomes"), { max: 1, onnotice: () => {} });
    try {
      await db.run((sql) => sql`CREATE TABLE t (v text)`);
      // The connection is killed while a write runs: it may have been done.
      const killWhen = async (pattern: string) => {
        for (let i = 0; i < 50; i++) {
          const [row] = await admin<{ pid: number }[]>`
            SELECT pid FROM pg_stat_activity
            WHERE query LIKE ${pattern} AND pid <> pg_backend_pid()`;
          if (row) return void await admin`SELECT pg_terminate_backend(${row.pid})`;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`no backend runs ${pattern}`);
      };
      const write = db.run((sql) => sql`INSERT INTO t SELECT 'lost' FROM pg_sleep(0.5)`)
        .then(() => undefined, (e) => e);
      await killWhen("INSERT INTO t%");
      const lost = await write;
      assert.ok(lost instanceof OutcomeUnknownError, String(lost));
      assert.equal(lost.reason, "connection lost");
      // The same for a read: nothing was done, so "unavailable" is the truth.
      await waitFor(() => db.run((sql) => sql`SELECT true AS ok`).then(() => true), 3000, "pool");
      const read = db.run((sql) => sql`SELECT v FROM t, pg_sleep(0.5)`).then(() => 0, (e) => e);
      await killWhen("SELECT v FROM t%");
      assert.ok((await read) instanceof DependencyUnavailableError);
      // A transaction whose connection is lost before its COMMIT rolled back: "unavailable".
      await waitFor(() => db.run((sql) => sql`SELECT true AS ok`).then(() => true), 3000, "pool");
      const tx = db.transaction(async (tx) => {
        await tx`INSERT INTO t VALUES ('rolled back')`;
        await tx`SELECT pg_sleep(0.5)`;
      }).then(() => 0, (e) => e);
      await killWhen("SELECT pg_sleep%");
      assert.ok((await tx) instanceof DependencyUnavailableError, String(await tx));
      // A frozen server (SIGSTOP): a write sent is "outcome unknown" when the time runs out.
      await waitFor(() => db.run((sql) => sql`SELECT true AS ok`).then(() => true), 3000, "pool");
      // (Killed during its sleep, the write rolled back; the caller could not have known.)
      assert.equal((await db.run((sql) => sql`SELECT v FROM t`)).length, 0);
      pg.pause();
      try {
        const frozen = await db.run((sql) => sql`INSERT INTO t VALUES ('frozen')`, 300)
          .then(() => undefined, (e) => e);
        assert.ok(frozen instanceof OutcomeUnknownError, String(frozen));
        assert.equal(frozen.reason, "timeout");
        assert.match(frozen.message, /outcome is unknown; retry with the same idempotency key/);
      } finally {
        pg.unpause();
      }
    } finally {
      await admin.end({ timeout: 1 });
      await db.close(1);
      await pg.destroy();
    }
  },
);

Deno.test("mayWrite: only a plain read is known to do nothing", () => {
  assert.equal(mayWrite("SELECT v FROM t WHERE id = $1"), false);
  assert.equal(mayWrite(" show server_version"), false);
  assert.equal(mayWrite("INSERT INTO t VALUES ($1)"), true);
  assert.equal(mayWrite("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x"), true);
  assert.equal(mayWrite("SELECT nextval('s')"), true);
});

Deno.test(
  "the health check fails while the server refuses writes (read-only) and passes again after",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const { pg, db } = await oneConnectionDatabase("read_only");
    const admin = postgres(pg.url("read_only"), { max: 1, onnotice: () => {} });
    const ping = () => db.ping(AbortSignal.timeout(2000));
    try {
      await ping(); // creates its table on first use
      await admin`ALTER SYSTEM SET default_transaction_read_only = on`;
      await admin`SELECT pg_reload_conf()`;
      await waitFor(() => ping().then(() => false, () => true), 5000, "the check to fail");
      const refused = await ping().then(() => undefined, (e) => e);
      assert.equal(refused?.code, "25006", String(refused));
      // Reads still work: only the write check tells.
      await db.run((sql) => sql`SELECT 1`);
      await admin`ALTER SYSTEM RESET default_transaction_read_only`;
      await admin`SELECT pg_reload_conf()`;
      await waitFor(() => ping().then(() => true), 5000, "the check to pass again");
    } finally {
      await admin`ALTER SYSTEM RESET default_transaction_read_only`.catch(() => {});
      await admin.end({ timeout: 1 });
      await db.close(1);
      await pg.destroy();
    }
  },
);
