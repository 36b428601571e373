/**
 * The orchestrator's operations, each in one transaction with its outbox events: record a task,
 * answer a proposal, close a task, store a matching attempt, expire proposals. Used by the RPC
 * handlers (proposal_handlers.ts), the event consumers (task_created_consumer.ts,
 * task_events_consumer.ts), the matcher and the sweeper, which only translate and decide policy;
 * no other file opens a transaction on the orchestrator's tables.
 *
 * Lock order, in one place: an operation on one task runs in {@link ProposalCommands.withTask},
 * which locks the task's match_tasks row first and hands out the {@link LockedTask} that every
 * store method locking or changing that task's proposals requires. Operations on several tasks
 * (expiry, orphans, due retries) use the store's `SKIP LOCKED` statements, which lock tasks first
 * and never wait.
 *
 * @module
 */
import type { Histogram } from "prom-client";
import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
} from "@platform/lib/errors";
import { OutboxWriter } from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { DeveloperStats } from "./matching/scoring.ts";
import { PROPOSAL_OUTBOX, proposalAcceptedEvent, proposalCreatedEvent } from "./proposal_events.ts";
import {
  LockedTask,
  type MatchTaskRow,
  type NewMatchTask,
  type ProposalRow,
  type ProposalStore,
} from "./proposal_store.ts";

/** What the commands need besides the store. */
export interface ProposalCommandsOptions {
  logger: Logger;
  /** `proposal_response_time_seconds`: from a proposal's creation to its answer. */
  responseTime?: Histogram<string>;
  /** Called after a change left a task with no pending proposal (it goes back to matching). */
  onTaskReopened?: () => void;
}

/** An answer to a proposal. */
export interface ProposalAnswer {
  proposalId: string;
  /** The developer answering: only the one the proposal was made to may. */
  developerId: string;
  accept: boolean;
}

/** How a task ends for the orchestrator (from the Task Service's events). */
export interface TaskClosure {
  taskId: string;
  state: "ASSIGNED" | "CLOSED";
  /** The assignee, when the event names one (`task.assigned`). */
  developerId?: string;
}

/** What closing a task did. */
export interface ClosureOutcome {
  /** PENDING proposals withdrawn. */
  withdrawn: number;
  /** The task was unknown: recorded as a tombstone in its final state. */
  tombstone: boolean;
}

/** What a matching attempt sees under its task's lock. */
export interface AttemptContext {
  /** The task, locked. */
  task: MatchTaskRow;
  /** Developers never to propose to: those who already had a proposal for it, and the client. */
  exclude: Set<string>;
  /** The task already had proposals (so new ones are not its first). */
  hadProposals: boolean;
  /** Its PENDING proposals. */
  pending: number;
  /**
   * The track record and load of these developers (proposals in the last `windowSeconds` for
   * fairness), read in the attempt's transaction.
   */
  developerStats(
    developerIds: string[],
    windowSeconds: number,
  ): Promise<Map<string, DeveloperStats>>;
}

/** A matching attempt to store, with the policy that picks its proposals. */
export interface AttemptPlan {
  taskId: string;
  /** The task as read before the candidates were fetched; the attempt is skipped if it changed. */
  seen: Pick<MatchTaskRow, "attempts" | "state">;
  proposalTtlSeconds: number;
  /** Picks the proposals to make (none: the task has no candidate now). */
  choose(context: AttemptContext): Promise<Array<{ developerId: string; score: number }>>;
  /** How long to wait before the next attempt of a task with no candidate, by attempt number. */
  retryDelaySeconds(attempts: number): number;
}

/** What storing an attempt did. */
export type AttemptRecord =
  | { kind: "skipped"; reason: string }
  | { kind: "proposed"; proposals: ProposalRow[]; task: MatchTaskRow; firstProposals: boolean }
  | { kind: "no_candidates"; retryInSeconds: number; task: MatchTaskRow };

/**
 * The orchestrator's operations over a {@link ProposalStore}.
 *
 * @example
 * ```ts
 * const commands = new ProposalCommands(store, { logger, responseTime, onTaskReopened });
 * const proposal = await commands.respond({ proposalId, developerId, accept: true });
 * ```
 */
export class ProposalCommands {
  /** The orchestrator's outbox, written in each command's transaction. */
  readonly outbox: OutboxWriter = new OutboxWriter(PROPOSAL_OUTBOX);

  constructor(readonly store: ProposalStore, private readonly options: ProposalCommandsOptions) {}

  /**
   * Runs `work` in a transaction that holds the task's lock (taken first: the lock order);
   * undefined when the task is unknown.
   */
  async withTask<T>(
    taskId: string,
    work: (lock: LockedTask) => Promise<T>,
  ): Promise<T | undefined> {
    return await this.store.db.transaction(async (tx) => {
      const lock = await LockedTask.acquire(tx, taskId);
      return lock ? await work(lock) : undefined;
    });
  }

  /**
   * Records a task from `task.created` unless known (the task id is the key, so a redelivery is a
   * no-op); its first attempt is leased for `leaseSeconds` so the sweeper leaves it meanwhile. A
   * tombstone (the task closed before this event) gets its owner and stays closed.
   */
  recordTask(
    task: NewMatchTask,
    leaseSeconds: number,
  ): Promise<{ created: boolean; task: MatchTaskRow }> {
    return this.store.recordTask(task, leaseSeconds);
  }

  /**
   * A developer's answer. Accept: the first acceptance wins (the others are withdrawn, the task
   * is ASSIGNED here and `proposal.accepted` goes out); a later one is `failed_precondition`.
   * Decline: a task left with no pending proposal goes back to matching. An answer past
   * `expires_at` (the database's clock) expires the proposal there and then and is
   * `failed_precondition`. Answering again with the same decision returns the proposal as is.
   */
  async respond(answer: ProposalAnswer): Promise<ProposalRow> {
    const { proposalId, developerId, accept } = answer;
    const first = await this.store.getProposal(proposalId);
    if (!first) throw new NotFoundError("proposal", proposalId);
    if (first.developer_id !== developerId) {
      throw new PermissionDeniedError("only the developer it was made to can answer a proposal");
    }
    const outcome = await this.withTask(first.task_id, async (lock) => {
      const proposal = await this.store.lockProposal(lock, proposalId);
      if (!proposal) return undefined;
      const wanted = accept ? "ACCEPTED" : "DECLINED";
      if (proposal.status === wanted) return { proposal, changed: false, reopened: false };
      if (proposal.status !== "PENDING") {
        throw new FailedPreconditionError(
          `proposal is ${proposal.status.toLowerCase()}; it can no longer be ${
            accept ? "accepted" : "declined"
          }`,
        );
      }
      if (proposal.past_due) {
        // Past its time on the database's clock (the sweeper's), not yet swept: expire it here
        // and, as the sweeper would, put the task back to matching if nothing is pending.
        await this.store.setProposalStatus(lock, proposalId, "EXPIRED");
        return { expired: true, reopened: await this.store.reopenIfIdle(lock) } as const;
      }
      if (!accept) {
        const declined = await this.store.setProposalStatus(lock, proposalId, "DECLINED");
        return { proposal: declined, changed: true, reopened: await this.store.reopenIfIdle(lock) };
      }
      const task = lock.task;
      if (task.state === "ASSIGNED" || task.state === "CLOSED") {
        throw new FailedPreconditionError(
          `task is ${task.state.toLowerCase()}; the proposal can no longer be accepted`,
        );
      }
      const accepted = await this.store.setProposalStatus(lock, proposalId, "ACCEPTED");
      await this.store.withdrawPending(lock, proposalId);
      await this.store.setTaskState(lock, "ASSIGNED", developerId);
      await this.outbox.write(lock.tx, [proposalAcceptedEvent(accepted)]);
      return { proposal: accepted, changed: true, reopened: false };
    }).catch((error) => {
      // The partial unique index: another acceptance committed first.
      if ((error as { code?: string })?.code === "23505") {
        throw new FailedPreconditionError("another developer accepted this task first");
      }
      throw error;
    });
    if (!outcome) throw new NotFoundError("proposal", proposalId);
    if (outcome.reopened) this.options.onTaskReopened?.();
    if ("expired" in outcome) {
      throw new FailedPreconditionError("proposal has expired; it can no longer be answered");
    }
    const { proposal } = outcome;
    if (outcome.changed && proposal.responded_at) {
      this.options.responseTime?.observe(
        Math.max(0, (proposal.responded_at.getTime() - proposal.created_at.getTime()) / 1000),
      );
    }
    return proposal;
  }

  /**
   * A task cancelled, completed or assigned in the Task Service stops being matched: its PENDING
   * proposals are withdrawn. A task not seen yet gets a tombstone in that final state, so that
   * its `task.created`, if it comes later, matches nothing. An assignee named by the Task Service
   * is final: a different acceptance recorded here is withdrawn.
   */
  async closeTask(closure: TaskClosure): Promise<ClosureOutcome> {
    const { taskId, state } = closure;
    const developer = closure.developerId?.toLowerCase();
    const { logger } = this.options;
    return await this.store.db.transaction(async (tx) => {
      // The task is locked before its proposals are withdrawn (the lock order).
      let lock = await LockedTask.acquire(tx, taskId);
      if (!lock) {
        // Not seen yet: the task-events consumer can run ahead of the task.created one (after an
        // outage, say). A tombstone in the final state makes the late task.created a no-op.
        if (await this.store.insertTombstone(tx, taskId, state, developer)) {
          logger.info("task closed before its task.created; tombstone recorded", {
            task_id: taskId,
            state,
          });
          return { withdrawn: 0, tombstone: true };
        }
        lock = await LockedTask.acquire(tx, taskId); // recorded meanwhile
        if (!lock) return { withdrawn: 0, tombstone: false };
      }
      const task = lock.task;
      if (task.state === "CLOSED" || (task.state === "ASSIGNED" && state === "ASSIGNED")) {
        if (developer && task.assigned_developer_id !== developer) {
          if (task.assigned_developer_id && task.state === "ASSIGNED") {
            // The Task Service assigned someone else than the acceptance recorded here: its word
            // is final. The stale acceptance is withdrawn.
            const stale = await this.store.withdrawAccepted(lock, developer);
            logger.warn("task assigned to another developer than the one who accepted", {
              task_id: taskId,
              assigned_developer_id: developer,
              previous_developer_id: task.assigned_developer_id,
              proposals_withdrawn: stale.map((p) => p.id),
            });
            await this.store.setTaskState(lock, task.state, developer);
          } else if (!task.assigned_developer_id) {
            await this.store.setTaskState(lock, task.state, developer);
          }
        }
        return { withdrawn: 0, tombstone: false };
      }
      const withdrawn = await this.store.withdrawPending(lock);
      await this.store.setTaskState(lock, state, developer);
      return { withdrawn, tombstone: false };
    });
  }

  /**
   * Stores one matching attempt: under the task's lock, skipped when the task changed since
   * `plan.seen` (another replica matched it); else the proposals `plan.choose` picks are inserted
   * (one per task and developer) with their `proposal.created` events, and the attempt recorded:
   * PROPOSED when the task has pending proposals, else NO_CANDIDATES with its retry time.
   */
  async recordAttempt(plan: AttemptPlan): Promise<AttemptRecord> {
    const { taskId, seen } = plan;
    const record = await this.withTask(taskId, async (lock): Promise<AttemptRecord> => {
      const { task, tx } = lock;
      if (task.attempts !== seen.attempts || task.state !== seen.state) {
        return { kind: "skipped", reason: "matched concurrently" };
      }
      const exclude = await this.store.proposedDevelopers(tx, taskId);
      const hadProposals = exclude.size > 0;
      if (task.client_id) exclude.add(task.client_id);
      const pending = await this.store.pendingCount(tx, taskId);
      const chosen = await plan.choose({
        task,
        exclude,
        hadProposals,
        pending,
        developerStats: (ids, windowSeconds) => this.store.developerStats(tx, ids, windowSeconds),
      });
      const inserted = await this.store.insertProposals(lock, chosen, plan.proposalTtlSeconds);
      const now = new Date();
      await this.outbox.write(tx, inserted.map((p) => proposalCreatedEvent(p, now)));
      if (inserted.length > 0 || pending > 0) {
        await this.store.finishAttempt(lock, "PROPOSED", null);
        return {
          kind: "proposed",
          proposals: inserted,
          task,
          firstProposals: inserted.length > 0 && !hadProposals,
        };
      }
      const retryInSeconds = plan.retryDelaySeconds(task.attempts + 1);
      await this.store.finishAttempt(lock, "NO_CANDIDATES", retryInSeconds);
      return { kind: "no_candidates", retryInSeconds, task };
    });
    return record ?? { kind: "skipped", reason: "matched concurrently" };
  }

  /** Postpones a waiting task's next attempt (the User Service was unavailable). */
  deferTask(taskId: string, seconds: number): Promise<void> {
    return this.store.deferTask(taskId, seconds);
  }

  /**
   * Expires PENDING proposals past their time (at most `limit` tasks' worth) and puts the tasks
   * left with none back to matching, in one transaction.
   */
  async expireDueProposals(limit: number): Promise<{ tasks: number; reopened: number }> {
    return await this.store.db.transaction((tx) => this.store.expireDueProposals(tx, limit));
  }

  /** The safety net: PROPOSED tasks with no PENDING proposal go back to matching now. */
  reopenOrphaned(limit: number): Promise<number> {
    return this.store.reopenOrphaned(limit);
  }

  /** Claims tasks due for a (re)try, leased for `leaseSeconds` so other replicas skip them. */
  claimDueTasks(limit: number, leaseSeconds: number): Promise<string[]> {
    return this.store.claimDueTasks(limit, leaseSeconds);
  }
}
