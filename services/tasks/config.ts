/**
 * The Task Service's configuration: the shared settings plus the outbox relay's timing.
 *
 * @module
 */
import { type BaseConfig, EnvReader, type EnvSource, loadBaseConfig } from "@platform/lib/config";

/** Settings of the Task Service. */
export interface TasksConfig extends BaseConfig {
  /** Fallback poll of the outbox when no notification arrives. */
  outboxPollMs: number;
  /** Outbox rows claimed per relay transaction. */
  outboxBatchSize: number;
  /** Set false to run without the proposal consumers (accepted, holders). */
  consumeProposals: boolean;
  /** How often OPEN tasks past their deadline are expired. */
  expirySweepMs: number;
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
    outboxPollMs: env.int("OUTBOX_POLL_MS", 1000, { min: 50, max: 60_000 }),
    outboxBatchSize: env.int("OUTBOX_BATCH_SIZE", 100, { min: 1, max: 1000 }),
    consumeProposals: env.bool("CONSUME_PROPOSALS", true),
    expirySweepMs: env.int("TASK_EXPIRY_SWEEP_MS", 1000, { min: 50, max: 600_000 }),
  };
}
