/**
 * Restore and test-restore of a backup.
 *
 * Both verify the dump against its manifest before anything else. A restore then loads the dump
 * into a new database beside the target, checks its row counts against the manifest, and only
 * then swaps it into place (the old database is kept under another name, or dropped with
 * `dropOld`), so a failed restore leaves the target exactly as it was. A test restore
 * (`--verify`) loads into a scratch database, compares, and drops it.
 *
 * @module
 */
import type { BackupManifest } from "../backup/manifest.ts";
import type { BackupTarget, StoredBackup } from "../backup/targets/target.ts";
import { manifestMismatch } from "../backup/manifest.ts";
import { verifyDumpFile, verifyStoredDump } from "../backup/verify_stored.ts";
import { confirm } from "../shared/confirm.ts";
import { databaseName, describeServer, withDatabase } from "../shared/db.ts";
import { OpsError } from "../shared/errors.ts";
import { compactStamp, formatBytes, formatCount, formatDuration } from "../shared/format.ts";
import type { Output } from "../shared/output.ts";
import { findPgTool, type PgTool, requireToolVersion } from "../shared/pg_tools.ts";
import { renderTable } from "../shared/table.ts";
import { compareCounts, type CountComparison } from "./compare.ts";
import { runPgRestore } from "./pg_restore.ts";
import { scaleDownGuide, scaleUpGuide } from "./scale_guide.ts";
import { type DatabaseContents, ServerAdmin } from "./server_admin.ts";
import { waitForHealthy } from "../shared/health.ts";
import { type CacheInvalidation, type CacheSettings, invalidateCache } from "./invalidate_cache.ts";

/** Options shared by restore and test restore. */
export interface RestoreOptions {
  /** DATABASE_URL: the server, credentials and (for a restore) the database to replace. */
  databaseUrl: string;
  /** Where the backup is. */
  target: BackupTarget;
  /** The backup's name (see {@linkcode listBackups}). */
  name: string;
  /** Where progress, questions and results are written. */
  output: Output;
  /** Directory of pg_restore, when not the newest found on the machine. */
  pgBinDir?: string;
  /** Parallel pg_restore jobs. */
  jobs?: number;
  /** Restore a backup of another database than the target's. */
  allowOtherDatabase?: boolean;
  /** Aborting (Ctrl-C) stops pg_restore; the scratch or staging database is dropped. */
  signal?: AbortSignal;
}

/** Options of {@link runRestore}. */
export interface FullRestoreOptions extends RestoreOptions {
  /** Confirmed on the command line. */
  yes: boolean;
  /** Create the target database when it does not exist (otherwise refuse). */
  create?: boolean;
  /** Drop the replaced database instead of keeping it under another name. */
  dropOld?: boolean;
  /** Service /health URLs to wait for after the swap (none: no wait). */
  healthUrls?: Record<string, string>;
  /** How long to wait for `healthUrls` (default 5 minutes). */
  healthTimeoutMs?: number;
  /**
   * The Redis cache to clear once the restored database is in place (its entries were read from
   * the replaced one). Unset: the cache is left alone.
   */
  cache?: CacheSettings;
  /** The clock (default: the system's), for the kept database's name. */
  now?: () => Date;
}

/** What a test restore found. */
export interface VerifyResult {
  /** The backup's name. */
  backup: string;
  /** The scratch database it was loaded into (dropped afterwards). */
  scratchDatabase: string;
  /** Whether every table's row count matched the manifest. */
  ok: boolean;
  /** Every table's expected and actual count. */
  comparison: CountComparison[];
  /** How long pg_restore took, in milliseconds. */
  restoreMs: number;
}

/** What a restore did. */
export interface RestoreResult {
  /** The backup's name. */
  backup: string;
  /** The database replaced. */
  database: string;
  /** The replaced database's new name, when kept. */
  keptAs?: string;
  /** Whether the replaced database was dropped. */
  droppedOld: boolean;
  /** Every table's expected and actual count. */
  comparison: CountComparison[];
  /** How long pg_restore took, in milliseconds. */
  restoreMs: number;
  /** What clearing the cache did (when {@link FullRestoreOptions.cache} was given). */
  cache?: CacheInvalidation;
  /** Whether every service in `healthUrls` became healthy in time; unset when none was given. */
  healthy?: boolean;
}

interface Prepared {
  manifest: BackupManifest;
  pgRestore: PgTool;
  admin: ServerAdmin;
  file: string;
  cleanup: () => Promise<void>;
}

/**
 * Checks tools, server and checksum, and makes the dump available as a local file. Touches no
 * database. The caller must call `cleanup()`.
 */
async function prepare(options: RestoreOptions, intoDatabase: string): Promise<Prepared> {
  const { output, target, name } = options;
  const manifest = await target.readManifest(name);
  // The manifest vouches only for its own dump: one copied beside another dump must not make a
  // truncated or foreign file pass for the original.
  const mismatch = manifestMismatch(name, manifest);
  if (mismatch) {
    throw new OpsError(
      `backup ${name} in ${target.description} cannot be trusted: ${mismatch}. Nothing was changed.`,
      {
        hint: "a dump is only restored with its own manifest; restore the backup by its original " +
          "name (list them with `deno task restore`)",
      },
    );
  }
  output.line(
    `Backup ${name}: database ${manifest.database}, taken ${manifest.startedAt} from PostgreSQL ` +
      `${manifest.postgresMajor}, ${formatBytes(manifest.sizeBytes)}, in ${target.description}`,
  );
  if (manifest.database !== intoDatabase && !options.allowOtherDatabase) {
    throw new OpsError(
      `backup ${name} is of database "${manifest.database}", not "${intoDatabase}" (DATABASE_URL). ` +
        "Nothing was changed.",
      { hint: "pick a backup of this database, or pass --allow-other-database if you mean it" },
    );
  }
  const pgRestore = await findPgTool("pg_restore", options.pgBinDir);
  requireToolVersion(pgRestore, manifest.pgDumpMajor, "the pg_dump that made this backup");
  const admin = await ServerAdmin.open(options.databaseUrl);
  let tempFile: string | undefined;
  try {
    const [{ num }] = await admin.sql<{ num: string }[]>`
      SELECT current_setting('server_version_num') AS num`;
    const serverMajor = Math.floor(Number(num) / 10000);
    if (serverMajor < manifest.postgresMajor) {
      output.warn(
        `warning: the backup comes from PostgreSQL ${manifest.postgresMajor}, this server is ` +
          `${serverMajor}; the restore may fail on features the older server lacks`,
      );
    }
    let file = target.localDumpPath(name);
    const started = performance.now();
    const progress = (bytes: number) =>
      output.progress(`  checking ${formatBytes(bytes)} of ${formatBytes(manifest.sizeBytes)}`);
    if (file) {
      // Exactly the file pg_restore will read.
      await verifyDumpFile(file, name, manifest, { onProgress: progress });
    } else {
      // Downloaded in the same pass as the check: pg_restore reads the bytes that were checked.
      tempFile = await Deno.makeTempFile({ prefix: "fp-restore-", suffix: ".dump" });
      const sink = await Deno.open(tempFile, { write: true, truncate: true });
      await verifyStoredDump(target, name, manifest, {
        copyTo: sink.writable,
        onProgress: progress,
      });
      file = tempFile;
    }
    output.clearProgress();
    output.line(
      `  checksum OK: ${formatBytes(manifest.sizeBytes)}, sha256 ${
        manifest.sha256.slice(0, 16)
      }… ` +
        `(${formatDuration(performance.now() - started)})`,
    );
    const temp = tempFile;
    return {
      manifest,
      pgRestore,
      admin,
      file,
      cleanup: async () => {
        if (temp) await Deno.remove(temp).catch(() => {});
        await admin.close();
      },
    };
  } catch (error) {
    output.clearProgress();
    if (tempFile) await Deno.remove(tempFile).catch(() => {});
    await admin.close();
    throw error instanceof OpsError
      ? new OpsError(`${error.message}. Nothing was changed.`, { hint: error.hint, cause: error })
      : error;
  }
}

function serverOf(url: string): string {
  return describeServer(url).replace(/\/[^/]*$/, "");
}

function defaultJobs(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency ?? 2));
}

/**
 * Renders a count comparison as a table.
 *
 * @example
 * ```ts
 * output.line(comparisonTable(result.comparison));
 * ```
 */
export function comparisonTable(comparison: CountComparison[]): string {
  return renderTable(
    [
      { header: "table" },
      { header: "manifest", align: "right" },
      { header: "restored", align: "right" },
      { header: "" },
    ],
    comparison.map((c) => [
      c.table,
      c.expected === undefined ? "-" : formatCount(c.expected),
      c.actual === undefined ? "-" : formatCount(c.actual),
      c.ok ? "ok" : "MISMATCH",
    ]),
  );
}

/**
 * Test restore: restores into a scratch database, compares row counts with the manifest, drops
 * the scratch database. Changes nothing else.
 *
 * @example
 * ```ts
 * const result = await runVerify({ databaseUrl, target, name, output });
 * if (!result.ok) Deno.exit(1);
 * ```
 */
export async function runVerify(options: RestoreOptions): Promise<VerifyResult> {
  const { output } = options;
  const intoDatabase = databaseName(options.databaseUrl);
  const prepared = await prepare({ ...options, allowOtherDatabase: true }, intoDatabase);
  const { admin, manifest } = prepared;
  let scratch: string | undefined;
  try {
    scratch = await admin.freeName(
      `${manifest.database.slice(0, 30)}_verify_${compactStamp(new Date())}`,
    );
    output.line(
      `  test restore into scratch database ${scratch} on ${serverOf(options.databaseUrl)}`,
    );
    await admin.create(scratch);
    const started = performance.now();
    await runPgRestore(
      prepared.pgRestore,
      withDatabase(options.databaseUrl, scratch),
      prepared.file,
      options.jobs ?? defaultJobs(),
      options.signal,
    );
    const restoreMs = performance.now() - started;
    const comparison = compareCounts(manifest.rowCounts, await admin.rowCounts(scratch));
    const ok = comparison.every((c) => c.ok);
    output.line(`  restored in ${formatDuration(restoreMs)}`);
    output.line(comparisonTable(comparison));
    return { backup: manifest.name, scratchDatabase: scratch, ok, comparison, restoreMs };
  } finally {
    if (scratch) {
      await admin.drop(scratch).then(
        () => output.line(`  scratch database ${scratch} dropped`),
        (error) => output.warn(`warning: could not drop scratch database ${scratch}: ${error}`),
      );
    }
    await prepared.cleanup();
  }
}

function describePlan(
  name: string,
  destroyed: boolean,
  contents: DatabaseContents | undefined,
  manifest: BackupManifest,
): string[] {
  const tables = [
    ...new Set([...Object.keys(contents?.rowCounts ?? {}), ...Object.keys(manifest.rowCounts)]),
  ].sort();
  const count = (n: number | undefined) => n === undefined ? "-" : formatCount(n);
  const lines = renderTable(
    [
      { header: "table" },
      { header: destroyed ? "rows now (destroyed)" : "rows now", align: "right" },
      { header: "rows in backup", align: "right" },
    ],
    tables.map((t) => [t, count(contents?.rowCounts[t]), count(manifest.rowCounts[t])]),
  ).split("\n").map((line) => `  ${line}`);
  if (contents) {
    lines.unshift(`  "${name}" now: ${formatBytes(contents.sizeBytes)}, ${tables.length} tables`);
    if (contents.sessions.length > 0) {
      lines.push(
        `  connected now (will be disconnected): ` +
          contents.sessions.map((s) => `${s.application} x${s.count}`).join(", "),
      );
    }
  }
  return lines;
}

/**
 * Restores a backup over the database of DATABASE_URL, after confirmation.
 *
 * @example
 * ```ts
 * await runRestore({ databaseUrl, target, name, output, yes: true });
 * ```
 */
export async function runRestore(options: FullRestoreOptions): Promise<RestoreResult> {
  const { output } = options;
  const database = databaseName(options.databaseUrl);
  const now = options.now ?? (() => new Date());
  const prepared = await prepare(options, database);
  const { admin, manifest } = prepared;
  let staging: string | undefined;
  let swapped = false;
  try {
    const exists = await admin.exists(database);
    if (!exists && !options.create) {
      throw new OpsError(
        `database "${database}" does not exist on ${
          describeServer(options.databaseUrl)
        }. Nothing was changed.`,
        { hint: "check DATABASE_URL, or pass --create to create it from the backup" },
      );
    }
    const stamp = compactStamp(now());
    const keepAs = exists && !options.dropOld
      ? await admin.freeName(`${database.slice(0, 30)}_pre_restore_${stamp}`)
      : undefined;

    output.line("");
    output.line(
      `This will ${exists ? "REPLACE" : "create"} database "${database}" on ` +
        `${serverOf(options.databaseUrl)} with backup ${manifest.name}:`,
    );
    const contents = exists ? await admin.describe(database) : undefined;
    for (const line of describePlan(database, exists && !keepAs, contents, manifest)) {
      output.line(line);
    }
    if (exists) {
      output.line(
        keepAs
          ? `  the current database is kept as "${keepAs}" (drop it once satisfied; needs the disk space)`
          : `  the current database will be DROPPED (--drop-old): its data is destroyed`,
      );
    }
    output.line("");
    for (const line of scaleDownGuide()) output.line(line);
    output.line("");
    confirm(output, {
      yes: options.yes,
      action: `${exists ? "replace" : "create"} database "${database}"`,
      typeToConfirm: database,
    });

    if (options.signal?.aborted) throw new OpsError("restore interrupted; nothing was changed");
    staging = await admin.freeName(`${database.slice(0, 30)}_restore_${stamp}`);
    output.line(
      `Restoring into new database ${staging} (the current one is untouched until the swap)`,
    );
    await admin.create(staging);
    const started = performance.now();
    try {
      await runPgRestore(
        prepared.pgRestore,
        withDatabase(options.databaseUrl, staging),
        prepared.file,
        options.jobs ?? defaultJobs(),
        options.signal,
      );
    } catch (error) {
      throw new OpsError(
        `${error instanceof Error ? error.message : error}; "${database}" was not changed ` +
          `(the partial copy ${staging} is dropped)`,
        { cause: error },
      );
    }
    const restoreMs = performance.now() - started;
    output.line(`  pg_restore done in ${formatDuration(restoreMs)}`);
    const comparison = compareCounts(manifest.rowCounts, await admin.rowCounts(staging));
    if (!comparison.every((c) => c.ok)) {
      output.line(comparisonTable(comparison));
      throw new OpsError(
        `the restored row counts differ from the manifest; "${database}" was not changed`,
      );
    }
    output.line(`  row counts match the manifest (${comparison.length} tables)`);
    // pg_restore brings no planner statistics: without this the first queries plan blind.
    const analyzeMs = await admin.analyze(staging);
    output.line(`  ANALYZE done in ${formatDuration(analyzeMs)}`);

    if (options.signal?.aborted) {
      throw new OpsError(`restore interrupted before the swap; "${database}" was not changed`);
    }
    const oldName = keepAs ?? await admin.freeName(`${database.slice(0, 30)}_replaced_${stamp}`);
    await admin.swap(database, staging, oldName);
    swapped = true;
    let droppedOld = false;
    if (exists && !keepAs) {
      await admin.drop(oldName);
      droppedOld = true;
      output.line(`  swapped in; the previous database was dropped`);
    } else if (keepAs) {
      output.line(`  swapped in; the previous database is now "${keepAs}"`);
      output.line(`    when satisfied: psql -c 'DROP DATABASE "${keepAs}";'`);
    } else {
      output.line(`  database "${database}" created from the backup`);
    }
    const cache = options.cache ? await invalidateCache(options.cache, output) : undefined;
    output.line("");
    for (const line of scaleUpGuide()) output.line(line);

    const result: RestoreResult = {
      backup: manifest.name,
      database,
      keptAs: keepAs,
      droppedOld,
      comparison,
      restoreMs,
      cache,
    };
    if (options.healthUrls && Object.keys(options.healthUrls).length > 0) {
      const timeout = options.healthTimeoutMs ?? 300_000;
      output.line(`Waiting up to ${formatDuration(timeout)} for the services' /health:`);
      const { healthy } = await waitForHealthy(options.healthUrls, output, timeout);
      result.healthy = healthy;
      output.line(healthy ? "  all services healthy" : "  NOT all services are healthy");
    }
    return result;
  } finally {
    if (staging && !swapped) {
      await admin.drop(staging).catch((error) =>
        output.warn(`warning: could not drop ${staging}: ${error}`)
      );
    }
    await prepared.cleanup();
  }
}

/**
 * Prints the backups of a target, newest first; returns them.
 *
 * @example
 * ```ts
 * await listBackups(target, output);
 * ```
 */
export async function listBackups(
  target: BackupTarget,
  output: Output,
): Promise<StoredBackup[]> {
  const backups = await target.list();
  if (backups.length === 0) {
    output.line(`No backups in ${target.description}.`);
    return backups;
  }
  output.line(`Backups in ${target.description} (newest first):`);
  output.line(
    renderTable(
      [
        { header: "name" },
        { header: "taken (UTC)" },
        { header: "size", align: "right" },
        { header: "database" },
        { header: "PG", align: "right" },
        { header: "rows", align: "right" },
        { header: "status" },
      ],
      backups.map((b) => [
        b.name,
        b.manifest?.startedAt.replace("T", " ").slice(0, 19) ?? "-",
        b.sizeBytes === undefined ? "-" : formatBytes(b.sizeBytes),
        b.manifest?.database ?? "-",
        b.manifest ? String(b.manifest.postgresMajor) : "-",
        b.manifest
          ? formatCount(Object.values(b.manifest.rowCounts).reduce((a, n) => a + n, 0))
          : "-",
        b.problem ? `unusable: ${b.problem}` : "ok",
      ]),
    ),
  );
  output.line("");
  output.line("Restore one:      deno task restore <name>");
  output.line("Test-restore one: deno task restore --verify <name>");
  return backups;
}
