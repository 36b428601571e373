/**
 * Finding PostgreSQL's client programs (pg_dump, pg_restore) and running them with the connection
 * passed through libpq's environment variables, so the password never appears in `ps`.
 *
 * @module
 */
import { OpsError } from "./errors.ts";

/** A client program and its version. */
export interface PgTool {
  name: string;
  path: string;
  /** e.g. "15.20" */
  version: string;
  major: number;
}

/**
 * The version printed by `<tool> --version`, e.g. "pg_dump (PostgreSQL) 15.20 (Debian ...)".
 *
 * @example
 * ```ts
 * parseToolVersion("pg_dump (PostgreSQL) 16.4"); // { version: "16.4", major: 16 }
 * ```
 */
export function parseToolVersion(text: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const major = Number(match[1]);
  // 9.6 and older have a two-part major version.
  return { version: match[2] ? `${match[1]}.${match[2]}` : match[1], major };
}

async function probe(path: string, name: string): Promise<PgTool | undefined> {
  try {
    const result = await new Deno.Command(path, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).output();
    if (!result.success) return undefined;
    const parsed = parseToolVersion(new TextDecoder().decode(result.stdout));
    return parsed ? { name, path, ...parsed } : undefined;
  } catch {
    return undefined;
  }
}

function candidates(name: string, binDir: string | undefined): string[] {
  if (binDir) return [`${binDir.replace(/\/+$/, "")}/${name}`];
  const paths: string[] = [];
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .filter((entry) => /^\d+$/.test(entry.name))
      .map((entry) => entry.name)
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) paths.push(`/usr/lib/postgresql/${version}/bin/${name}`);
  } catch { /* not the Debian layout */ }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir) paths.push(`${dir}/${name}`);
  }
  return [...new Set(paths)];
}

/**
 * The newest installed copy of a client program (or the one in `binDir` when given).
 * Throws an {@link OpsError} saying what to install when there is none.
 *
 * @example
 * ```ts
 * const pgDump = await findPgTool("pg_dump", config.pgBinDir);
 * ```
 */
export async function findPgTool(name: string, binDir?: string): Promise<PgTool> {
  const found = (await Promise.all(candidates(name, binDir).map((path) => probe(path, name))))
    .filter((tool): tool is PgTool => tool !== undefined)
    .sort((a, b) => b.major - a.major);
  if (found.length === 0) {
    throw new OpsError(
      binDir
        ? `${name} not found or not runnable in PG_BIN_DIR=${binDir}`
        : `${name} not found on PATH or in /usr/lib/postgresql/*/bin`,
      {
        hint:
          "install the PostgreSQL client at the server's major version or newer (Debian: apt-get install postgresql-client), or set PG_BIN_DIR",
      },
    );
  }
  return found[0];
}

/**
 * Fails unless `tool` can work with a server of `serverMajor` (pg_dump refuses newer servers;
 * pg_restore cannot read archives of a newer pg_dump).
 *
 * @example
 * ```ts
 * requireToolVersion(pgDump, 16, "the server"); // throws when pg_dump is 15
 * ```
 */
export function requireToolVersion(tool: PgTool, neededMajor: number, what: string): void {
  if (tool.major < neededMajor) {
    throw new OpsError(
      `${tool.name} ${tool.version} (${tool.path}) is older than ${what} (PostgreSQL ${neededMajor}); ` +
        `it needs version ${neededMajor} or newer. Nothing was changed.`,
      {
        hint:
          `install postgresql-client-${neededMajor} (or newer) and/or set PG_BIN_DIR to its bin directory`,
      },
    );
  }
}

/**
 * libpq environment variables for a postgres:// URL (PGHOST, PGPORT, PGUSER, PGPASSWORD,
 * PGDATABASE, PGSSLMODE, ...), so client programs connect without the URL on their command line.
 *
 * @example
 * ```ts
 * libpqEnv("postgres://app:pw@db:5433/fp?sslmode=require");
 * // { PGHOST: "db", PGPORT: "5433", PGUSER: "app", PGPASSWORD: "pw", PGDATABASE: "fp", PGSSLMODE: "require" }
 * ```
 */
export function libpqEnv(url: string, applicationName = "fp-ops"): Record<string, string> {
  const parsed = new URL(url);
  const env: Record<string, string> = { PGAPPNAME: applicationName, PGCONNECT_TIMEOUT: "10" };
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host) env.PGHOST = host;
  env.PGPORT = parsed.port || "5432";
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (database) env.PGDATABASE = database;
  const params: Record<string, string> = {
    host: "PGHOST",
    port: "PGPORT",
    user: "PGUSER",
    sslmode: "PGSSLMODE",
    sslrootcert: "PGSSLROOTCERT",
    sslcert: "PGSSLCERT",
    sslkey: "PGSSLKEY",
  };
  for (const [param, variable] of Object.entries(params)) {
    const value = parsed.searchParams.get(param);
    if (value) env[variable] = value;
  }
  return env;
}

/**
 * The last lines of a program's stderr, for an error message.
 *
 * @example
 * ```ts
 * tail("a\nb\nc\n", 2); // "b\nc"
 * ```
 */
export function tail(text: string, lines = 8): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
