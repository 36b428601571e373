/**
 * Backup and restore timings on a throwaway PostgreSQL holding the platform's schema with >= 100k
 * tasks: `deno task backup` / `deno task restore` (as functions) beside raw `pg_dump -Fc` to a file
 * and raw `pg_restore`.
 *
 *   ./deno run -A bench/backup_bench.ts [--tasks 100000] [--runs 3]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runBackup } from "../ops/backup/run_backup.ts";
import { LocalTarget } from "../ops/backup/targets/local.ts";
import { runRestore, runVerify } from "../ops/restore/run_restore.ts";
import { formatBytes, formatCount } from "../ops/shared/format.ts";
import { captureOutput } from "../ops/shared/output.ts";
import { findPgTool, libpqEnv } from "../ops/shared/pg_tools.ts";
import { renderTable } from "../ops/shared/table.ts";
import { seedPlatform, startPlatformDb } from "../ops/testing/platform_db.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { tasks: { type: "string", default: "100000" }, runs: { type: "string", default: "3" } },
});
const tasks = Number(values.tasks);
const runs = Number(values.runs);

async function run(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  const result = await new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" })
    .output();
  if (!result.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(result.stderr)}`);
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${(median / 1000).toFixed(2)}s (min ${(sorted[0] / 1000).toFixed(2)}s)`;
}

const db = await startPlatformDb();
const work = await Deno.makeTempDir({ prefix: "fp-backup-bench-" });
try {
  const seedMs = await time(() => seedPlatform(db.sql, { users: tasks / 10, tasks }));
  await db.sql.unsafe("VACUUM (ANALYZE)");
  const [counts] = await db.sql<{ tasks: string; all: string; size: string }[]>`
    SELECT (SELECT count(*) FROM tasks) AS tasks,
           (SELECT sum(n_live_tup) FROM pg_stat_user_tables) AS all,
           pg_database_size(current_database()) AS size`;
  const pgDump = await findPgTool("pg_dump");
  const pgRestore = await findPgTool("pg_restore");
  console.log(
    `PostgreSQL ${pgDump.version} (${pgDump.path}); ${formatCount(Number(counts.tasks))} tasks, ` +
      `~${formatCount(Number(counts.all))} rows in all tables, database ${
        formatBytes(Number(counts.size))
      }; ` +
      `seeded in ${
        (seedMs / 1000).toFixed(1)
      }s; ${runs} runs each, CPUs ${navigator.hardwareConcurrency}`,
  );

  const env = libpqEnv(db.url);
  const raw = `${work}/raw.dump`;
  const rows: string[][] = [];
  const sample = async (label: string, fn: () => Promise<unknown>, size?: () => number) => {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await time(fn));
    rows.push([label, stats(samples), size ? formatBytes(size()) : ""]);
  };

  await sample(
    "raw pg_dump -Fc -f file",
    () => run(pgDump.path, ["-Fc", "-f", raw], env),
    () => Deno.statSync(raw).size,
  );

  const target = new LocalTarget(`${work}/backups`);
  let last = "";
  await sample(
    "deno task backup (dump+sha256+counts, read-back verify, manifest)",
    async () => {
      const result = await runBackup({
        databaseUrl: db.url,
        target,
        keep: 1,
        output: captureOutput().output,
      });
      last = result.manifest.name;
    },
    () => Deno.statSync(target.localDumpPath(last)).size,
  );

  let n = 0;
  for (const jobs of [1, 4]) {
    await sample(`raw pg_restore -j ${jobs} into a new database`, async () => {
      const name = `raw_restore_${n++}`;
      await db.sql.unsafe(`CREATE DATABASE ${name} TEMPLATE template0`);
      await run(pgRestore.path, [`-j`, String(jobs), "-d", name, raw], env);
    });
  }
  await sample(
    "deno task restore --verify (checksum, scratch db, counts, drop)",
    () =>
      runVerify({
        databaseUrl: db.url,
        target,
        name: last,
        output: captureOutput().output,
        jobs: 4,
      }),
  );
  await sample(
    "deno task restore --yes --drop-old (checksum, staging, counts, swap)",
    () =>
      runRestore({
        databaseUrl: db.url,
        target,
        name: last,
        output: captureOutput().output,
        yes: true,
        dropOld: true,
        jobs: 4,
      }),
  );

  console.log(
    renderTable([{ header: "operation" }, { header: "median time" }, {
      header: "file",
      align: "right",
    }], rows),
  );
} finally {
  await db.close();
  await Deno.remove(work, { recursive: true }).catch(() => {});
}
