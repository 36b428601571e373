/**
 * `deno task restore`: lists backups, restores one (after checksum verification and
 * confirmation), or test-restores one into a scratch database (`--verify`). See docs/ops.md.
 *
 * @example
 * ```sh
 * deno task restore                                   # list backups
 * deno task restore --verify freelance_platform_20241019_153000_123
 * deno task restore backups/freelance_platform_20241019_153000_123.dump --yes
 * ```
 *
 * @module
 */
import { listBackups, runRestore, runVerify } from "./restore/run_restore.ts";
import { locateBackup } from "./restore/locate.ts";
import { selectTarget } from "./backup/targets/select.ts";
import { interruptSignal, intFlag, parseDurationFlag, parseFlags, runMain } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { ExitCode, UsageError } from "./shared/errors.ts";
import type { Output } from "./shared/output.ts";

const USAGE = `Usage: deno task restore [BACKUP] [options]

Without BACKUP: lists the backups of the target. BACKUP is a name from that list or a path to a
.dump file (its .manifest.json must be beside it). The dump's SHA-256 is checked against its
manifest before anything is touched. After a restore the platform's Redis keys (REDIS_KEY_PREFIX,
fp:*) are deleted: they were read from the replaced database.

  --verify                 test restore: into a scratch database, compare row counts with the
                           manifest, drop the scratch database (changes nothing else)
  --yes                    confirm replacing the database of DATABASE_URL (otherwise asked on a
                           terminal; refused without one)
  --drop-old               drop the replaced database (default: keep it as <db>_pre_restore_<time>)
  --create                 create the database when it does not exist
  --allow-other-database   restore a backup taken of a differently named database
  --target local|s3, --dir DIR   where backups are (as for deno task backup)
  --jobs N                 parallel pg_restore jobs (default: CPUs, at most 4)
  --wait-health            wait for all three services' /health after the restore (by default:
                           for those of USERS_URL, TASKS_URL, ORCHESTRATOR_URL that are set;
                           --no-wait-health: none)
  --health-timeout 5m      how long to wait for /health
  --json                   print the result as JSON on stdout

Exit codes: 0 done, 1 failed or refused (nothing changed unless the output says so), 64 bad usage.`;

/**
 * The restore program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await restoreCli(["--verify", "backups/x.dump"], Output.console());
 * ```
 */
export async function restoreCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  signal?: AbortSignal,
): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    boolean: [
      "verify",
      "yes",
      "drop-old",
      "create",
      "allow-other-database",
      "wait-health",
      "no-wait-health",
      "json",
    ],
    string: ["target", "dir", "jobs", "health-timeout"],
    short: { y: "yes" },
  });
  if (flags.help) {
    output.line(USAGE);
    return ExitCode.ok;
  }
  if (positionals.length > 1) throw new UsageError("give one backup at a time", USAGE);
  const config = loadOpsConfig(env);
  const json = flags.json === true;
  const human = json ? output.linesToStderr() : output;

  if (positionals.length === 0) {
    if (flags.verify || flags.yes) {
      throw new UsageError("name the backup to restore (run without arguments to list them)");
    }
    const target = selectTarget(config, flags.target as string, flags.dir as string);
    try {
      const backups = await listBackups(target, human);
      if (json) output.line(JSON.stringify(backups, null, 2));
    } finally {
      target.close();
    }
    return ExitCode.ok;
  }

  const { target, name } = locateBackup(
    config,
    positionals[0],
    flags.target as string,
    flags.dir as string,
  );
  const jobs = intFlag(flags, "jobs", 0, 1) || undefined;
  try {
    if (flags.verify) {
      const result = await runVerify({
        databaseUrl: config.databaseUrl,
        target,
        name,
        output: human,
        pgBinDir: config.pgBinDir,
        jobs,
        signal,
      });
      human.line(
        result.ok
          ? `Test restore OK: ${name} restores and its row counts match the manifest.`
          : `Test restore FAILED: ${name} restored, but row counts differ from the manifest.`,
      );
      if (json) output.line(JSON.stringify(result, null, 2));
      return result.ok ? ExitCode.ok : ExitCode.failure;
    }
    // --wait-health: all three; otherwise those whose URL variable is set; --no-wait-health: none.
    const waitFor = flags["no-wait-health"]
      ? []
      : flags["wait-health"] === true
      ? (["users", "tasks", "orchestrator"] as const)
      : config.servicesGiven;
    const result = await runRestore({
      databaseUrl: config.databaseUrl,
      target,
      name,
      output: human,
      pgBinDir: config.pgBinDir,
      jobs,
      signal,
      yes: flags.yes === true,
      create: flags.create === true,
      dropOld: flags["drop-old"] === true,
      allowOtherDatabase: flags["allow-other-database"] === true,
      healthUrls: Object.fromEntries(waitFor.map((name) => [name, config.services[name]])),
      cache: { redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix },
      healthTimeoutMs: flags["health-timeout"]
        ? parseDurationFlag(flags["health-timeout"] as string, "health-timeout")
        : undefined,
    });
    human.line(`Restore complete: ${result.database} now holds backup ${result.backup}.`);
    if (json) output.line(JSON.stringify(result, null, 2));
    if (result.healthy === false) {
      human.warn("error: the database was restored, but not every service became healthy");
      return ExitCode.failure;
    }
    return ExitCode.ok;
  } finally {
    target.close();
  }
}

if (import.meta.main) {
  // Ctrl-C stops pg_restore and drops the half-restored copy; the target stays as it was.
  const signal = interruptSignal();
  await runMain((output) => restoreCli(Deno.args, output, Deno.env.toObject(), signal));
}
