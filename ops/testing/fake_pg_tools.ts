/**
 * Stand-ins for pg_dump and pg_restore that fail half-way, to test that a failure leaves nothing
 * behind. They report version 99 so that the version checks pass.
 *
 * @module
 */

/**
 * Writes failing `pg_dump` and `pg_restore` scripts into `dir` (use it as PG_BIN_DIR).
 *
 * @example
 * ```ts
 * const bin = await Deno.makeTempDir();
 * await writeFailingPgTools(bin);
 * ```
 */
export async function writeFailingPgTools(dir: string): Promise<void> {
  const script = (name: string, body: string) =>
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${name} (PostgreSQL) 99.0"; exit 0; fi\n${body}`;
  await Deno.writeTextFile(
    `${dir}/pg_dump`,
    script(
      "pg_dump",
      "printf 'PGDMP'\nhead -c 300000 /dev/zero\n" +
        `echo 'pg_dump: error: Dumping the contents of table "tasks" failed: boom' >&2\nexit 1\n`,
    ),
  );
  await Deno.writeTextFile(
    `${dir}/pg_restore`,
    script(
      "pg_restore",
      `echo 'pg_restore: error: could not execute query: ERROR:  boom' >&2\nexit 1\n`,
    ),
  );
  await Deno.chmod(`${dir}/pg_dump`, 0o755);
  await Deno.chmod(`${dir}/pg_restore`, 0o755);
}
