/**
 * `deno task maintenance`: the manual's daily database maintenance (retention of the outboxes and
 * of long-closed tasks, ANALYZE, VACUUM (ANALYZE),
 * bloat report, index usage, REINDEX of the skill-tags index in the configured hour). See
 * docs/ops.md.
 *
 * @example
 * ```sh
 * deno task maintenance             # reindexes only in MAINTENANCE_REINDEX_HOUR (default 3)
 * deno task maintenance --reindex   # reindex now
 * deno task maintenance --json
 * ```
 *
 * @module
 */
import { renderMaintenanceReport } from "./maintenance/report.ts";
import { type ReindexMode, runMaintenance } from "./maintenance/run_maintenance.ts";
import { parseFlags, runMain } from "./shared/cli.ts";
import { loadOpsConfig } from "./shared/config.ts";
import { closeQuietly, describeServer, openDatabase } from "./shared/db.ts";
import { ExitCode, UsageError } from "./shared/errors.ts";
import type { Output } from "./shared/output.ts";

const USAGE = `Usage: deno task maintenance [--reindex | --no-reindex] [--json]

Retention (published outbox rows older than RETENTION_OUTBOX_DAYS, 7; the orchestrator's rows of
tasks closed RETENTION_CLOSED_TASK_DAYS, 365, ago; RETENTION_BATCH, 5000, rows a transaction; 0 days
keeps all); ANALYZE; VACUUM (ANALYZE); dead-tuple (bloat) report; index usage; REINDEX INDEX CONCURRENTLY
idx_users_skill_tags_gin when --reindex is given or the local hour is MAINTENANCE_REINDEX_HOUR (3).

Exit codes: 0 done and nothing to act on, 1 a step failed or a problem was found, 64 bad usage.`;

/**
 * The maintenance program; returns its exit code.
 *
 * @example
 * ```ts
 * const code = await maintenanceCli(["--json"], Output.console());
 * ```
 */
export async function maintenanceCli(
  args: string[],
  output: Output,
  env: Record<string, string | undefined> = Deno.env.toObject(),
  now?: () => Date,
): Promise<number> {
  const { flags } = parseFlags(args, { boolean: ["reindex", "no-reindex", "json"] });
  if (flags.help) {
    output.line(USAGE);
    return ExitCode.ok;
  }
  if (flags.reindex && flags["no-reindex"]) {
    throw new UsageError("--reindex and --no-reindex contradict each other");
  }
  const config = loadOpsConfig(env);
  const mode: ReindexMode = flags.reindex ? "yes" : flags["no-reindex"] ? "no" : "auto";
  const sql = await openDatabase(config.databaseUrl, {
    applicationName: "fp-ops-maintenance",
    max: 1,
  });
  try {
    const report = await runMaintenance({
      sql,
      database: describeServer(config.databaseUrl),
      reindex: mode,
      reindexHour: config.reindexHour,
      retention: config.retention,
      now,
      onStep: (step) => output.progress(`running ${step} ...`),
    });
    output.clearProgress();
    output.line(flags.json ? JSON.stringify(report, null, 2) : renderMaintenanceReport(report));
    return report.problems.length === 0 ? ExitCode.ok : ExitCode.failure;
  } finally {
    await closeQuietly(sql);
  }
}

if (import.meta.main) await runMain((output) => maintenanceCli(Deno.args, output));
