/**
 * Where backups are kept: the interface a local directory and S3-compatible storage implement.
 * A dump is written atomically (it appears complete or not at all) and its manifest after it.
 *
 * @module
 */
import type { BackupManifest } from "../manifest.ts";

/** One backup found in a target. */
export interface StoredBackup {
  /** The backup's base name (its dump is `<name>.dump`). */
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

/** What a target's listing found under one backup name. */
export interface ListedFiles {
  /** Size of the dump, when there is one. */
  dump?: number;
  manifest: boolean;
}

/**
 * Files of a target grouped by backup name: `<name>.dump` and `<name>.manifest.json`.
 *
 * @example
 * ```ts
 * const files = new BackupFiles();
 * files.add("b1.dump", 1024);
 * files.add("b1.manifest.json", 0);
 * ```
 */
export class BackupFiles {
  readonly byName = new Map<string, ListedFiles>();

  /** Records one file; names that are neither a dump nor a manifest are ignored. */
  add(file: string, size: number): void {
    const dump = /^(.+)\.dump$/.exec(file);
    const manifest = /^(.+)\.manifest\.json$/.exec(file);
    const name = dump?.[1] ?? manifest?.[1];
    if (!name) return;
    const item = this.byName.get(name) ?? { manifest: false };
    if (dump) item.dump = size;
    if (manifest) item.manifest = true;
    this.byName.set(name, item);
  }

  /**
   * The backups, newest name first, each with its manifest or the reason it cannot be used.
   * `readManifest` throws an error whose message says why a manifest cannot be read.
   */
  async backups(
    readManifest: (name: string) => Promise<BackupManifest>,
    mismatch: (name: string, manifest: BackupManifest) => string | undefined,
  ): Promise<StoredBackup[]> {
    const backups: StoredBackup[] = [];
    for (const [name, item] of this.byName) {
      const backup: StoredBackup = { name, sizeBytes: item.dump };
      if (item.dump === undefined) backup.problem = "manifest without dump";
      else if (!item.manifest) backup.problem = "no manifest (incomplete or not made by this tool)";
      else {
        try {
          const manifest = await readManifest(name);
          const problem = mismatch(name, manifest);
          if (problem) backup.problem = problem;
          else backup.manifest = manifest;
        } catch (error) {
          backup.problem = error instanceof Error ? error.message : String(error);
        }
      }
      backups.push(backup);
    }
    return backups.sort((a, b) => b.name.localeCompare(a.name));
  }
}
