/**
 * Chooses the backup target: S3 when S3_BUCKET is set (or `--target s3`), else the local
 * directory BACKUP_DIR.
 *
 * @module
 */
import type { OpsConfig } from "../../shared/config.ts";
import { UsageError } from "../../shared/errors.ts";
import { LocalTarget } from "./local.ts";
import { S3Target } from "./s3.ts";
import type { BackupTarget } from "./target.ts";

/** The target kinds. */
export type TargetKind = "local" | "s3";

/**
 * The target for a `--target` flag value (or the configured default).
 *
 * @example
 * ```ts
 * const target = selectTarget(loadOpsConfig(), "local", "/srv/backups");
 * ```
 */
export function selectTarget(config: OpsConfig, kind?: string, dir?: string): BackupTarget {
  const chosen = kind ?? (config.s3 ? "s3" : "local");
  if (chosen === "local") return new LocalTarget(dir ?? config.backupDir);
  if (chosen === "s3") {
    if (!config.s3) {
      throw new UsageError("--target s3 needs S3_BUCKET (and S3_ENDPOINT/S3_REGION, credentials)");
    }
    return new S3Target(config.s3);
  }
  throw new UsageError(`--target must be "local" or "s3", got "${chosen}"`);
}
