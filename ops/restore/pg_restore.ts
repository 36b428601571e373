/**
 * Runs pg_restore from a dump file into a database, stopping at the first error
 * (`--exit-on-error`), in parallel jobs. Objects end up owned by the restoring user
 * (`--no-owner`), so a dump restores on a server without the original roles.
 *
 * @module
 */
import { OpsError } from "../shared/errors.ts";
import { libpqEnv, type PgTool, tail } from "../shared/pg_tools.ts";

/**
 * Restores `file` into the database of `url`; throws an {@link OpsError} with pg_restore's error
 * output on failure.
 *
 * @example
 * ```ts
 * await runPgRestore(pgRestore, withDatabase(url, "scratch"), "/tmp/x.dump", 4);
 * ```
 */
export async function runPgRestore(
  tool: PgTool,
  url: string,
  file: string,
  jobs: number,
  signal?: AbortSignal,
): Promise<void> {
  const env = libpqEnv(url, "fp-ops-restore");
  const result = await new Deno.Command(tool.path, {
    args: [
      "--exit-on-error",
      "--no-owner",
      "--no-password",
      `--jobs=${jobs}`,
      // Without --dbname pg_restore prints SQL instead of restoring; the rest comes from PG* vars.
      `--dbname=${conninfoDbname(env.PGDATABASE)}`,
      file,
    ],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  if (signal?.aborted) throw new OpsError("pg_restore was interrupted");
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr);
    throw new OpsError(`pg_restore exited with ${result.code}: ${tail(stderr) || "(no output)"}`);
  }
}

/**
 * Checks that `file` is an archive pg_restore can read (its table of contents), without restoring.
 *
 * @example
 * ```ts
 * await listArchive(pgRestore, "/tmp/x.dump");
 * ```
 */
export async function listArchive(tool: PgTool, file: string): Promise<string> {
  const result = await new Deno.Command(tool.path, {
    args: ["--list", file],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new OpsError(
      `pg_restore cannot read ${file}: ${tail(new TextDecoder().decode(result.stderr))}`,
    );
  }
  return new TextDecoder().decode(result.stdout);
}

function conninfoDbname(name = "postgres"): string {
  return `dbname='${name.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}
