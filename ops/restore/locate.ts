/**
 * Finds the backup a restore names: a path to a local `.dump` (or its manifest), or a backup name
 * in the configured target (local directory or S3).
 *
 * @module
 */
import { nameOf } from "../backup/manifest.ts";
import { LocalTarget } from "../backup/targets/local.ts";
import { selectTarget } from "../backup/targets/select.ts";
import type { BackupTarget } from "../backup/targets/target.ts";
import type { OpsConfig } from "../shared/config.ts";

/** A located backup. */
export interface LocatedBackup {
  target: BackupTarget;
  name: string;
}

/**
 * Resolves `reference` (a file path or a backup name) to a target and a name.
 *
 * @example
 * ```ts
 * locateBackup(config, "backups/freelance_platform_20241019_153000_123.dump");
 * // { target: LocalTarget("backups"), name: "freelance_platform_20241019_153000_123" }
 * ```
 */
export function locateBackup(
  config: OpsConfig,
  reference: string,
  targetKind?: string,
  dir?: string,
): LocatedBackup {
  const looksLikePath = reference.includes("/") || /\.(dump|manifest\.json)$/.test(reference);
  if (looksLikePath && targetKind !== "s3") {
    try {
      if (Deno.statSync(reference).isFile) {
        const slash = reference.lastIndexOf("/");
        return {
          target: new LocalTarget(slash >= 0 ? reference.slice(0, slash) || "/" : "."),
          name: nameOf(reference),
        };
      }
    } catch { /* not a file: a name in the target */ }
  }
  return { target: selectTarget(config, targetKind, dir), name: nameOf(reference) };
}
