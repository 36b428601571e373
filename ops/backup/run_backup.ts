/**
 * One backup, start to finish: check the tools, the server and the target; dump in a consistent
 * snapshot (row counts taken in the same snapshot) streamed to the target while hashing; read the
 * stored dump back to verify it; write the manifest; only then apply retention.
 * Any failure before the manifest leaves no new backup and never deletes an old one.
 *
 * @module
 */
import { OpsError } from "../shared/errors.ts";
import { closeQuietly, countRows, openDatabase, serverInfo } from "../shared/db.ts";
import { formatBytes, formatDuration } from "../shared/format.ts";
import type { Output } from "../shared/output.ts";
import { findPgTool, requireToolVersion } from "../shared/pg_tools.ts";
import { DigestStream } from "./digest.ts";
import { type BackupManifest, backupName, dumpFileName, MANIFEST_FORMAT } from "./manifest.ts";
import { startPgDump } from "./pg_dump.ts";
import { applyRetention, type RetentionResult } from "./retention.ts";
import type { BackupTarget } from "./targets/target.ts";
import { verifyStoredDump } from "./verify_stored.ts";

/** Options of {@link runBackup}. */
export interface BackupOptions {
  databaseUrl: string;
  target: BackupTarget;
  /** Keep this many newest backups of the database (after the new one is verified). */
  keep: number;
  pgBinDir?: string;
  output: Output;
  /** Aborting stops pg_dump and discards the partial dump. */
  signal?: AbortSignal;
  now?: () => Date;
}

/** What a backup did. */
export interface BackupResult {
  manifest: BackupManifest;
  target: string;
  retention: RetentionResult;
}

/**
 * Runs a backup; throws an OpsError with what went wrong (nothing deleted) on failure.
 *
 * @example
 * ```ts
 * const result = await runBackup({ databaseUrl, target: new LocalTarget("./backups"), keep: 7, output });
 * console.log(result.manifest.sha256);
 * ```
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { output, target } = options;
  const now = options.now ?? (() => new Date());

  const pgDump = await findPgTool("pg_dump", options.pgBinDir);
  const sql = await openDatabase(options.databaseUrl, {
    applicationName: "fp-ops-backup",
    max: 2,
  });
  try {
    const server = await serverInfo(sql);
    requireToolVersion(pgDump, server.major, "the server");
    await target.checkWritable();

    const started = now();
    const name = backupName(server.database, started);
    output.line(
      `Backing up database ${server.database} (PostgreSQL ${server.version}) with ${pgDump.path} ` +
        `${pgDump.version} to ${target.description} as ${dumpFileName(name)}`,
    );

    const reserved = await sql.reserve();
    let digest;
    let rowCounts: Record<string, number>;
    try {
      // One snapshot for the counts and the dump: the manifest describes exactly what was dumped.
      await reserved.unsafe("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const [{ snapshot }] = await reserved<{ snapshot: string }[]>`
        SELECT pg_export_snapshot() AS snapshot`;
      rowCounts = await countRows(reserved);

      if (options.signal?.aborted) throw new OpsError("backup interrupted before pg_dump started");
      const dump = startPgDump(pgDump, options.databaseUrl, { snapshot });
      const onAbort = () => dump.kill();
      options.signal?.addEventListener("abort", onAbort);
      const startMs = performance.now();
      let lastDraw = 0;
      const meter = new DigestStream((bytes) => {
        const t = performance.now();
        if (t - lastDraw < 250) return;
        lastDraw = t;
        const seconds = (t - startMs) / 1000;
        output.progress(
          `  dumped ${formatBytes(bytes)} (${formatBytes(bytes / Math.max(seconds, 0.001))}/s, ` +
            `${formatDuration(t - startMs)})`,
        );
      }, () => dump.finished);
      try {
        await target.writeDump(name, dump.stdout.pipeThrough(meter));
        await dump.finished;
      } catch (error) {
        dump.kill();
        await dump.finished.catch(() => {});
        if (options.signal?.aborted) {
          throw new OpsError("backup interrupted; the partial dump was discarded", {
            cause: error,
          });
        }
        const dumpError = await dump.finished.then(() => undefined, (e) => e as Error);
        throw dumpError instanceof OpsError ? dumpError : error;
      } finally {
        options.signal?.removeEventListener("abort", onAbort);
        output.clearProgress();
      }
      digest = meter.result();
      await reserved.unsafe("COMMIT");
    } catch (error) {
      await reserved.unsafe("ROLLBACK").catch(() => {});
      throw withNothingDeleted(error);
    } finally {
      reserved.release();
    }

    const finished = now();
    const url = new URL(options.databaseUrl);
    const manifest: BackupManifest = {
      formatVersion: MANIFEST_FORMAT,
      name,
      dumpFile: dumpFileName(name),
      format: "custom",
      database: server.database,
      server: `${url.hostname}:${url.port || "5432"}`,
      postgresVersion: server.version,
      postgresMajor: server.major,
      pgDumpVersion: pgDump.version,
      pgDumpMajor: pgDump.major,
      sha256: digest.sha256,
      sizeBytes: digest.sizeBytes,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      rowCounts,
    };
    output.line(
      `  dumped ${formatBytes(digest.sizeBytes)} in ${formatDuration(manifest.durationMs)}; ` +
        `sha256 ${digest.sha256}`,
    );

    try {
      await verifyStoredDump(target, manifest);
    } catch (error) {
      await target.remove(name).catch(() => {});
      throw withNothingDeleted(error, "the stored dump failed verification and was removed");
    }
    output.line(`  verified: the stored dump reads back with the same size and SHA-256`);
    await target.writeManifest(manifest);
    output.line(`  manifest written: ${name}.manifest.json`);

    const retention = await applyRetention(target, server.database, options.keep);
    return { manifest, target: target.description, retention };
  } finally {
    await closeQuietly(sql);
  }
}

function withNothingDeleted(error: unknown, what = "no backup was written"): OpsError {
  const message = error instanceof Error ? error.message : String(error);
  return new OpsError(`backup failed: ${message}; ${what} and no old backup was deleted`, {
    cause: error,
    hint: error instanceof OpsError ? error.hint : undefined,
  });
}
