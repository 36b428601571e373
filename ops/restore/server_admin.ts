/**
 * Database-level operations of a restore, run from the server's maintenance database: existence,
 * what a database holds, create, drop, and the swap of a restored copy into place.
 *
 * @module
 */
import {
  closeQuietly,
  countRows,
  databaseError,
  openDatabase,
  quoteIdent,
  type Sql,
  withDatabase,
  withTimeout,
} from "../shared/db.ts";
import { errorMessage, OpsError } from "../shared/errors.ts";

/** What a database holds now (what a restore would replace). */
export interface DatabaseContents {
  sizeBytes: number;
  rowCounts: Record<string, number>;
  /** Other sessions connected to it, by application_name. */
  sessions: { application: string; count: number }[];
}

/**
 * An administrative connection to a PostgreSQL server.
 *
 * @example
 * ```ts
 * const admin = await ServerAdmin.open(config.databaseUrl);
 * if (!(await admin.exists("freelance_platform"))) console.log("missing");
 * await admin.close();
 * ```
 */
export class ServerAdmin {
  private constructor(readonly sql: Sql, private readonly url: string) {}

  /** Connects to the `postgres` database of the server in `url` (or `template1`). */
  static async open(url: string): Promise<ServerAdmin> {
    try {
      return new ServerAdmin(
        await openDatabase(withDatabase(url, "postgres"), { applicationName: "fp-ops-restore" }),
        url,
      );
    } catch (error) {
      if ((error as OpsError).message?.startsWith("database does not exist")) {
        return new ServerAdmin(
          await openDatabase(withDatabase(url, "template1"), { applicationName: "fp-ops-restore" }),
          url,
        );
      }
      throw error;
    }
  }

  /** True when the database exists. */
  async exists(name: string): Promise<boolean> {
    const rows = await this.sql`SELECT 1 FROM pg_database WHERE datname = ${name}`;
    return rows.length > 0;
  }

  /** Sessions connected to `name`, other than ours. */
  async sessions(name: string): Promise<DatabaseContents["sessions"]> {
    const rows = await this.sql<{ application: string; count: string }[]>`
      SELECT coalesce(nullif(application_name, ''), '(no application_name)') AS application,
             count(*) AS count
      FROM pg_stat_activity
      WHERE datname = ${name} AND pid <> pg_backend_pid()
      GROUP BY 1 ORDER BY 2 DESC, 1`;
    return rows.map((r) => ({ application: r.application, count: Number(r.count) }));
  }

  /** Size, exact row counts and connected sessions of a database. */
  async describe(name: string): Promise<DatabaseContents> {
    const [{ size }] = await this.sql<{ size: string }[]>`
      SELECT pg_database_size(${name}) AS size`;
    return {
      sizeBytes: Number(size),
      rowCounts: await this.rowCounts(name),
      sessions: await this.sessions(name),
    };
  }

  /** Exact row counts of every table of a database. */
  async rowCounts(name: string, timeoutMs = 600_000): Promise<Record<string, number>> {
    const sql = await openDatabase(withDatabase(this.url, name), {
      applicationName: "fp-ops-restore",
      max: 1,
    });
    try {
      return await withTimeout(countRows(sql), timeoutMs, `row counts of ${name}`);
    } finally {
      await closeQuietly(sql);
    }
  }

  /** Runs ANALYZE in a database; returns how long it took in milliseconds. */
  async analyze(name: string): Promise<number> {
    const sql = await openDatabase(withDatabase(this.url, name), {
      applicationName: "fp-ops-restore",
      max: 1,
    });
    try {
      const started = performance.now();
      await sql.unsafe("ANALYZE");
      return performance.now() - started;
    } finally {
      await closeQuietly(sql);
    }
  }

  /** Creates an empty database (from template0, so nothing of template1 leaks in). */
  async create(name: string): Promise<void> {
    try {
      await this.sql.unsafe(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
    } catch (error) {
      throw new OpsError(`cannot create database "${name}": ${errorMessage(error)}`, {
        cause: error,
        hint: "the DATABASE_URL user needs the CREATEDB privilege",
      });
    }
  }

  /** Drops a database, disconnecting its sessions. */
  async drop(name: string): Promise<void> {
    await this.terminate(name);
    await this.sql.unsafe(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }

  /** A database name like `base` that does not exist yet (63 bytes at most). */
  async freeName(base: string): Promise<string> {
    for (let i = 1;; i++) {
      const suffix = i === 1 ? "" : `_${i}`;
      const name = base.slice(0, 63 - suffix.length) + suffix;
      if (!(await this.exists(name))) return name;
    }
  }

  /**
   * Puts `replacement` in place of `target`: blocks new connections to `target`, disconnects its
   * sessions, renames it to `keepAs`, renames `replacement` to `target`. On failure everything is
   * put back as it was. When `target` does not exist, only renames `replacement`.
   */
  async swap(target: string, replacement: string, keepAs: string): Promise<void> {
    await this.terminate(replacement);
    if (!(await this.exists(target))) {
      await this.sql.unsafe(
        `ALTER DATABASE ${quoteIdent(replacement)} RENAME TO ${quoteIdent(target)}`,
      );
      return;
    }
    await this.sql.unsafe(`ALTER DATABASE ${quoteIdent(target)} WITH ALLOW_CONNECTIONS false`);
    let renamed = false;
    try {
      for (let attempt = 1;; attempt++) {
        await this.terminate(target);
        try {
          await this.sql.unsafe(
            `ALTER DATABASE ${quoteIdent(target)} RENAME TO ${quoteIdent(keepAs)}`,
          );
          renamed = true;
          break;
        } catch (error) {
          // 55006: still accessed by a session that connected before connections were blocked.
          if ((error as { code?: string }).code !== "55006" || attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      await this.sql.unsafe(
        `ALTER DATABASE ${quoteIdent(replacement)} RENAME TO ${quoteIdent(target)}`,
      );
    } catch (error) {
      if (renamed) {
        await this.sql.unsafe(
          `ALTER DATABASE ${quoteIdent(keepAs)} RENAME TO ${quoteIdent(target)}`,
        )
          .catch(() => {});
      }
      await this.sql.unsafe(`ALTER DATABASE ${quoteIdent(target)} WITH ALLOW_CONNECTIONS true`)
        .catch(() => {});
      throw new OpsError(
        `could not swap the restored database into place: ${errorMessage(error)}; ` +
          `"${target}" was left as it was`,
        { cause: error },
      );
    }
    // The old copy has a new name that no service uses: let the operator connect to inspect it.
    await this.sql.unsafe(`ALTER DATABASE ${quoteIdent(keepAs)} WITH ALLOW_CONNECTIONS true`);
  }

  /** Disconnects every session of `name` but ours; returns how many. */
  async terminate(name: string): Promise<number> {
    const rows = await this.sql`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = ${name} AND pid <> pg_backend_pid()`;
    return rows.length;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await closeQuietly(this.sql);
  }

  /** An operator-facing error for a failure of this server. */
  error(error: unknown): OpsError {
    return error instanceof OpsError ? error : databaseError(this.url, error);
  }
}
