/**
 * Retention: keep the newest N complete backups of a database on one server, delete older ones.
 * Runs only after a new backup has been written and verified; backups without a valid manifest
 * (incomplete, or not made by this tool), backups of other databases and backups of other servers
 * (staging and production sharing a bucket and prefix) are never touched.
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import type { BackupManifest } from "./manifest.ts";
import type { BackupTarget, StoredBackup } from "./targets/target.ts";

/** Whose backups retention prunes: one database of one server. */
export interface BackupOrigin {
  /** The database's name, as recorded in the manifests' `database`. */
  database: string;
  /** host:port, as recorded in the manifests' `server`. */
  server: string;
  /** The server's `system_identifier`, when it could be read. */
  systemIdentifier?: string;
}

/**
 * Why a backup is not of `origin` (undefined when it is). Same server means the same
 * `system_identifier` when both sides have one (whatever the host name), the same host:port when
 * neither has; a manifest with an identity that cannot be compared is never taken for ours.
 *
 * @example
 * ```ts
 * foreignReason(manifest, { database: "freelance_platform", server: "db:5432", systemIdentifier: "7" });
 * ```
 */
export function foreignReason(manifest: BackupManifest, origin: BackupOrigin): string | undefined {
  if (manifest.database !== origin.database) return `backup of database ${manifest.database}`;
  const theirs = manifest.systemIdentifier;
  const ours = origin.systemIdentifier;
  if (theirs !== undefined && ours !== undefined) {
    return theirs === ours
      ? undefined
      : `backup of another server (${manifest.server}, system identifier ${theirs})`;
  }
  if (theirs === undefined && ours !== undefined) {
    return `no server identity in its manifest (made by an older version, from ${manifest.server}); ` +
      "not deleted automatically: delete it yourself when no longer needed";
  }
  if (theirs !== undefined && ours === undefined) {
    return `backup of server ${manifest.server} (system identifier ${theirs}); this server's ` +
      "identity could not be read, so it cannot be compared";
  }
  return manifest.server === origin.server
    ? undefined
    : `backup of another server (${manifest.server})`;
}

/** What retention keeps and removes. */
export interface RetentionPlan {
  /** The backups kept: the newest `keep`, newest first. */
  keep: string[];
  /** The older backups to delete. */
  remove: string[];
  /** Names that retention leaves alone (incomplete or foreign), with why. */
  ignored: { name: string; reason: string }[];
}

/**
 * Decides which backups of `origin` (a database on a server) to delete so that the newest `keep`
 * remain (newest by the manifest's start time).
 *
 * @example
 * ```ts
 * const origin = { database: "freelance_platform", server: "db:5432", systemIdentifier: "7301" };
 * const plan = planRetention(await target.list(), origin, 7);
 * plan.remove; // names of the backups older than the newest 7
 * ```
 */
export function planRetention(
  backups: StoredBackup[],
  origin: BackupOrigin,
  keep: number,
): RetentionPlan {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be >= 1, got ${keep}`);
  const ignored: RetentionPlan["ignored"] = [];
  const complete: StoredBackup[] = [];
  for (const backup of backups) {
    if (!backup.manifest) {
      ignored.push({ name: backup.name, reason: backup.problem ?? "no manifest" });
    } else {
      const foreign = foreignReason(backup.manifest, origin);
      if (foreign) ignored.push({ name: backup.name, reason: foreign });
      else complete.push(backup);
    }
  }
  complete.sort((a, b) =>
    b.manifest!.startedAt.localeCompare(a.manifest!.startedAt) || b.name.localeCompare(a.name)
  );
  return {
    keep: complete.slice(0, keep).map((b) => b.name),
    remove: complete.slice(keep).map((b) => b.name),
    ignored,
  };
}

/** The outcome of {@link applyRetention}. */
export interface RetentionResult extends RetentionPlan {
  /** The backups deleted. */
  removed: string[];
  /** The backups that could not be deleted, with the error. */
  failed: { name: string; error: string }[];
}

/**
 * Lists the target, plans and deletes. Deletion failures are collected, not thrown.
 *
 * @example
 * ```ts
 * const result = await applyRetention(target, { database: "freelance_platform", server: "db:5432" }, 7);
 * ```
 */
export async function applyRetention(
  target: BackupTarget,
  origin: BackupOrigin,
  keep: number,
): Promise<RetentionResult> {
  const plan = planRetention(await target.list(), origin, keep);
  const removed: string[] = [];
  const failed: RetentionResult["failed"] = [];
  for (const name of plan.remove) {
    try {
      await target.remove(name);
      removed.push(name);
    } catch (error) {
      failed.push({ name, error: errorMessage(error) });
    }
  }
  return { ...plan, removed, failed };
}
