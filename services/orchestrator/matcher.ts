/**
 * One matching attempt of a task: ask the User Service for online candidates, score them, and in
 * one transaction insert the top N proposals with their `proposal.created` outbox events and
 * record the attempt. Safe to run twice at once for the same task (two replicas, a redelivered
 * event): the task row is locked and its attempt count compared, and the database allows one
 * proposal per task and developer.
 *
 * @module
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ProposalCreatedSchema } from "@platform/gen/platform/events/v1/events_pb.ts";
import type { Counter, Histogram } from "prom-client";
import { DependencyUnavailableError } from "../../lib/errors.ts";
import { buildEventJson } from "../../lib/events/event_codec.ts";
import type { Logger } from "../../lib/log/logger.ts";
import type { ScoringParams } from "./matching/scoring.ts";
import { selectCandidates } from "./matching/select_candidates.ts";
import type { MatchTaskRow, ProposalStore } from "./proposal_store.ts";
import type { CandidateSource } from "./user_directory.ts";

/** Matching settings. */
export interface MatcherSettings {
  params: ScoringParams;
  proposalsPerTask: number;
  candidateLimit: number;
  proposalTtlSeconds: number;
  retryIntervalSeconds: number;
  fairnessWindowSeconds: number;
}

/** The metrics the matcher updates. */
export interface MatcherMetrics {
  attempted: Counter<string>;
  successful: Counter<string>;
  proposalsCreated: Counter<string>;
  /** From the task's creation (task.created) to its first proposals stored. */
  timeToProposals?: Histogram<string>;
}

/** What an attempt did. */
export type AttemptOutcome =
  | { kind: "proposed"; proposals: number }
  | { kind: "no_candidates"; retryInSeconds: number }
  | { kind: "skipped"; reason: string }
  | { kind: "unknown_task" }
  | { kind: "deferred"; retryInSeconds: number };

/**
 * Runs matching attempts.
 *
 * @example
 * ```ts
 * const outcome = await matcher.attempt(taskId);
 * ```
 */
export class Matcher {
  constructor(
    private readonly store: ProposalStore,
    private readonly candidates: CandidateSource,
    private readonly settings: MatcherSettings,
    private readonly metrics: MatcherMetrics,
    private readonly logger: Logger,
  ) {}

  /** How long a task with no candidate waits before the next try (grows with attempts, capped). */
  retryDelaySeconds(attempts: number): number {
    return this.settings.retryIntervalSeconds * 2 ** Math.min(Math.max(attempts - 1, 0), 4);
  }

  /**
   * One attempt. When the User Service is unavailable the task's next attempt is postponed by
   * the retry interval and `deferred` is returned (the task stays PENDING: nothing is lost).
   */
  async attempt(taskId: string): Promise<AttemptOutcome> {
    const seen = await this.store.getTask(taskId);
    if (!seen) return { kind: "unknown_task" };
    if (seen.state !== "PENDING" && seen.state !== "NO_CANDIDATES") {
      return { kind: "skipped", reason: `task is ${seen.state}` };
    }
    let candidates;
    try {
      candidates = await this.candidates.onlineDevelopers(
        seen.required_skills,
        this.settings.candidateLimit,
      );
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      const retryInSeconds = this.settings.retryIntervalSeconds;
      await this.store.deferTask(taskId, retryInSeconds);
      this.logger.warn("user service unavailable; task retried later", {
        task_id: taskId,
        retry_in_s: retryInSeconds,
      });
      return { kind: "deferred", retryInSeconds };
    }

    const result = await this.store.db.transaction(async (tx) => {
      const task = await this.store.getTask(taskId, tx, true);
      if (!task || task.attempts !== seen.attempts || task.state !== seen.state) {
        return { kind: "skipped", reason: "matched concurrently" } as const;
      }
      const exclude = await this.store.proposedDevelopers(tx, taskId);
      exclude.add(task.client_id);
      const pending = await this.store.pendingCount(tx, taskId);
      const wanted = Math.max(0, this.settings.proposalsPerTask - pending);
      const ids = candidates.filter((c) => !exclude.has(c.developerId)).map((c) => c.developerId);
      const stats = await this.store.developerStats(tx, ids, this.settings.fairnessWindowSeconds);
      const chosen = selectCandidates({
        task: profileOf(task),
        candidates,
        stats,
        exclude,
        limit: wanted,
        params: this.settings.params,
      });
      const inserted = await this.store.insertProposals(
        tx,
        taskId,
        chosen.map((c) => ({ developerId: c.candidate.developerId, score: c.breakdown.score })),
        this.settings.proposalTtlSeconds,
      );
      const now = new Date();
      await this.store.insertOutbox(
        tx,
        inserted.map((p) => {
          const eventId = crypto.randomUUID();
          return {
            id: eventId,
            subject: "proposal.created",
            payload: buildEventJson(ProposalCreatedSchema, {
              eventId,
              proposalId: p.id,
              taskId: p.task_id,
              developerId: p.developer_id,
              score: p.score,
              expiresAt: timestampFromDate(p.expires_at),
              occurredAt: timestampFromDate(now),
            }),
          };
        }),
      );
      if (inserted.length > 0 || pending > 0) {
        await this.store.finishAttempt(tx, taskId, "PROPOSED", null);
        return { kind: "proposed", proposals: inserted.length, task } as const;
      }
      const retryInSeconds = this.retryDelaySeconds(task.attempts + 1);
      await this.store.finishAttempt(tx, taskId, "NO_CANDIDATES", retryInSeconds);
      return { kind: "no_candidates", retryInSeconds } as const;
    });

    if (result.kind === "skipped") return result;
    this.metrics.attempted.inc();
    if (result.kind === "proposed") {
      if (result.proposals > 0) {
        this.metrics.successful.inc();
        this.metrics.proposalsCreated.inc(result.proposals);
        if (result.task.attempts === 0 && this.metrics.timeToProposals) {
          this.metrics.timeToProposals.observe(
            Math.max(0, (Date.now() - result.task.task_created_at.getTime()) / 1000),
          );
        }
      }
      this.logger.info("proposals created", {
        task_id: taskId,
        proposals: result.proposals,
        candidates: candidates.length,
      });
      return { kind: "proposed", proposals: result.proposals };
    }
    this.logger.info("no candidate for task; retried later", {
      task_id: taskId,
      candidates: candidates.length,
      retry_in_s: result.retryInSeconds,
    });
    return result;
  }
}

function profileOf(task: MatchTaskRow) {
  return {
    requiredSkills: task.required_skills,
    budget: task.budget_minor !== null && task.currency
      ? { currency: task.currency, amountMinor: Number(task.budget_minor) }
      : undefined,
  };
}
