/**
 * Versioned SQL migrations, applied at start under a PostgreSQL advisory lock so that several
 * replicas starting at once apply each migration exactly once.
 *
 * Files are named `NNN_description.sql` in a service's `migrations/` folder. Each runs in its
 * own transaction; `schema_migrations` records (service, version).
 *
 * @module
 */
import postgres from "postgres";
import { HEALTH_TABLE_SQL, type Sql } from "./database.ts";
import { isUniqueViolation, SQLSTATE, sqlState } from "./pg_errors.ts";

/** One migration file. */
export interface Migration {
  /** The `NNN` of the file name. */
  version: number;
  /** The file name's description part. */
  name: string;
  /** The file's SQL. */
  sql: string;
}

const LOCK_KEY = 727_374_001; // any constant shared by all platform services

/**
 * Reads `NNN_name.sql` files from a folder, sorted by version.
 *
 * @example
 * ```ts ignore
 * const migrations = await readMigrations(new URL("./migrations/", import.meta.url));
 * ```
 */
export async function readMigrations(dir: URL): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(entry.name);
    if (!entry.isFile || !match) continue;
    migrations.push({
      version: Number(match[1]),
      name: match[2],
      sql: await Deno.readTextFile(new URL(entry.name, dir)),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(`two migrations share version ${migrations[i].version} in ${dir}`);
    }
  }
  return migrations;
}

/**
 * Applies the migrations not yet applied for `service`; returns the versions it applied.
 *
 * @example
 * ```ts ignore
 * await migrate(db.sql, "users", await readMigrations(dir));
 * ```
 */
export async function migrate(
  sql: Sql,
  service: string,
  migrations: Migration[],
): Promise<number[]> {
  const reserved = await sql.reserve();
  try {
    // Migrations (an index on a big table) and the wait for another replica's lock may take
    // longer than the pool's statement timeout: lift it on this connection only.
    await reserved`SET statement_timeout = 0`;
    await reserved`SELECT pg_advisory_lock(${LOCK_KEY})`;
    await reserved`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        service text NOT NULL,
        version integer NOT NULL,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (service, version)
      )`;
    await reserved.unsafe(HEALTH_TABLE_SQL);
    const done = new Set(
      (await reserved<{ version: number }[]>`
        SELECT version FROM schema_migrations WHERE service = ${service}`).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await reserved.unsafe("BEGIN");
      try {
        await reserved.unsafe(migration.sql);
        await reserved`
          INSERT INTO schema_migrations (service, version, name)
          VALUES (${service}, ${migration.version}, ${migration.name})`;
        await reserved.unsafe("COMMIT");
      } catch (error) {
        await reserved.unsafe("ROLLBACK");
        throw new Error(
          `migration ${service}/${migration.version}_${migration.name} failed: ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await reserved`SELECT pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
    await reserved`RESET statement_timeout`.catch(() => {});
    reserved.release();
  }
}

/**
 * Creates the database named in `url` when it does not exist yet (connecting to the server's
 * `postgres` database to do so), so that a fresh server needs no manual step.
 *
 * @example
 * ```ts ignore
 * await ensureDatabase("postgres://postgres@127.0.0.1:5432/freelance_platform");
 * ```
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (name === "" || name === "postgres") return false;
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = postgres(admin.toString(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    const exists = await sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    if (exists.length > 0) return false;
    try {
      await sql.unsafe(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      return true;
    } catch (error) {
      // Created meanwhile by another service or replica starting at the same moment: 42P04 when
      // its commit came first, 23505 (pg_database_datname_index) when both were in flight.
      if (sqlState(error) === SQLSTATE.duplicateDatabase || isUniqueViolation(error)) return false;
      throw error;
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}
