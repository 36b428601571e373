/**
 * Expires OPEN tasks whose deadline passed: every `intervalMs`, batches of them become EXPIRED
 * through {@link TaskCommands.expireDue} (history row, `task.expired`, `task.status_changed` and
 * the client's notification in one transaction), until none is due. Safe with several replicas:
 * due rows are taken with `FOR UPDATE SKIP LOCKED`, and an assignment or a cancellation at the same
 * moment holds the row, so exactly one of them happens. The loop is {@link TaskSweeper}'s.
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
import type { TaskCommands } from "./task_commands.ts";
import { TaskSweeper } from "./task_sweeper.ts";

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
export class TaskExpirySweeper extends TaskSweeper {
  constructor(commands: TaskCommands, logger: Logger, intervalMs: number, batchSize = 200) {
    super(
      "tasks expired at their deadline",
      async (limit) => {
        const expired = await commands.expireDue(limit);
        // Idempotency keys past their window answer nothing any more: deleted with the last
        // batch of a sweep.
        if (expired < limit) await commands.deleteExpiredIdempotencyKeys(limit * 5);
        return expired;
      },
      logger,
      intervalMs,
      batchSize,
    );
  }
}
