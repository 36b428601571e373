/**
 * The Task Service's configuration: the shared settings plus the outbox relay's timing.
 *
 * @module
 */
import { type BaseConfig, EnvReader, type EnvSource, loadBaseConfig } from "@platform/lib/config";

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
  };
}
