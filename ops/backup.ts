/**
 * `deno task backup`: a verified pg_dump of the platform's database to a local directory or S3,
 * with a manifest, then retention. See docs/ops.md.
 *
 * @example
 * ```sh
 * deno task backup                      # to BACKUP_DIR (./backups), or S3 when S3_BUCKET is set
 * deno task backup --target s3 --keep 14
 * deno task backup --json               # machine-readable result on stdout
 * ```
 *
 * @module
 */
import { runBackup } from "./backup/run_backup.ts";
import { selectTarget } from "./backup/targets/select.ts";
import { interruptSignal, intFlag, parseFlags, runMain } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { ExitCode } from "./shared/errors.ts";
import { formatBytes, formatCount, formatDuration } from "./shared/format.ts";
import type { Output } from "./shared/output.ts";
import { totalRows } from "./backup/manifest.ts";

const USAGE = `Usage: deno task backup [--target local|s3] [--dir DIR] [--keep N] [--json]

Dumps DATABASE_URL with pg_dump --format=custom, streamed to the target with a SHA-256 manifest
beside it, verifies the stored dump, then keeps the newest N backups (BACKUP_KEEP, default 7).

  --target local|s3  where to store (default: s3 when S3_BUCKET is set, else local)
  --dir DIR          local directory (default BACKUP_DIR, ./backups)
  --keep N           backups of this database to keep (default BACKUP_KEEP, 7)
  --json             print the result as JSON on stdout

Exit codes: 0 done, 1 failed (no old backup deleted), 64 bad usage or configuration.`;

/**
 * The backup program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await backupCli(["--target", "local"], Output.console());
 * ```
 */
export async function backupCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  signal?: AbortSignal,
): Promise<number> {
  const { flags } = parseFlags(args, {
    boolean: ["json"],
    string: ["target", "dir", "keep"],
  });
  if (flags.help) {
    output.line(USAGE);
    return ExitCode.ok;
  }
  const config = loadOpsConfig(env);
  const keep = intFlag(flags, "keep", config.backupKeep);
  const target = selectTarget(config, flags.target as string, flags.dir as string);
  const human = flags.json ? output.linesToStderr() : output;
  try {
    const result = await runBackup({
      databaseUrl: config.databaseUrl,
      target,
      keep,
      pgBinDir: config.pgBinDir,
      output: human,
      signal,
    });
    const { manifest, retention } = result;
    const tables = Object.keys(manifest.rowCounts).length;
    human.line(
      `Backup complete: ${manifest.name} (${formatBytes(manifest.sizeBytes)}, ${tables} tables, ` +
        `${formatCount(totalRows(manifest.rowCounts))} rows) in ${
          formatDuration(manifest.durationMs)
        }`,
    );
    human.line(
      `Retention (keep newest ${keep}): ${retention.keep.length} kept, ` +
        `${retention.removed.length} deleted${
          retention.removed.length ? ": " + retention.removed.join(", ") : ""
        }`,
    );
    for (const item of retention.ignored) {
      human.line(`  left alone: ${item.name} (${item.reason})`);
    }
    for (const failure of retention.failed) {
      human.warn(`error: could not delete old backup ${failure.name}: ${failure.error}`);
    }
    if (flags.json) output.line(JSON.stringify(result, null, 2));
    if (retention.failed.length > 0) {
      human.warn(
        "error: the new backup is complete and verified, but retention failed (see above)",
      );
      return ExitCode.failure;
    }
    return ExitCode.ok;
  } finally {
    target.close();
  }
}

if (import.meta.main) {
  // Ctrl-C stops pg_dump and discards the partial dump; no old backup is touched.
  const signal = interruptSignal();
  await runMain((output) => backupCli(Deno.args, output, Deno.env.toObject(), signal));
}
