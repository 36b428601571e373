/**
 * A periodic sweep of due tasks: every `intervalMs`, `sweep(batchSize)` runs until it returns
 * fewer than a batch (nothing more is due). Used by the deadline expiry and the auto-approval.
 * Safe with several replicas when `sweep` takes its rows with `FOR UPDATE SKIP LOCKED`. A failed
 * round is logged and retried at the next interval; it never ends the process.
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
import { Loop } from "@platform/lib/runtime";

/**
 * Runs a sweep until stopped.
 *
 * @example
 * ```ts
 * const sweeper = new TaskSweeper("tasks approved automatically", (n) => approveDue(n), logger, 1000);
 * sweeper.start();
 * await sweeper.stop();
 * ```
 */
export class TaskSweeper {
  private readonly loop: Loop;

  /**
   * @param done What a round did, for the log line ("tasks expired at their deadline").
   * @param sweep Handles at most `limit` due tasks in one transaction; returns how many.
   */
  constructor(
    private readonly done: string,
    private readonly sweep: (limit: number) => Promise<number>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly batchSize = 200,
  ) {
    this.loop = new Loop({
      round: async () => {
        try {
          await this.sweepOnce();
        } catch (error) {
          this.logger.warn(`sweep failed (${this.done}); retrying`, { error });
        }
        return this.intervalMs;
      },
    });
  }

  /** Starts the loop (once): a round at once, then one `intervalMs` after the last ended. */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop and waits for the round in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Handles what is due now; returns how many tasks. */
  async sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.sweep(this.batchSize);
      total += n;
      if (n < this.batchSize || this.loop.stopped) break;
    }
    if (total > 0) this.logger.info(this.done, { tasks: total });
    return total;
  }
}
