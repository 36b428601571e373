/**
 * The Task Service's configuration: the shared settings plus the outbox relay's timing.
 *
 * @module
 */
import {
  type BaseConfig,
  ConfigError,
  EnvReader,
  type EnvSource,
  loadBaseConfig,
} from "@platform/lib/config";

/** Settings of the Task Service. */
export interface TasksConfig extends BaseConfig {
  /**
   * How often the relay leader polls the outbox for events no in-process wake announced (another
   * replica's), and how often standby replicas try for the leadership: the bound on how long such
   * an event waits before it is published.
   */
  outboxPollMs: number;
  /** Most creates committed in one statement (group commit). */
  createMaxBatch: number;
  /** Most create batches committing at once. */
  createMaxInFlight: number;
  /** Outbox rows the relay reads and publishes per batch. */
  outboxBatchSize: number;
  /** Set false to run without the proposal consumers (accepted, holders). */
  consumeProposals: boolean;
  /** How often OPEN tasks past their deadline are expired. */
  expirySweepMs: number;
  /**
   * AUTO_APPROVE_AFTER: how long submitted work waits for the client before it is approved
   * automatically, in seconds (default 7 days).
   */
  autoApproveAfterSeconds: number;
  /** How often the auto-approval sweep looks for work due. */
  autoApproveSweepMs: number;
  /** How long a CreateTask idempotency key answers its first task, in seconds. */
  idempotencyWindowSeconds: number;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration such as `7d`, `36h`, `90m` or `45s` (or a bare number of seconds) in seconds: a
 * whole number from 1 second to 365 days; a ConfigError naming the variable otherwise.
 *
 * @example
 * ```ts
 * parseDurationSeconds("AUTO_APPROVE_AFTER", "7d"); // 604800
 * ```
 */
export function parseDurationSeconds(variable: string, value: string): number {
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(value);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || "s"] : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 365 * 86_400) {
    throw new ConfigError(
      variable,
      "must be a duration from 1s to 365d, such as 7d, 36h, 90m or 45s",
      value,
    );
  }
  return seconds;
}

/**
 * Reads the configuration; throws a ConfigError naming the variable on a bad value.
 *
 * @example
 * ```ts
 * const config = loadTasksConfig({ OUTBOX_POLL_MS: "500" });
 * ```
 */
export function loadTasksConfig(source: EnvSource = Deno.env.toObject()): TasksConfig {
  const env = new EnvReader(source);
  return {
    ...loadBaseConfig("tasks", 50052, source),
    outboxPollMs: env.int("OUTBOX_POLL_MS", 250, { min: 50, max: 60_000 }),
    outboxBatchSize: env.int("OUTBOX_BATCH_SIZE", 500, { min: 1, max: 5000 }),
    createMaxBatch: env.int("TASK_CREATE_MAX_BATCH", 64, { min: 1, max: 1000 }),
    createMaxInFlight: env.int("TASK_CREATE_MAX_IN_FLIGHT", 2, { min: 1, max: 64 }),
    consumeProposals: env.bool("CONSUME_PROPOSALS", true),
    expirySweepMs: env.int("TASK_EXPIRY_SWEEP_MS", 1000, { min: 50, max: 600_000 }),
    autoApproveAfterSeconds: parseDurationSeconds(
      "AUTO_APPROVE_AFTER",
      env.raw("AUTO_APPROVE_AFTER") ?? "7d",
    ),
    autoApproveSweepMs: env.int("AUTO_APPROVE_SWEEP_MS", 10_000, { min: 50, max: 600_000 }),
    idempotencyWindowSeconds: 3600 *
      env.int("TASK_IDEMPOTENCY_WINDOW_HOURS", 24, { min: 1, max: 24 * 30 }),
  };
}
