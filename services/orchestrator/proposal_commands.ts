/**
 * The orchestrator's operations, each in one transaction with its outbox events (and the
 * notifications they cause): record a task, apply new terms, answer a proposal, close a task,
 * store a matching attempt, expire proposals, take back an offline developer's proposals. Used by the RPC
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
import { isUniqueViolation } from "@platform/lib/db";
import { type OutboxEvent, OutboxWriter } from "@platform/lib/events";
import type { Logger } from "@platform/lib/log";
import type { DeveloperStats } from "./matching/scoring.ts";
import { PROPOSAL_OUTBOX, proposalAcceptedEvent, proposalCreatedEvent } from "./proposal_events.ts";
import {
  answerNotification,
  closedProposalEvents,
  developerNotifications,
  matchStateNotifications,
} from "./proposal_notifications.ts";
import {
  LockedTask,
  type MatchTaskRow,
  type MatchTaskState,
  type NewMatchTask,
  type ProposalReasonName,
  type ProposalRow,
  type ProposalStore,
  type StateChange,
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
  /**
   * Why a CLOSED task closed: an accepted proposal of a cancelled or expired task is CANCELLED
   * (its developer is told); a completed one stays ACCEPTED.
   */
  outcome?: "cancelled" | "completed" | "expired";
}

/** What applying a task.updated did. */
export type TermsOutcome =
  | "recorded" // the task was unknown: recorded with these terms, to be matched
  | "stale" // not newer than the terms known (a redelivery, a description-only change)
  | "ignored" // a tombstone: closed before its task.created
  | "closed" // the task is closed: the terms are kept, nothing else
  | "assigned" // assigned on these terms already: nothing else
  | "rematch"; // proposals on older terms taken back; match it again now

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
  /**
   * True for a developer the orchestrator knows to be offline (presence events), among those
   * `developerStats` was asked about (read with them, in the same round trip).
   */
  isOffline(developerId: string): boolean;
}

/** A matching attempt to store, with the policy that picks its proposals. */
export interface AttemptPlan {
  taskId: string;
  /**
   * The task as read before the candidates were fetched; the attempt is skipped if it changed
   * (attempts, state, terms). A changed `wake_seq` (an event asked for a re-match meanwhile) does
   * not skip it, but a task left with no candidate is then tried again at once.
   */
  seen: Pick<MatchTaskRow, "attempts" | "state" | "terms_version" | "wake_seq">;
  proposalTtlSeconds: number;
  /** Picks the proposals to make (none: the task has no candidate now). */
  choose(context: AttemptContext): Promise<Array<{ developerId: string; score: number }>>;
  /**
   * When to look again at a task with no candidate, by attempt number; null: only when an event
   * (a developer online, skills added, new terms) wakes it.
   */
  retryDelaySeconds(attempts: number): number | null;
}

/** What storing an attempt did. */
export type AttemptRecord =
  | { kind: "skipped"; reason: string }
  | { kind: "proposed"; proposals: ProposalRow[]; task: MatchTaskRow; firstProposals: boolean }
  | { kind: "no_candidates"; retryInSeconds: number | null; task: MatchTaskRow };

/** What taking back an offline developer's proposals did. */
export interface OfflineOutcome {
  /** Proposals withdrawn. */
  withdrawn: number;
  /** Tasks put back to matching. */
  reopened: number;
}

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

  /** A task's PENDING proposals now (GetMatchStatus). */
  pendingCount(taskId: string): Promise<number> {
    return this.store.run((sql) => this.store.pendingCount(sql, taskId));
  }

  /**
   * Who was proposed the task on its current terms and how many proposals are PENDING, read
   * before an attempt (the attempt checks again under the task's lock).
   */
  proposalSummary(
    taskId: string,
    termsVersion: number,
  ): ReturnType<ProposalStore["proposalSummary"]> {
    return this.store.run((sql) => this.store.proposalSummary(sql, taskId, termsVersion));
  }

  /** Developers' track record and load (proposals in the last `windowSeconds`). */
  developerStats(
    developerIds: string[],
    windowSeconds: number,
  ): Promise<Map<string, DeveloperStats>> {
    return this.store.run((sql) =>
      this.store.developers.developerStats(sql, developerIds, windowSeconds)
    );
  }

  /** The trace context the proposal was made in (its `proposal.created` outbox row), if any. */
  async proposalTraceparent(proposalId: string): Promise<string | undefined> {
    const rows = await this.store.run((sql) =>
      sql<{ traceparent: string | null }[]>`
        SELECT traceparent FROM ${sql(PROPOSAL_OUTBOX)} WHERE id = ${proposalId}::uuid`
    );
    return rows[0]?.traceparent ?? undefined;
  }

  /**
   * Runs `work` in a transaction that holds the task's lock (taken first: the lock order);
   * undefined when the task is unknown.
   */
  async withTask<T>(
    taskId: string,
    work: (lock: LockedTask) => Promise<T>,
  ): Promise<T | undefined> {
    return await this.store.transaction(async (tx) => {
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
    return this.store.tasks.recordTask(task, leaseSeconds);
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
      const task = lock.task;
      if (proposal.past_due || task.past_deadline) {
        // Past its time (or the task's deadline) on the database's clock (the sweeper's), not yet
        // swept: expire it here and, as the sweeper would, put the task back to matching if
        // nothing is pending.
        const expired = await this.store.setProposalStatus(
          lock,
          proposalId,
          "EXPIRED",
          task.past_deadline ? "TASK_EXPIRED" : "TIMED_OUT",
        );
        const reopened = await this.store.reopenIfIdle(lock);
        await this.write(lock, [
          ...closedProposalEvents([expired]),
          ...matchStateNotifications(reopened ? [reopened] : []),
        ]);
        return { expired: true, reopened: reopened !== undefined, deadline: task.past_deadline };
      }
      if (!accept) {
        const declined = await this.store.setProposalStatus(lock, proposalId, "DECLINED");
        const reopened = await this.store.reopenIfIdle(lock);
        await this.write(lock, [
          ...closedProposalEvents([declined]),
          ...answerNotification(task.client_id, declined),
          ...matchStateNotifications(reopened ? [reopened] : []),
        ]);
        return { proposal: declined, changed: true, reopened: reopened !== undefined };
      }
      if (task.state === "ASSIGNED" || task.state === "CLOSED") {
        throw new FailedPreconditionError(
          `task is ${task.state.toLowerCase()}; the proposal can no longer be accepted`,
        );
      }
      const accepted = await this.store.setProposalStatus(lock, proposalId, "ACCEPTED");
      const withdrawn = await this.store.withdrawPending(lock, "ANOTHER_DEVELOPER_ACCEPTED", {
        exceptId: proposalId,
      });
      await this.store.tasks.setTaskState(lock, "ASSIGNED", developerId);
      await this.write(lock, [
        proposalAcceptedEvent(accepted),
        ...closedProposalEvents(withdrawn),
        ...answerNotification(task.client_id, accepted),
        ...matchStateNotifications([change(task, "ASSIGNED", 0)]),
      ]);
      return { proposal: accepted, changed: true, reopened: false };
    }).catch((error) => {
      // The partial unique index: another acceptance committed first.
      if (isUniqueViolation(error)) {
        throw new FailedPreconditionError("another developer accepted this task first");
      }
      throw error;
    });
    if (!outcome) throw new NotFoundError("proposal", proposalId);
    if (outcome.reopened) this.options.onTaskReopened?.();
    if ("expired" in outcome) {
      throw new FailedPreconditionError(
        outcome.deadline
          ? "the task's deadline has passed; the proposal can no longer be answered"
          : "proposal has expired; it can no longer be answered",
      );
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
   * A task cancelled, completed, expired or assigned in the Task Service stops being matched: its
   * PENDING proposals are withdrawn, and the accepted one of a task cancelled or expired is
   * CANCELLED (its developer is told). A task not seen yet gets a tombstone in that final state,
   * so that its `task.created`, if it comes later, matches nothing. An assignee named by the Task
   * Service is final: a different acceptance recorded here is withdrawn.
   */
  async closeTask(closure: TaskClosure): Promise<ClosureOutcome> {
    const { taskId, state } = closure;
    const developer = closure.developerId?.toLowerCase();
    const { logger } = this.options;
    return await this.store.transaction(async (tx) => {
      // The task is locked before its proposals are withdrawn (the lock order).
      let lock = await LockedTask.acquire(tx, taskId);
      if (!lock) {
        // Not seen yet: the task-events consumer can run ahead of the task.created one (after an
        // outage, say). A tombstone in the final state makes the late task.created a no-op.
        if (await this.store.tasks.insertTombstone(tx, taskId, state, developer)) {
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
            await this.store.tasks.setTaskState(lock, task.state, developer);
            await this.write(lock, closedProposalEvents(stale));
          } else if (!task.assigned_developer_id) {
            await this.store.tasks.setTaskState(lock, task.state, developer);
          }
        }
        return { withdrawn: 0, tombstone: false };
      }
      const reason: ProposalReasonName = state === "ASSIGNED"
        ? "TASK_CLOSED"
        : closure.outcome === "cancelled"
        ? "TASK_CANCELLED"
        : closure.outcome === "expired"
        ? "TASK_EXPIRED"
        : "TASK_CLOSED";
      // At the deadline pending proposals expire (whether the sweep or this event comes first).
      const withdrawn = await this.store.withdrawPending(lock, reason, {
        status: closure.outcome === "expired" ? "EXPIRED" : "WITHDRAWN",
      });
      // An acceptance of a task that was cancelled or expired (before or after the Task Service
      // assigned it) does not stand: the proposal is CANCELLED and its developer told.
      const cancelled = state === "CLOSED" &&
          (closure.outcome === "cancelled" || closure.outcome === "expired")
        ? await this.store.closeAccepted(lock, "CANCELLED", reason)
        : [];
      await this.store.tasks.setTaskState(lock, state, developer);
      await this.write(lock, [
        ...closedProposalEvents([...withdrawn, ...cancelled]),
        ...matchStateNotifications([change(task, state, 0)]),
      ]);
      return { withdrawn: withdrawn.length, tombstone: false };
    });
  }

  /**
   * The assigned developer stepped back before starting (`task.developer_withdrew`): they are
   * never proposed the task again, their acceptance is WITHDRAWN (reason DEVELOPER_WITHDREW), and
   * an ASSIGNED task goes back to matching now ("rematch"; the caller starts an attempt). A task
   * not seen yet or no longer assigned here only records the developer ("recorded").
   */
  async releaseDeveloper(taskId: string, developerId: string): Promise<"rematch" | "recorded"> {
    const developer = developerId.toLowerCase();
    return await this.store.transaction(async (tx) => {
      const lock = await LockedTask.acquire(tx, taskId);
      const closed = await this.store.recordWithdrawal(tx, taskId, developer);
      if (!lock || lock.task.state !== "ASSIGNED") {
        if (closed.length > 0) await this.outbox.write(tx, closedProposalEvents(closed));
        return "recorded";
      }
      await this.store.tasks.reopenTask(lock);
      await this.write(lock, [
        ...closedProposalEvents(closed),
        ...matchStateNotifications([change(lock.task, "PENDING", 0)]),
      ]);
      return "rematch";
    });
  }

  /**
   * Applies a `task.updated` with newer terms: they replace the old ones (and are kept as a new
   * version); proposals on older terms are taken back (PENDING ones withdrawn; an acceptance not
   * yet assigned, which the Task Service refuses on changed terms, withdrawn too) and the task goes
   * back to matching. A task not known yet is recorded with these terms.
   */
  async applyTerms(task: NewMatchTask & { termsVersion: number }): Promise<TermsOutcome> {
    const outcome = await this.store.transaction(
      async (tx): Promise<TermsOutcome | "unknown"> => {
        const lock = await LockedTask.acquire(tx, task.taskId);
        if (!lock) return "unknown";
        const current = lock.task;
        if (current.client_id === null) {
          await this.store.tasks.setTerms(
            lock,
            task,
            Math.max(task.termsVersion, current.terms_version),
          );
          return "ignored";
        }
        if (task.termsVersion <= current.terms_version) return "stale";
        await this.store.tasks.setTerms(lock, task, task.termsVersion);
        if (current.state === "CLOSED") return "closed";
        if (current.state === "ASSIGNED") {
          const voided = await this.store.closeAccepted(
            lock,
            "WITHDRAWN",
            "TERMS_CHANGED",
            task.termsVersion,
          );
          if (voided.length === 0) return "assigned";
          await this.store.tasks.reopenTask(lock);
          await this.write(lock, [
            ...closedProposalEvents(voided),
            ...matchStateNotifications([change(current, "PENDING", 0)]),
          ]);
          return "rematch";
        }
        const withdrawn = await this.store.withdrawPending(lock, "TERMS_CHANGED");
        await this.store.tasks.reopenTask(lock);
        await this.write(lock, [
          ...closedProposalEvents(withdrawn),
          ...matchStateNotifications([change(current, "PENDING", 0)]),
        ]);
        return "rematch";
      },
    );
    if (outcome !== "unknown") return outcome;
    const { created } = await this.store.tasks.recordTask(task, 0);
    return created ? "recorded" : await this.applyTerms(task);
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
      if (task.terms_version !== seen.terms_version) {
        return { kind: "skipped", reason: "terms changed" };
      }
      if (task.past_deadline) {
        // No proposal at or after the deadline: the task waits for its task.expired.
        await this.store.tasks.finishAttempt(lock, "NO_CANDIDATES", null);
        await this.write(lock, matchStateNotifications([change(task, "NO_CANDIDATES", 0)]));
        return { kind: "no_candidates", retryInSeconds: null, task };
      }
      // What the task's proposals say, in one round trip; none to read for a first attempt
      // (proposals are only ever inserted here, together with attempts + 1, and attempts never
      // goes back to 0).
      const { exclude, hadProposals, pending } = task.attempts === 0
        ? { exclude: new Set<string>(), hadProposals: false, pending: 0 }
        : await this.store.proposalSummary(tx, taskId, task.terms_version);
      if (task.client_id) exclude.add(task.client_id);
      const offline = new Set<string>();
      const checked = new Set<string>();
      const picked = await plan.choose({
        task,
        exclude,
        hadProposals,
        pending,
        developerStats: async (ids, windowSeconds) => {
          const facts = await this.store.developers.developerFacts(tx, ids, windowSeconds);
          for (const id of ids) checked.add(id);
          for (const id of facts.offline) offline.add(id);
          return facts.stats;
        },
        isOffline: (id) => offline.has(id),
      });
      // A developer who went offline since the candidates were looked up is not proposed to
      // (most were read with their stats; the rest now).
      const unchecked = picked.map((c) => c.developerId).filter((id) => !checked.has(id));
      if (unchecked.length > 0) {
        for (const id of await this.store.developers.offlineAmong(tx, unchecked)) offline.add(id);
      }
      const chosen = picked.filter((c) => !offline.has(c.developerId));
      const inserted = await this.store.insertProposals(lock, chosen, plan.proposalTtlSeconds);
      const now = new Date();
      const created = inserted.map((p) => proposalCreatedEvent(p, now));
      if (inserted.length > 0 || pending > 0) {
        // The task's new state and the events' outbox rows go out together (pipelined).
        await Promise.all([
          this.store.tasks.finishAttempt(lock, "PROPOSED", null),
          this.write(lock, [
            ...created,
            ...developerNotifications(inserted),
            ...matchStateNotifications([change(task, "PROPOSED", pending + inserted.length)]),
          ]),
        ]);
        return {
          kind: "proposed",
          proposals: inserted,
          task,
          firstProposals: inserted.length > 0 && !hadProposals,
        };
      }
      // An event (a developer online, skills added) asked for a re-match while the candidates
      // were looked up: look again now rather than wait.
      const woken = String(task.wake_seq) !== String(seen.wake_seq);
      const retryInSeconds = woken ? 0 : plan.retryDelaySeconds(task.attempts + 1);
      await Promise.all([
        this.store.tasks.finishAttempt(lock, "NO_CANDIDATES", retryInSeconds),
        this.write(lock, matchStateNotifications([change(task, "NO_CANDIDATES", 0)])),
      ]);
      return { kind: "no_candidates", retryInSeconds, task };
    });
    return record ?? { kind: "skipped", reason: "matched concurrently" };
  }

  /** Postpones a waiting task's next attempt (the User Service was unavailable). */
  deferTask(taskId: string, seconds: number): Promise<void> {
    return this.store.tasks.deferTask(taskId, seconds);
  }

  /**
   * Expires PENDING proposals past their time (at most `limit` tasks' worth) and puts the tasks
   * left with none back to matching, in one transaction; their developers and clients are told.
   */
  async expireDueProposals(limit: number): Promise<{ tasks: number; reopened: number }> {
    return await this.store.transaction(async (tx) => {
      const { expired, reopened } = await this.store.expireDueProposals(tx, limit);
      await this.outbox.write(tx, [
        ...closedProposalEvents(expired),
        ...matchStateNotifications(reopened),
      ]);
      return { tasks: new Set(expired.map((p) => p.task_id)).size, reopened: reopened.length };
    });
  }

  /** Up to `size` PROPOSED tasks after `after` (task_id order): a slice for the safety nets. */
  proposedTasksAfter(after: string | null, size: number): Promise<string[]> {
    return this.store.tasks.proposedTasksAfter(after, size);
  }

  /**
   * The safety net: those of `amongTasks` still PROPOSED with no PENDING proposal go back to
   * matching now.
   */
  async reopenOrphaned(limit: number, amongTasks: string[]): Promise<number> {
    if (amongTasks.length === 0) return 0;
    return await this.store.transaction(async (tx) => {
      const reopened = await this.store.reopenOrphaned(tx, limit, amongTasks);
      await this.outbox.write(tx, matchStateNotifications(reopened));
      return reopened.length;
    });
  }

  /** Claims tasks due for a (re)try, leased for `leaseSeconds` so other replicas skip them. */
  claimDueTasks(limit: number, leaseSeconds: number): Promise<string[]> {
    return this.store.tasks.claimDueTasks(limit, leaseSeconds);
  }

  /**
   * Records a developer's presence from an event; false when a more recent one was recorded
   * before (a late event changes nothing).
   */
  recordPresence(developerId: string, online: boolean, at: Date): Promise<boolean> {
    return this.store.developers.recordPresence(developerId, online, at);
  }

  /**
   * Takes back the PENDING proposals of developers known to be offline (one developer's, or
   * those among a slice of tasks: the sweeper's safety net), a batch of tasks at a time, skipping tasks another
   * transaction holds (an answer, an attempt: a later round takes them); their tasks go back to
   * matching. Developers and clients are told.
   */
  async withdrawOfflineProposals(
    limit: number,
    scope: { developerId: string } | { amongTasks: string[] },
  ): Promise<OfflineOutcome> {
    if ("amongTasks" in scope && scope.amongTasks.length === 0) {
      return { withdrawn: 0, reopened: 0 };
    }
    const outcome = await this.store.transaction(async (tx) => {
      const { withdrawn, reopened } = await this.store.withdrawOfflineProposals(tx, limit, scope);
      await this.outbox.write(tx, [
        ...closedProposalEvents(withdrawn),
        ...matchStateNotifications(reopened),
      ]);
      return { withdrawn: withdrawn.length, reopened: reopened.length };
    });
    if (outcome.reopened > 0) this.options.onTaskReopened?.();
    return outcome;
  }

  /**
   * Wakes waiting tasks a developer can take (see {@link ProposalStore.wakeWaitingTasks}); the
   * sweeper matches them at once.
   */
  async wakeWaitingTasks(
    options: Parameters<ProposalStore["tasks"]["wakeWaitingTasks"]>[0],
  ): Promise<string[]> {
    const woken = await this.store.tasks.wakeWaitingTasks(options);
    if (woken.length > 0) this.options.onTaskReopened?.();
    return woken;
  }

  /** Writes the events of a change in the locked task's transaction. */
  private async write(lock: LockedTask, events: OutboxEvent[]): Promise<void> {
    await this.outbox.write(lock.tx, events);
  }
}

/** A state change of a task, for the client's notification. */
function change(task: MatchTaskRow, to: MatchTaskState, pending: number): StateChange {
  return { task_id: task.task_id, client_id: task.client_id, from: task.state, to, pending };
}
