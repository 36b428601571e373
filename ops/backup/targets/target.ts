/**
 * Where backups are kept: the interface a local directory and S3-compatible storage implement.
 * A dump is written atomically (it appears complete or not at all) and its manifest after it.
 *
 * @module
 */
import type { BackupManifest } from "../manifest.ts";

/** One backup found in a target. */
export interface StoredBackup {
  name: string;
  /** Size of the stored dump, when present. */
  sizeBytes?: number;
  /** The parsed manifest; undefined when the dump is incomplete or its manifest unreadable. */
  manifest?: BackupManifest;
  /** Why the backup cannot be used, when it cannot (no manifest, bad manifest, no dump). */
  problem?: string;
}

/**
 * A place to keep backups.
 *
 * @example
 * ```ts
 * const target: BackupTarget = new LocalTarget("./backups");
 * await target.checkWritable();
 * ```
 */
export interface BackupTarget {
  /** For messages: "local directory /srv/backups" or "s3://bucket/db-backups/". */
  readonly description: string;
  /** Throws an OpsError when backups cannot be written here. */
  checkWritable(): Promise<void>;
  /** Stores the dump under `name`; nothing named `name` is visible unless this resolves. */
  writeDump(name: string, data: ReadableStream<Uint8Array>): Promise<void>;
  /** Stores the manifest (after the dump). */
  writeManifest(manifest: BackupManifest): Promise<void>;
  /** Every backup (complete or not), newest name first. */
  list(): Promise<StoredBackup[]>;
  /** The manifest of `name`; throws an OpsError when missing or invalid. */
  readManifest(name: string): Promise<BackupManifest>;
  /** The stored dump's bytes. */
  openDump(name: string): Promise<ReadableStream<Uint8Array>>;
  /** The dump's path when it is a local file (pg_restore reads it directly). */
  localDumpPath(name: string): string | undefined;
  /** Deletes the dump and its manifest. */
  remove(name: string): Promise<void>;
  /** Releases connections. */
  close(): void;
}
