/**
 * Expires OPEN tasks whose deadline passed: every `intervalMs`, batches of them become EXPIRED
 * through {@link TaskCommands.expireDue} (history row, `task.expired`, `task.status_changed` and
 * the client's notification in one transaction), until none is due. Safe with several replicas:
 * due rows are taken with `FOR UPDATE SKIP LOCKED`, and an assignment or a cancellation at the same
 * moment holds the row, so exactly one of them happens.
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
import type { TaskCommands } from "./task_commands.ts";

/**
 * Runs the expiry sweep until stopped.
 *
 * @example
 * ```ts
 * const sweeper = new TaskExpirySweeper(commands, logger, 1000);
 * sweeper.start();
 * await sweeper.stop();
 * ```
 */
export class TaskExpirySweeper {
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly commands: TaskCommands,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize = 200,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** Expires what is due now; returns how many tasks. */
  async sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.commands.expireDue(this.batchSize);
      total += n;
      if (n < this.batchSize || this.stopped) break;
    }
    if (total > 0) this.logger.info("tasks expired at their deadline", { tasks: total });
    return total;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.sweepOnce();
      } catch (error) {
        this.logger.warn("task expiry sweep failed; retrying", { error });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.intervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
    }
  }
}
