/**
 * One backup, start to finish: check the tools, the server and the target; dump in a consistent
 * snapshot (row counts taken in the same snapshot) streamed to the target while hashing; read the
 * stored dump back to verify it; write the manifest; only then apply retention.
 * Any failure before the manifest leaves no new backup and never deletes an old one.
 *
 * @module
 */
import { errorMessage, OpsError } from "../shared/errors.ts";
import {
  closeQuietly,
  countRows,
  openDatabase,
  OPS_APPLICATION_PREFIX,
  serverInfo,
  systemIdentifier,
} from "../shared/db.ts";
import { formatBytes, formatDuration } from "../shared/format.ts";
import type { Output } from "../shared/output.ts";
import { findPgTool, type PgTool, requireToolVersion } from "../shared/pg_tools.ts";
import { DigestStream, type StreamDigest } from "./digest.ts";
import { type BackupManifest, backupName, dumpFileName, MANIFEST_FORMAT } from "./manifest.ts";
import { startPgDump } from "./pg_dump.ts";
import { applyRetention, type RetentionResult } from "./retention.ts";
import type { BackupTarget } from "./targets/target.ts";
import { verifyStoredDump } from "./verify_stored.ts";

/**
 * The backup's sessions in pg_stat_activity. Its snapshot session is idle in a transaction for the
 * whole dump, by design: terminate-idle and the doctor leave `fp-ops-*` sessions alone while
 * their transaction is younger than OPS_SESSION_SPARE_MS (6h; older ones are presumed stuck).
 */
export const BACKUP_APPLICATION_NAME = `${OPS_APPLICATION_PREFIX}backup`;

/** Options of {@link runBackup}. */
export interface BackupOptions {
  /** DATABASE_URL: the server, credentials and database to dump. */
  databaseUrl: string;
  /** Where the dump and its manifest are written. */
  target: BackupTarget;
  /** Keep this many newest backups of the database (after the new one is verified). */
  keep: number;
  /** Directory of pg_dump, when not the newest found on the machine. */
  pgBinDir?: string;
  /** Where progress and results are written. */
  output: Output;
  /** Aborting stops pg_dump and discards the partial dump. */
  signal?: AbortSignal;
  /** The clock (default: the system's), for the backup's name and times. */
  now?: () => Date;
}

/** What a backup did. */
export interface BackupResult {
  /** The new backup's manifest. */
  manifest: BackupManifest;
  /** The target's description, e.g. `local directory ./backups`. */
  target: string;
  /** What retention kept and deleted afterwards. */
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
    // Its snapshot session is idle in a transaction for the whole dump, by design:
    // terminate-idle and the doctor recognise the fp-ops- prefix and leave it alone for 6h.
    applicationName: BACKUP_APPLICATION_NAME,
    max: 2,
  });
  try {
    const server = await serverInfo(sql);
    requireToolVersion(pgDump, server.major, "the server");
    const identity = await systemIdentifier(sql);
    await target.checkWritable();

    const started = now();
    const name = backupName(server.database, started);
    output.line(
      `Backing up database ${server.database} (PostgreSQL ${server.version}) with ${pgDump.path} ` +
        `${pgDump.version} to ${target.description} as ${dumpFileName(name)}`,
    );

    // The dump exists in the target once writeDump resolved: from then on, any failure before
    // the manifest is written removes it (a dump without manifest is never used, only clutter).
    let written = false;
    let manifest: BackupManifest;
    try {
      const { digest, rowCounts } = await dumpInSnapshot(options, pgDump, name, () => {
        written = true;
      });
      const finished = now();
      const url = new URL(options.databaseUrl);
      manifest = {
        formatVersion: MANIFEST_FORMAT,
        name,
        dumpFile: dumpFileName(name),
        format: "custom",
        database: server.database,
        server: `${url.hostname}:${url.port || "5432"}`,
        ...(identity === undefined ? {} : { systemIdentifier: identity }),
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
        await verifyStoredDump(target, name, manifest);
      } catch (error) {
        throw new OpsError(`the stored dump failed verification: ${errorMessage(error)}`, {
          cause: error,
          hint: error instanceof OpsError ? error.hint : undefined,
        });
      }
      output.line(`  verified: the stored dump reads back with the same size and SHA-256`);
      if (options.signal?.aborted) throw new OpsError("backup interrupted before the manifest");
      await target.writeManifest(manifest);
    } catch (error) {
      if (!written) throw withNothingDeleted(error);
      const removed = await target.remove(name).then(
        () => `the incomplete dump ${dumpFileName(name)} was removed`,
        (removeError) =>
          `the incomplete dump ${dumpFileName(name)} could NOT be removed ` +
          `(${errorMessage(removeError)}; delete it by hand)`,
      );
      throw withNothingDeleted(error, removed);
    }
    output.line(`  manifest written: ${name}.manifest.json`);

    const retention = await applyRetention(target, {
      database: server.database,
      server: manifest.server,
      systemIdentifier: manifest.systemIdentifier,
    }, options.keep);
    return { manifest, target: target.description, retention };
  } finally {
    await closeQuietly(sql);
  }
}

/**
 * Exports a snapshot in a REPEATABLE READ transaction of the `fp-ops-backup` session (which
 * terminate-idle and the doctor leave alone: it is idle in a transaction for the whole dump by
 * design), counts every table's rows in it, and streams pg_dump of that snapshot into the target.
 * `onWritten` is called as soon as the dump exists in the target.
 */
async function dumpInSnapshot(
  options: BackupOptions,
  pgDump: PgTool,
  name: string,
  onWritten: () => void,
): Promise<{ digest: StreamDigest; rowCounts: Record<string, number> }> {
  const { output, target } = options;
  // A client of its own, one connection, never closed for idleness or age: its transaction must
  // stay open until pg_dump has imported the snapshot. (Not a reserved connection of a pool:
  // postgres.js crashes when a reserved connection that the server closed is used again.)
  const session = await openDatabase(options.databaseUrl, {
    applicationName: BACKUP_APPLICATION_NAME,
    max: 1,
    keepOpen: true,
  });
  try {
    let digest: StreamDigest;
    let rowCounts: Record<string, number>;
    let pid: number;
    try {
      // One snapshot for the counts and the dump: the manifest describes exactly what was dumped.
      // Should the session die before pg_dump imported the snapshot, the import fails and so does
      // the backup: counts and dump can never come from different snapshots.
      await session.unsafe("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const [exported] = await session<{ snapshot: string; pid: number }[]>`
        SELECT pg_export_snapshot() AS snapshot, pg_backend_pid() AS pid`;
      pid = exported.pid;
      rowCounts = await countRows(session);

      if (options.signal?.aborted) throw new OpsError("backup interrupted before pg_dump started");
      const dump = startPgDump(pgDump, options.databaseUrl, { snapshot: exported.snapshot });
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
        onWritten();
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
    } catch (error) {
      await session.unsafe("ROLLBACK").catch(() => {});
      throw error;
    }
    // pg_dump ran in its own transaction on the imported snapshot and exited 0: ending ours
    // cannot change the dump. If the session is gone (terminated, server restarted) or COMMIT
    // fails, say so and go on: the stored dump is verified byte for byte next.
    const problem = await session<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`.then(
      async ([now]) => {
        if (now.pid !== pid) return `the session (pid ${pid}) was ended during the dump`;
        await session.unsafe("COMMIT");
        return undefined;
      },
      (error) => errorMessage(error),
    ).catch((error) => errorMessage(error));
    if (problem) {
      output.warn(
        `warning: ending the snapshot transaction failed: ${problem}; ` +
          "pg_dump had finished, the dump is verified next",
      );
    }
    return { digest, rowCounts };
  } finally {
    await closeQuietly(session);
  }
}

function withNothingDeleted(error: unknown, what = "no backup was written"): OpsError {
  const message = error instanceof Error ? error.message : String(error);
  return new OpsError(`backup failed: ${message}; ${what} and no old backup was deleted`, {
    cause: error,
    hint: error instanceof OpsError ? error.hint : undefined,
  });
}
