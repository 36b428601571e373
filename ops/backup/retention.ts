/**
 * Retention: keep the newest N complete backups of a database, delete older ones. Runs only after
 * a new backup has been written and verified; backups without a valid manifest (incomplete, or
 * not made by this tool) and backups of other databases are never touched.
 *
 * @module
 */
import { errorMessage } from "../shared/errors.ts";
import type { BackupTarget, StoredBackup } from "./targets/target.ts";

/** What retention keeps and removes. */
export interface RetentionPlan {
  keep: string[];
  remove: string[];
  /** Names that retention leaves alone (incomplete or foreign), with why. */
  ignored: { name: string; reason: string }[];
}

/**
 * Decides which backups of `database` to delete so that the newest `keep` remain (newest by the
 * manifest's start time).
 *
 * @example
 * ```ts
 * const plan = planRetention(await target.list(), "freelance_platform", 7);
 * plan.remove; // names of the backups older than the newest 7
 * ```
 */
export function planRetention(
  backups: StoredBackup[],
  database: string,
  keep: number,
): RetentionPlan {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be >= 1, got ${keep}`);
  const ignored: RetentionPlan["ignored"] = [];
  const complete: StoredBackup[] = [];
  for (const backup of backups) {
    if (!backup.manifest) {
      ignored.push({ name: backup.name, reason: backup.problem ?? "no manifest" });
    } else if (backup.manifest.database !== database) {
      ignored.push({ name: backup.name, reason: `backup of database ${backup.manifest.database}` });
    } else complete.push(backup);
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
  removed: string[];
  failed: { name: string; error: string }[];
}

/**
 * Lists the target, plans and deletes. Deletion failures are collected, not thrown.
 *
 * @example
 * ```ts
 * const result = await applyRetention(target, "freelance_platform", 7);
 * ```
 */
export async function applyRetention(
  target: BackupTarget,
  database: string,
  keep: number,
): Promise<RetentionResult> {
  const plan = planRetention(await target.list(), database, keep);
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
