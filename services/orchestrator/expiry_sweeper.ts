/**
 * The sweeper: on a schedule, expires PENDING proposals past their time or their task's deadline
 * (a task left with none goes back to matching, excluding everyone it was proposed to before, in
 * the same transaction), reopens any PROPOSED task left without a PENDING proposal and withdraws
 * what is still pending for developers known to be offline (safety nets, a slice of the PROPOSED
 * tasks a round, walking on from round to round), and runs the attempts
 * that are due: tasks just recorded, reopened or woken by an event, tasks whose User Service
 * lookup failed. Tasks with no candidate have no timer here: an event wakes them (or, after
 * `UNMATCHED_RECHECK_SECONDS`, the safety net), so a backlog of them costs nothing.
 *
 * Safe with several replicas: the tasks of due proposals and the due tasks are locked with
 * `FOR UPDATE SKIP LOCKED` (the task before its proposals, the lock order of proposal_store.ts,
 * so an answer or a withdrawal at the same moment cannot deadlock with a sweep), and a claimed
 * task is leased (its next_attempt_at pushed forward) so no other replica tries it meanwhile.
 * The statements and transactions are the commands' (proposal_commands.ts); this file schedules. While the User Service is unavailable the round stops
 * at the first failure; the leased tasks wait for the next interval (no call storm).
 *
 * @module
 */
import type { Logger } from "@platform/lib/log";
import { Loop } from "@platform/lib/runtime";
import type { Matcher } from "./matcher.ts";
import type { ProposalCommands } from "./proposal_commands.ts";

/** Settings of the sweeper. */
export interface SweeperSettings {
  intervalMs: number;
  /** How long a claimed task is leased to this replica. */
  leaseSeconds: number;
  /** Tasks claimed per round. */
  batchSize?: number;
  /** Attempts run at once. */
  concurrency?: number;
  /**
   * PROPOSED tasks the safety nets look at in one round (default 2000): a round costs this
   * slice, and the sweeper walks on from where it stopped, covering every PROPOSED task once
   * every (PROPOSED tasks / slice) rounds.
   */
  safetyNetSlice?: number;
}

/**
 * Runs the sweeps until stopped.
 *
 * @example
 * ```ts
 * const sweeper = new ExpirySweeper(commands, matcher, logger, {
 *   intervalMs: 5000,
 *   leaseSeconds: 30,
 * });
 * sweeper.start();
 * await sweeper.stop();
 * ```
 */
export class ExpirySweeper {
  private readonly loop: Loop;
  /** Where the safety nets' walk over the PROPOSED tasks goes on from (null: the start). */
  private proposedCursor: string | null = null;

  constructor(
    private readonly commands: ProposalCommands,
    private readonly matcher: Matcher,
    private readonly logger: Logger,
    private readonly settings: SweeperSettings,
  ) {
    this.loop = new Loop({
      round: async () => {
        try {
          const { attempted } = await this.sweepOnce();
          if (attempted >= (this.settings.batchSize ?? 50)) return 0; // more are due
        } catch (error) {
          this.logger.warn("sweep failed; retrying", { error });
        }
        return this.settings.intervalMs;
      },
    });
  }

  /** Starts the rounds: one at once, then one `intervalMs` after the last (or when poked). */
  start(): void {
    this.loop.start();
  }

  /** Stops after the round in progress. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Runs a round soon (a decline reopened a task, an event woke some). */
  poke(): void {
    this.loop.poke();
  }

  /**
   * One round: expire (and reopen in the same transaction), reopen any PROPOSED task left without
   * a PENDING proposal by other means, retry due tasks. Returns what it did.
   */
  async sweepOnce(): Promise<{ expired: number; reopened: number; attempted: number }> {
    const expired = await this.commands.expireDueProposals(500);
    if (expired.tasks > 0) {
      this.logger.info("proposals expired", { tasks: expired.tasks, reopened: expired.reopened });
    }
    const sliceSize = this.settings.safetyNetSlice ?? 2000;
    const slice = await this.commands.proposedTasksAfter(this.proposedCursor, sliceSize);
    this.proposedCursor = slice.length < sliceSize ? null : slice[slice.length - 1];
    const orphans = await this.commands.reopenOrphaned(500, slice);
    if (orphans > 0) {
      this.logger.warn("proposed tasks without a pending proposal reopened", { tasks: orphans });
    }
    const offline = await this.commands.withdrawOfflineProposals(500, { amongTasks: slice });
    if (offline.withdrawn > 0) {
      this.logger.info("pending proposals of offline developers withdrawn", { ...offline });
    }
    const batch = this.settings.batchSize ?? 50;
    const concurrency = this.settings.concurrency ?? 4;
    const due = await this.commands.claimDueTasks(batch, this.settings.leaseSeconds);
    let attempted = 0;
    let unavailable = false;
    for (let i = 0; i < due.length && !unavailable && !this.loop.stopped; i += concurrency) {
      const slice = due.slice(i, i + concurrency);
      const outcomes = await Promise.allSettled(slice.map((id) => this.matcher.attempt(id)));
      for (const [j, outcome] of outcomes.entries()) {
        attempted++;
        if (outcome.status === "rejected") {
          this.logger.warn("matching attempt failed; retried later", {
            task_id: slice[j],
            error: outcome.reason,
          });
        } else if (outcome.value.kind === "deferred") {
          unavailable = true;
        }
      }
    }
    return {
      expired: expired.tasks,
      reopened: expired.reopened + orphans + offline.reopened,
      attempted,
    };
  }
}
