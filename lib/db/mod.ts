/**
 * PostgreSQL: the bounded pool every service uses, migrations applied at start under an
 * advisory lock, and group commit (concurrent writes sharing one statement).
 *
 * @example
 * ```ts ignore
 * import { loadBaseConfig } from "@platform/lib/config";
 * import { Database, migrate, readMigrations } from "@platform/lib/db";
 *
 * const config = loadBaseConfig("users", 50051, Deno.env.toObject());
 * const db = new Database(config.databaseUrl, config.pool, "users");
 * await migrate(db.sql, "users", await readMigrations(new URL("./migrations/", import.meta.url)));
 * const rows = await db.run((sql) => sql`SELECT 1 AS one`);
 * ```
 *
 * @module
 */
export * from "./database.ts";
export * from "./migrate.ts";
export * from "./group_commit.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { default as postgres } from "postgres";
export * from "./pg_errors.ts";
