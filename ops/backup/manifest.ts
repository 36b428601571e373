/**
 * The manifest stored beside each dump: what was backed up, from which server, when, its SHA-256
 * and size, and the row count of every table in the dump's snapshot. Restore trusts a dump only
 * when it matches its manifest; the manifest is written last, so a dump without one is incomplete.
 *
 * @module
 */
import { compactStamp } from "../shared/format.ts";

/** Version of the manifest layout. */
export const MANIFEST_FORMAT = 1;

/** A backup's manifest (`<name>.manifest.json`). */
export interface BackupManifest {
  /** The manifest layout's version, {@linkcode MANIFEST_FORMAT}. */
  formatVersion: typeof MANIFEST_FORMAT;
  /** Base name shared by the dump and the manifest, e.g. `freelance_platform_20241019_153000_123`. */
  name: string;
  /** File name of the dump, `<name>.dump`. */
  dumpFile: string;
  /** pg_dump's format; always "custom" (already compressed, restorable in parallel). */
  format: "custom";
  /** The database that was dumped. */
  database: string;
  /** host:port of the server (no credentials), as DATABASE_URL named it. */
  server: string;
  /**
   * The cluster's `system_identifier` (from `pg_control_system()`): tells apart servers that share
   * a name (staging and production both reached as `postgres:5432`). Absent in manifests written
   * before it was recorded, or when the server did not tell.
   */
  systemIdentifier?: string;
  /** The server's PostgreSQL version, e.g. `16.4`. */
  postgresVersion: string;
  /** The server's PostgreSQL major version, e.g. 16. */
  postgresMajor: number;
  /** The version of the pg_dump that made the dump. */
  pgDumpVersion: string;
  /** pg_dump's major version (restore needs a pg_restore at least as new). */
  pgDumpMajor: number;
  /** SHA-256 of the dump's bytes, in hex. */
  sha256: string;
  /** Size of the dump in bytes. */
  sizeBytes: number;
  /** When the dump started, ISO 8601 UTC (retention orders backups by it). */
  startedAt: string;
  /** When the dump finished, ISO 8601 UTC. */
  finishedAt: string;
  /** How long the dump took, in milliseconds. */
  durationMs: number;
  /** Exact counts, taken in the same snapshot as the dump. */
  rowCounts: Record<string, number>;
}

/**
 * The base name of a backup of `database` started at `date` (UTC, to the millisecond).
 *
 * @example
 * ```ts
 * backupName("freelance_platform", new Date("2024-10-19T15:30:00.123Z"));
 * // "freelance_platform_20241019_153000_123"
 * ```
 */
export function backupName(database: string, date: Date): string {
  const safe = database.replace(/[^A-Za-z0-9_-]/g, "_");
  return `${safe}_${compactStamp(date)}_${String(date.getUTCMilliseconds()).padStart(3, "0")}`;
}

/**
 * The dump's file name.
 *
 * @example
 * ```ts
 * dumpFileName("fp_20241019_153000_123"); // "fp_20241019_153000_123.dump"
 * ```
 */
export function dumpFileName(name: string): string {
  return `${name}.dump`;
}

/**
 * The manifest's file name.
 *
 * @example
 * ```ts
 * manifestFileName("fp_20241019_153000_123"); // "fp_20241019_153000_123.manifest.json"
 * ```
 */
export function manifestFileName(name: string): string {
  return `${name}.manifest.json`;
}

/**
 * The backup name of a file name or path (`.../x.dump` or `x.manifest.json` -> `x`).
 *
 * @example
 * ```ts
 * nameOf("backups/fp_20241019_153000_123.dump"); // "fp_20241019_153000_123"
 * ```
 */
export function nameOf(fileOrName: string): string {
  const base = fileOrName.split("/").pop() ?? fileOrName;
  return base.replace(/\.manifest\.json$/, "").replace(/\.dump$/, "");
}

/**
 * Why `manifest` cannot be the manifest of the backup stored as `name` (undefined when it can):
 * a manifest copied or renamed beside another dump would otherwise vouch for a dump it never
 * described.
 *
 * @example
 * ```ts
 * manifestMismatch("copy", manifest); // 'its manifest describes backup "fp_20241019_153000_123", not "copy"'
 * ```
 */
export function manifestMismatch(name: string, manifest: BackupManifest): string | undefined {
  if (manifest.name !== name) {
    return `its manifest describes backup "${manifest.name}", not "${name}"`;
  }
  if (manifest.dumpFile !== dumpFileName(name)) {
    return `its manifest names dump file "${manifest.dumpFile}", not "${dumpFileName(name)}"`;
  }
  return undefined;
}

/**
 * Serialises a manifest (stable key order, trailing newline).
 *
 * @example
 * ```ts
 * await Deno.writeTextFile(path, stringifyManifest(manifest));
 * ```
 */
export function stringifyManifest(manifest: BackupManifest): string {
  return JSON.stringify(manifest, null, 2) + "\n";
}

/**
 * Parses and checks a manifest; throws an Error naming the first bad field.
 *
 * @example
 * ```ts
 * const manifest = parseManifest(await Deno.readTextFile(path));
 * ```
 */
export function parseManifest(text: string): BackupManifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`manifest is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null) throw new Error("manifest is not an object");
  const need = (field: string, type: "string" | "number" | "object") => {
    if (typeof value[field] !== type || value[field] === null) {
      throw new Error(`manifest field "${field}" is missing or not a ${type}`);
    }
  };
  if (value.formatVersion !== MANIFEST_FORMAT) {
    throw new Error(`manifest formatVersion ${value.formatVersion} is not supported`);
  }
  for (const field of ["name", "dumpFile", "database", "server", "postgresVersion"]) {
    need(field, "string");
  }
  for (const field of ["pgDumpVersion", "sha256", "startedAt", "finishedAt"]) need(field, "string");
  for (const field of ["postgresMajor", "pgDumpMajor", "sizeBytes", "durationMs"]) {
    need(field, "number");
  }
  need("rowCounts", "object");
  if (value.systemIdentifier !== undefined && !/^[0-9]+$/.test(String(value.systemIdentifier))) {
    throw new Error("manifest systemIdentifier is not a number");
  }
  if (value.format !== "custom") throw new Error(`manifest format "${value.format}" unsupported`);
  if (!/^[0-9a-f]{64}$/.test(value.sha256 as string)) {
    throw new Error("manifest sha256 is not 64 hex digits");
  }
  for (const [table, count] of Object.entries(value.rowCounts as Record<string, unknown>)) {
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      throw new Error(`manifest row count of "${table}" is not a non-negative integer`);
    }
  }
  return value as unknown as BackupManifest;
}

/**
 * Total rows over all tables of a manifest.
 *
 * @example
 * ```ts
 * totalRows({ tasks: 3, users: 2 }); // 5
 * ```
 */
export function totalRows(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
