/**
 * One matching attempt of a task: ask the User Service for the best few online candidates
 * (RankCandidates: filtered and ranked in SQL by the task-side terms of the score, one unary
 * binary-protobuf call with a small limit), then score them with their history
 * and store the top N proposals through {@link ProposalCommands.recordAttempt}, which, in one
 * transaction under the task's lock, inserts them with their `proposal.created` outbox events and
 * records the attempt. Safe to run twice at once for the same task (two replicas, a redelivered
 * event): the task row is locked and its attempt count compared, and the database allows one
 * proposal per task and developer. The policy (who, how many, when to retry) is here; the
 * transaction is the commands'.
 *
 * @module
 */
import type { Counter, Histogram } from "prom-client";
import { DependencyUnavailableError } from "@platform/lib/errors";
import type { Logger } from "@platform/lib/log";
import type { CandidateProfile, ScoringParams } from "./matching/scoring.ts";
import { KeyedLimiter } from "./matching/keyed_limiter.ts";
import { selectCandidates } from "./matching/select_candidates.ts";
import type { ProposalCommands } from "./proposal_commands.ts";
import type { MatchTaskRow } from "./proposal_store.ts";
import type { CandidateSource } from "./user_directory.ts";

/** Matching settings. */
export interface MatcherSettings {
  params: ScoringParams;
  proposalsPerTask: number;
  proposalTtlSeconds: number;
  /** The retry of a task whose candidate lookup failed (the User Service was unavailable). */
  retryIntervalSeconds: number;
  /**
   * A task with no candidate is not retried on a timer: it waits for an event (a developer online
   * or gaining skills, new terms) to wake it. This is only the safety net, a look after this long
   * (0: never).
   */
  unmatchedRecheckSeconds?: number;
  fairnessWindowSeconds: number;
  /**
   * Candidates one RankCandidates call returns (1..200): the window the history terms (track,
   * load, fairness) are applied to. Default 20.
   */
  rankLimit?: number;
  /** Attempts running at once in this process (MATCH_CONCURRENCY); default 16. */
  matchConcurrency?: number;
  /** How long the set of developers at the fairness cap is reused (ms); default 1000. */
  capCacheMs?: number;
}

/**
 * The metrics the matcher updates. As the manual defines them, an attempt is a task the
 * orchestrator tried to match and a success an attempt that produced a proposal: `attempted` counts
 * a task once (its first attempt), `successful` once (when it first gets proposals), and
 * `retries` every later attempt (re-matches, retries of tasks with no candidate), so that
 * successful / attempted is the share of tasks matched.
 */
export interface MatcherMetrics {
  attempted: Counter<string>;
  successful: Counter<string>;
  /** Attempts after a task's first one. */
  retries?: Counter<string>;
  proposalsCreated: Counter<string>;
  /** From the task's creation (task.created) to its first proposals stored. */
  timeToProposals?: Histogram<string>;
}

/** What an attempt did. */
export type AttemptOutcome =
  | { kind: "proposed"; proposals: number }
  | { kind: "no_candidates"; retryInSeconds: number | null }
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
  /** Bounds the attempts in flight; keeps one task's attempts in order. */
  readonly limiter: KeyedLimiter;
  private capped?: { at: number; ids: Promise<string[]> };

  constructor(
    private readonly commands: ProposalCommands,
    private readonly candidates: CandidateSource,
    private readonly settings: MatcherSettings,
    private readonly metrics: MatcherMetrics,
    private readonly logger: Logger,
  ) {
    this.limiter = new KeyedLimiter(settings.matchConcurrency ?? 16);
  }

  /**
   * When a task with no candidate is looked at again without an event: the safety net, after
   * `unmatchedRecheckSeconds` to twice that (spread at random, so a backlog created together does
   * not come due together), or never (null). Events (a developer online, skills added, new terms)
   * wake it at once, so a backlog of unmatched tasks costs nothing while nothing changes.
   */
  retryDelaySeconds(_attempts: number): number | null {
    const seconds = this.settings.unmatchedRecheckSeconds ?? 0;
    return seconds > 0 ? Math.round(seconds * (1 + Math.random())) : null;
  }

  /**
   * One attempt. When the User Service is unavailable the task's next attempt is postponed by
   * the retry interval and `deferred` is returned (the task stays PENDING: nothing is lost).
   */
  attempt(taskId: string, known?: MatchTaskRow): Promise<AttemptOutcome> {
    return this.limiter.run(taskId, () => this.attemptNow(taskId, known));
  }

  /**
   * `known`: the task's row as the caller just wrote it (task.created records it), which saves
   * reading it again. Were it stale (another attempt ran meanwhile), the attempt's transaction
   * sees the change and skips it as matched concurrently, which is then the truth.
   */
  private async attemptNow(taskId: string, known?: MatchTaskRow): Promise<AttemptOutcome> {
    const store = this.commands.store;
    const seen = known ?? await store.tasks.getTask(taskId);
    if (!seen) return { kind: "unknown_task" };
    if (seen.state !== "PENDING" && seen.state !== "NO_CANDIDATES") {
      return { kind: "skipped", reason: `task is ${seen.state}` };
    }
    let candidates;
    try {
      candidates = await this.rankedCandidates(seen);
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      const retryInSeconds = this.settings.retryIntervalSeconds;
      await this.commands.deferTask(taskId, retryInSeconds);
      this.logger.warn("user service unavailable; task retried later", {
        task_id: taskId,
        retry_in_s: retryInSeconds,
      });
      return { kind: "deferred", retryInSeconds };
    }

    const result = await this.commands.recordAttempt({
      taskId,
      seen,
      proposalTtlSeconds: this.settings.proposalTtlSeconds,
      retryDelaySeconds: (attempts) => this.retryDelaySeconds(attempts),
      choose: async ({ task, exclude, pending, developerStats, isOffline }) => {
        const wanted = Math.max(0, this.settings.proposalsPerTask - pending);
        const ids = candidates.filter((c) => !exclude.has(c.developerId)).map((c) => c.developerId);
        const stats = await developerStats(ids, this.settings.fairnessWindowSeconds);
        // Offline developers are left out before ranking, so the next best take their place.
        const gone = ids.filter((id) => isOffline(id));
        return selectCandidates({
          task: profileOf(task),
          candidates,
          stats,
          exclude: gone.length > 0 ? new Set([...exclude, ...gone]) : exclude,
          limit: wanted,
          params: this.settings.params,
        }).map((c) => ({ developerId: c.candidate.developerId, score: c.breakdown.score }));
      },
    });

    if (result.kind === "skipped") return result;
    if (result.task.attempts === 0) this.metrics.attempted.inc();
    else this.metrics.retries?.inc();
    if (result.kind === "proposed") {
      const proposals = result.proposals.length;
      if (proposals > 0) this.metrics.proposalsCreated.inc(proposals);
      if (result.firstProposals) {
        this.metrics.successful.inc();
        if (this.metrics.timeToProposals) {
          this.metrics.timeToProposals.observe(
            Math.max(0, (Date.now() - result.task.task_created_at.getTime()) / 1000),
          );
        }
      }
      this.logger.info("proposals created", {
        task_id: taskId,
        proposals,
        candidates: candidates.length,
      });
      return { kind: "proposed", proposals };
    }
    this.logger.info("no candidate for task; it waits for a developer who can take it", {
      task_id: taskId,
      candidates: candidates.length,
      recheck_in_s: result.retryInSeconds,
    });
    return { kind: "no_candidates", retryInSeconds: result.retryInSeconds };
  }

  /**
   * The candidates of an attempt through RankCandidates: one call for the `rankLimit` best online
   * developers by the task-side terms of the score, leaving out the client, those proposed on the
   * current terms (read only for a task tried before) and those at the fairness cap (a set shared
   * by all attempts for `capCacheMs`). The history terms are applied to this window in the
   * attempt's transaction ({@link selectCandidates}); a developer outside the window whose
   * history would have lifted them above it is not seen (the window is several times N).
   */
  private async rankedCandidates(task: MatchTaskRow): Promise<CandidateProfile[]> {
    const exclude = new Set<string>();
    if (task.client_id) exclude.add(task.client_id);
    if (task.attempts > 0) {
      const summary = await this.commands.proposalSummary(task.task_id, task.terms_version);
      for (const id of summary.exclude) exclude.add(id);
      if (this.settings.proposalsPerTask - summary.pending <= 0) return [];
    }
    for (const id of await this.developersAtCap()) {
      if (exclude.size >= MAX_EXCLUDE) break;
      exclude.add(id);
    }
    return await this.candidates.rankCandidates({
      skills: task.required_skills,
      budget: budgetOf(task),
      params: this.settings.params,
      exclude: [...exclude].slice(0, MAX_EXCLUDE),
      limit: this.settings.rankLimit ?? 20,
    });
  }

  /** The developers at the fairness cap, read at most once per `capCacheMs`. */
  private developersAtCap(): Promise<string[]> {
    const now = Date.now();
    const ttl = this.settings.capCacheMs ?? 1000;
    if (!this.capped || now - this.capped.at >= ttl) {
      const ids = this.commands.store.developers.developersAtCap(
        this.settings.fairnessWindowSeconds,
        this.settings.params.fairnessMaxProposals,
        MAX_EXCLUDE - 100,
      ).catch((error) => {
        this.capped = undefined;
        throw error;
      });
      this.capped = { at: now, ids };
    }
    return this.capped.ids;
  }
}

const MAX_EXCLUDE = 1000;

/** The task's budget as the scoring sees it. */
function budgetOf(task: MatchTaskRow) {
  return task.budget_minor !== null && task.currency
    ? { currency: task.currency, amountMinor: Number(task.budget_minor) }
    : undefined;
}

function profileOf(task: MatchTaskRow) {
  return {
    requiredSkills: task.required_skills,
    budget: task.budget_minor !== null && task.currency
      ? { currency: task.currency, amountMinor: Number(task.budget_minor) }
      : undefined,
  };
}
