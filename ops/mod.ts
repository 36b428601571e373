/**
 * The platform's operational programs as a library: backup, restore, maintenance, doctor and the
 * emergency commands. The CLIs beside this file (`backup.ts`, `restore.ts`, ...) are thin wrappers
 * run as `deno task <name>`; see docs/ops.md.
 *
 * @example
 * ```ts
 * import { LocalTarget, loadOpsConfig, runBackup, Output } from "@platform/ops";
 * const config = loadOpsConfig();
 * await runBackup({ databaseUrl: config.databaseUrl, target: new LocalTarget("./backups"), keep: 7, output: Output.console() });
 * ```
 *
 * @module
 */
export { runBackup } from "./backup/run_backup.ts";
export type { BackupOptions, BackupResult } from "./backup/run_backup.ts";
export { MANIFEST_FORMAT } from "./backup/manifest.ts";
export type { BackupManifest } from "./backup/manifest.ts";
export { applyRetention, foreignReason, planRetention } from "./backup/retention.ts";
export type { BackupOrigin, RetentionPlan, RetentionResult } from "./backup/retention.ts";
export { LocalTarget } from "./backup/targets/local.ts";
export { S3Target } from "./backup/targets/s3.ts";
export { selectTarget } from "./backup/targets/select.ts";
export type { BackupTarget, StoredBackup } from "./backup/targets/target.ts";
export { verifyStoredDump } from "./backup/verify_stored.ts";
export type { VerifyStoredOptions } from "./backup/verify_stored.ts";
export { listBackups, runRestore, runVerify } from "./restore/run_restore.ts";
export type {
  FullRestoreOptions,
  RestoreOptions,
  RestoreResult,
  VerifyResult,
} from "./restore/run_restore.ts";
export type { CountComparison } from "./restore/compare.ts";
export type { CacheInvalidation, CacheSettings } from "./restore/invalidate_cache.ts";
export { runMaintenance } from "./maintenance/run_maintenance.ts";
export type {
  MaintenanceOptions,
  MaintenanceReport,
  ReindexMode,
  StepResult,
} from "./maintenance/run_maintenance.ts";
export type { BloatRow, IndexUsageRow } from "./maintenance/queries.ts";
export { OUTBOX_TABLES, trimClosedTasks, trimOutbox } from "./maintenance/retention.ts";
export type { RetentionSettings, TableRetentionResult } from "./maintenance/retention.ts";
export { runDoctor } from "./doctor/run_doctor.ts";
export { GROUPS } from "./doctor/run_doctor.ts";
export type { DoctorReport, Group } from "./doctor/run_doctor.ts";
export type { Finding, FindingStatus, Verdict } from "./doctor/finding.ts";
export {
  flushCacheCommand,
  purgeStreamCommand,
  terminateIdleCommand,
} from "./emergency/run_emergency.ts";
export type { KeyCensus } from "./emergency/flush_cache.ts";
export type { StreamState } from "./emergency/purge_stream.ts";
export type { IdleSession } from "./emergency/terminate_idle.ts";
export type { ConsumerState } from "./doctor/checks/nats.ts";
export type {
  FlushCacheResult,
  PurgeStreamResult,
  TerminateIdleResult,
} from "./emergency/run_emergency.ts";
export { loadOpsConfig } from "./shared/config.ts";
export type { OpsConfig, S3Settings, ServiceUrls } from "./shared/config.ts";
export { ExitCode, OpsError } from "./shared/errors.ts";
export { captureOutput, Output } from "./shared/output.ts";
export type { CapturedOutput } from "./shared/output.ts";
// The SDK type of S3Target.client, so that it is nameable from here.
export type { S3Client } from "@aws-sdk/client-s3";
