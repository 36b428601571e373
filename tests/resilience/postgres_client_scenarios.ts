/**
 * Connection-loss scenarios for the PostgreSQL client, run in a process of their own so that a
 * crash is observed as an exit code: `deno run -A postgres_client_scenarios.ts <copy> <scenario>`
 * where `<copy>` is `patched` (lib/db/postgres_js, what the services use) or `upstream`
 * (npm postgres@3.4.9, kept as the reference that shows each defect). Prints one JSON line
 * `{"scenario", "outcome"}` and exits 0 when the client behaved.
 *
 * @module
 */
import patched from "postgres";
import upstream from "postgres-upstream";
import { PostgresServer } from "../harness/postgres_server.ts";

type Client = typeof patched;

/** The scenarios, each resolving with a description of what happened when the client behaved. */
const scenarios: Record<string, (postgres: Client, pg: PostgresServer) => Promise<string>> = {
  /** A transaction whose backend dies, then whose callback throws: postgres.js sends ROLLBACK. */
  async "transaction-connection-lost"(postgres, pg) {
    const url = pg.url();
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    const killer = postgres(url, { max: 1 });
    const outcome = await sql.begin(async (tx) => {
      const [{ pid }] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      await killer`SELECT pg_terminate_backend(${pid})`;
      await new Promise((r) => setTimeout(r, 200));
      await tx`SELECT 1`;
    }).then(() => "committed?!", (e) => `rejected ${e.code}`);
    await new Promise((r) => setTimeout(r, 300));
    const [{ x }] = await within(sql`SELECT 3 AS x`, 3000);
    await sql.end({ timeout: 1 });
    await killer.end({ timeout: 1 });
    return `${outcome}; pool answers ${x}`;
  },

  /** A reserved connection whose backend dies, used again, then released; the pool goes on. */
  async "reserved-connection-lost"(postgres, pg) {
    const url = pg.url();
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    const killer = postgres(url, { max: 1 });
    const reserved = await sql.reserve();
    const [{ pid }] = await reserved<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    await killer`SELECT pg_terminate_backend(${pid})`;
    await new Promise((r) => setTimeout(r, 300));
    const first = await reserved`SELECT 1`.then(() => "answered?!", (e) => `rejected ${e.code}`);
    const second = await reserved`SELECT 2`.then(() => "answered?!", (e) => `rejected ${e.code}`);
    reserved.release();
    const [{ x }] = await within(sql`SELECT 3 AS x`, 3000);
    await sql.end({ timeout: 1 });
    await killer.end({ timeout: 1 });
    return `reserved: ${first}, ${second}; pool answers ${x}`;
  },

  /**
   * A query cancelled while its connection waits to reconnect (the /health probe polled during
   * an outage): once the server is back, the pool must answer again.
   */
  async "cancelled-while-connecting"(postgres, pg) {
    // A fixed reconnect delay of 4 s makes the window certain: the query waits for it.
    const sql = postgres(pg.url(), {
      max: 1,
      backoff: () => 4,
      connect_timeout: 2,
      onnotice: () => {},
    });
    await sql`SELECT 1`;
    await pg.stop();
    const refused = await sql`SELECT 1`.then(() => "answered?!", (e) => `rejected ${e.code}`);
    await pg.resume();
    const query = sql`SELECT 1`; // its connection opens only when the 4 s have passed
    const settled = query.then(() => "answered?!", (e) => `rejected ${e.code}`);
    await new Promise((r) => setTimeout(r, 100));
    query.cancel();
    const cancelled = await settled;
    const [{ x }] = await within(sql`SELECT 4 AS x`, 6000);
    await sql.end({ timeout: 1 });
    return `down: ${refused}; cancelled: ${cancelled}; after the restart the pool answers ${x}`;
  },

  /**
   * A backend terminated while its query runs (`pg_terminate_backend`, a fast shutdown): the
   * server's FATAL ErrorResponse arrives without ReadyForQuery. Its error must stay with that
   * query: postgres.js 3.4.9 kept it and failed the next session's first query with it, and when
   * that first use was a `reserve()`, the connection stayed "connecting" for good (the pool
   * stuck) and the error became an unhandled rejection (issue 21).
   */
  async "terminated-mid-query"(postgres, pg) {
    const url = pg.url();
    const sql = postgres(url, { max: 1, onnotice: () => {}, backoff: () => 0.05 });
    const killer = postgres(url, { max: 1 });
    const reserved = await sql.reserve();
    const write = reserved`SELECT 'victim', pg_sleep(0.5)`.then(
      () => "answered?!",
      (e) => `rejected ${e.code}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    await killer`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%''victim''%'
        AND pid <> pg_backend_pid()`;
    const lost = await write;
    reserved.release();
    const answers: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const again = await within(sql.reserve(), 3000);
      try {
        const [{ x }] = await within(again`SELECT ${i} AS x`, 3000);
        answers.push(x);
      } finally {
        again.release();
      }
    }
    await sql.end({ timeout: 1 });
    await killer.end({ timeout: 1 });
    return `terminated: ${lost}; reserved again, the pool answers ${answers.join(", ")}`;
  },

  /**
   * The array types query every new connection runs first fails (here: no right to read
   * pg_type; under restarts: the connection lost while it opened). postgres.js 3.4.9 started it
   * from ReadyForQuery without awaiting it, so its failure was an unhandled rejection that ended
   * the process (issue 21: `CONNECTION_CLOSED`, `ECONNRESET`, "This socket has been ended by the
   * other party" in the services under PostgreSQL restarts). Now the waiting query fails, and the
   * pool answers once the types can be read again.
   */
  async "types-query-fails"(postgres, pg) {
    const admin = postgres(pg.url(), { max: 1, onnotice: () => {} });
    await admin`CREATE ROLE limited LOGIN`;
    await admin`REVOKE SELECT ON pg_catalog.pg_type FROM PUBLIC`;
    const url = new URL(pg.url());
    url.username = "limited";
    url.password = "";
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {}, backoff: () => 0.05 });
    const refused = await within(sql`SELECT 1 AS x`, 3000).then(
      () => "answered?!",
      (e) => `rejected ${e.code}`,
    );
    await new Promise((r) => setTimeout(r, 200));
    await admin`GRANT SELECT ON pg_catalog.pg_type TO PUBLIC`;
    await sql.end({ timeout: 1 });
    const again = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const [{ x }] = await within(again`SELECT 2 AS x`, 3000);
    await again.end({ timeout: 1 });
    await admin.end({ timeout: 1 });
    return `types unreadable: ${refused}; readable again: the pool answers ${x}`;
  },
};

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer within ${ms} ms (the pool is stuck)`)), ms)
    ),
  ]);
}

if (import.meta.main) {
  const [copy, name] = Deno.args;
  const run = scenarios[name];
  if (!run || !["patched", "upstream"].includes(copy)) {
    console.error(`usage: <patched|upstream> <${Object.keys(scenarios).join("|")}>`);
    Deno.exit(2);
  }
  const pg = await PostgresServer.start();
  let code = 0;
  let outcome: string;
  try {
    outcome = await run((copy === "patched" ? patched : upstream) as Client, pg);
  } catch (error) {
    outcome = `failed: ${(error as Error).message}`;
    code = 1;
  }
  console.log(JSON.stringify({ scenario: name, copy, outcome }));
  await pg.destroy();
  Deno.exit(code);
}

/** The scenario names, for the test that runs them. */
export const SCENARIOS: string[] = Object.keys(scenarios);
