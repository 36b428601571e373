/**
 * Test and benchmark fixtures: a throwaway PostgreSQL with the platform's schema (the three
 * services' own migrations) and generated data.
 *
 * @module
 */
import postgres from "postgres";
import { migrate, readMigrations, type Sql } from "@platform/lib/db";
import { EVENTS } from "@platform/lib/events";
import { PostgresServer } from "../../tests/harness/postgres_server.ts";

/** The platform's tables (all three services'). */
export const PLATFORM_TABLES = [
  "match_tasks",
  "proposal_outbox",
  "proposals",
  "schema_migrations",
  "task_outbox",
  "task_processed_events",
  "task_transitions",
  "tasks",
  "users",
] as const;

/** A throwaway server with one platform database. */
export interface PlatformDb {
  pg: PostgresServer;
  url: string;
  sql: Sql;
  /** Stops the client and the server and removes its files. */
  close(): Promise<void>;
}

/**
 * Opens a client on `url` (one connection; notices ignored).
 *
 * @example
 * ```ts
 * const sql = client(url);
 * ```
 */
export function client(url: string, max = 2): Sql {
  return postgres(url, { max, onnotice: () => {} }) as unknown as Sql;
}

/**
 * Applies the users, tasks and orchestrator migrations.
 *
 * @example
 * ```ts
 * await applyPlatformSchema(sql);
 * ```
 */
export async function applyPlatformSchema(sql: Sql): Promise<void> {
  for (const service of ["users", "tasks", "orchestrator"]) {
    const dir = new URL(`../../services/${service}/migrations/`, import.meta.url);
    await migrate(sql, service, await readMigrations(dir));
  }
}

/**
 * Starts PostgreSQL, creates `database` with the platform's schema.
 *
 * @example
 * ```ts
 * const db = await startPlatformDb();
 * await seedPlatform(db.sql, { users: 50, tasks: 200 });
 * await db.close();
 * ```
 */
export async function startPlatformDb(database = "freelance_platform"): Promise<PlatformDb> {
  const pg = await PostgresServer.start();
  try {
    const url = await pg.createDatabase(database);
    const sql = client(url);
    await applyPlatformSchema(sql);
    return {
      pg,
      url,
      sql,
      close: async () => {
        await sql.end({ timeout: 1 }).catch(() => {});
        await pg.destroy();
      },
    };
  } catch (error) {
    await pg.destroy();
    throw error;
  }
}

/** How much data {@link seedPlatform} generates. */
export interface SeedSize {
  users: number;
  tasks: number;
}

/**
 * Fills every platform table with generated rows (with unicode, nulls, JSON and timestamps),
 * set-based so 100k tasks take a few seconds.
 *
 * @example
 * ```ts
 * await seedPlatform(sql, { users: 100, tasks: 1000 });
 * ```
 */
export async function seedPlatform(sql: Sql, size: SeedSize): Promise<void> {
  await sql.unsafe(`
    INSERT INTO users (email, password_hash, role, display_name, bio, skill_tags, hourly_rate_minor,
                       rate_currency, is_online, online_until, last_seen_at, created_at)
    SELECT 'user' || g || '@example.com', '$argon2id$v=19$fake$' || md5(g::text),
           (ARRAY['client','developer','developer','admin'])[1 + g % 4],
           'Dév ' || g || ' 🚀', CASE WHEN g % 5 = 0 THEN '' ELSE 'bio of user ' || g END,
           jsonb_build_array((ARRAY['golang','typescript','rust','sql'])[1 + g % 4],
                             (ARRAY['react','deno','k8s'])[1 + g % 3]),
           CASE WHEN g % 3 = 0 THEN NULL ELSE 1000 + g END,
           CASE WHEN g % 3 = 0 THEN NULL ELSE 'EUR' END,
           g % 4 = 1, CASE WHEN g % 4 = 1 THEN now() + interval '90 seconds' END,
           now() - (g || ' minutes')::interval, now() - (g || ' hours')::interval
    FROM generate_series(1, ${size.users}) g`);
  await sql.unsafe(`
    INSERT INTO tasks (client_id, title, description, required_skills, budget_minor, currency,
                       deadline, status, created_at)
    SELECT md5('client' || g % 97)::uuid, 'Task ' || g || ' – «quoted» ''text''',
           repeat('description ', 1 + g % 7),
           jsonb_build_array((ARRAY['golang','typescript','rust','sql'])[1 + g % 4]),
           5000 + g, 'USD', CASE WHEN g % 2 = 0 THEN now() + interval '7 days' END,
           (ARRAY['OPEN','OPEN','ASSIGNED','IN_PROGRESS','COMPLETED','CANCELLED'])[1 + g % 6],
           now() - (g || ' seconds')::interval
    FROM generate_series(1, ${size.tasks}) g`);
  await sql.unsafe(`
    INSERT INTO task_transitions (task_id, from_status, to_status, actor_id, reason)
    SELECT id, NULL, 'OPEN', client_id::text, 'created' FROM tasks`);
  await sql.unsafe(`
    INSERT INTO task_outbox (id, subject, payload, published_at)
    SELECT gen_random_uuid(), '${EVENTS.taskCreated.subject}', jsonb_build_object('task_id', id, 'title', title),
           CASE WHEN status <> 'OPEN' THEN now() END
    FROM tasks`);
  await sql.unsafe(`
    INSERT INTO match_tasks (task_id, client_id, title, required_skills, budget_minor, currency, state)
    SELECT id, client_id, title, required_skills, budget_minor, currency, 'PROPOSED'
    FROM tasks WHERE status = 'OPEN'`);
  await sql.unsafe(`
    INSERT INTO proposals (task_id, developer_id, score, created_at, expires_at)
    SELECT task_id, md5('dev' || n)::uuid, 0.5 + n / 10.0,
           now() - ((row_number() OVER ()) % 120 || ' minutes')::interval, now() + interval '1 day'
    FROM match_tasks, generate_series(1, 2) n`);
  await sql.unsafe(`
    INSERT INTO proposal_outbox (id, subject, payload)
    SELECT gen_random_uuid(), '${EVENTS.proposalCreated.subject}', jsonb_build_object('proposal_id', id)
    FROM proposals`);
  await sql.unsafe(`
    INSERT INTO task_processed_events (event_id) SELECT 'evt-' || g FROM generate_series(1, 10) g`);
}

/**
 * Every row of a table as text, sorted: two databases hold the same rows when these are equal.
 *
 * @example
 * ```ts
 * assert.deepEqual(await tableRows(a, "tasks"), await tableRows(b, "tasks"));
 * ```
 */
export async function tableRows(sql: Sql, table: string): Promise<string[]> {
  const rows = await sql.unsafe<{ r: string }[]>(
    `SELECT t::text AS r FROM "${table}" t ORDER BY 1`,
  );
  return rows.map((row) => row.r);
}

/**
 * The rows of every platform table.
 *
 * @example
 * ```ts
 * const before = await snapshotRows(sql);
 * ```
 */
export async function snapshotRows(sql: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of PLATFORM_TABLES) out[table] = await tableRows(sql, table);
  return out;
}
