/**
 * The orchestrator's configuration: the shared settings, the peer services, the matching weights
 * and the proposal timing. Every variable is validated; a bad one stops the process at start.
 *
 * @module
 */
import {
  type BaseConfig,
  ConfigError,
  EnvReader,
  type EnvSource,
  loadBaseConfig,
} from "@platform/lib/config";
import { DEFAULT_SCORING_WEIGHTS as W, type ScoringWeights } from "@platform/lib/domain";

/** Settings of the orchestrator. */
export interface OrchestratorConfig extends BaseConfig {
  /** The User Service (candidates). */
  usersUrl: string;
  /** Deadline of one User Service call. */
  usersTimeoutMs: number;
  /** Retries of one User Service lookup (after the first try). */
  usersRetries: number;
  /** Consecutive failures that open the circuit breaker. */
  breakerThreshold: number;
  /** How long the open breaker refuses calls before one probe. */
  breakerCooldownMs: number;
  weights: ScoringWeights;
  /** A candidate must offer at least this share of the required skills (0..1). */
  minSkillCoverage: number;
  /** Hours of work the budget should buy at the developer's rate for a full rate score. */
  rateReferenceHours: number;
  /** N: proposals made per task. */
  proposalsPerTask: number;
  /** Candidates one RankCandidates call returns (the window history is applied to). */
  rankLimit: number;
  /** Matching attempts running at once in one replica (per-task order kept). */
  matchConcurrency: number;
  /** A proposal nobody answers expires after this. */
  proposalTtlSeconds: number;
  /** A task whose candidate lookup failed (User Service unavailable) is retried after this. */
  retryIntervalSeconds: number;
  /**
   * A task with no candidate waits for an event (a developer online or gaining skills, new terms);
   * this is only the safety net's look at it after so long (0: never).
   */
  unmatchedRecheckSeconds: number;
  /** Most waiting tasks one presence event wakes (also capped by the fairness cap). */
  presenceRematchLimit: number;
  /** Watch: a keep_alive frame after this long without one. */
  watchKeepAliveSeconds: number;
  /** Watch: a stream ends after this long (the client resumes with its cursor). */
  watchMaxSeconds: number;
  /** Watch: streams one user may hold open at once on one replica. */
  watchMaxStreamsPerUser: number;
  /** Watch: streams open at once on one replica. */
  watchMaxStreams: number;
  /** Fairness: at most FAIRNESS_MAX_PROPOSALS proposals per developer per window. */
  fairnessWindowSeconds: number;
  fairnessMaxProposals: number;
  /** How often the sweeper expires proposals and retries tasks. */
  sweepIntervalMs: number;
  /** The durable consumer names (shared by every replica). */
  consumerPrefix: string;
  /** Handlers run at once per consumer in this replica. */
  consumerConcurrency: number;
  /** JetStream ack wait of the consumers. */
  ackWaitSeconds: number;
  /** JetStream max_deliver of the consumers; -1: never give up. */
  maxDeliver: number;
}

/**
 * Reads the configuration; throws a ConfigError naming the variable on a bad value.
 *
 * @example
 * ```ts
 * const config = loadOrchestratorConfig({ PROPOSALS_PER_TASK: "3" });
 * config.proposalsPerTask; // 3
 * ```
 */
export function loadOrchestratorConfig(
  source: EnvSource = Deno.env.toObject(),
): OrchestratorConfig {
  const env = new EnvReader(source);
  const weights: ScoringWeights = {
    skill: env.number("MATCH_WEIGHT_SKILL", W.skill, { min: 0, max: 100 }),
    trackRecord: env.number("MATCH_WEIGHT_TRACK_RECORD", W.trackRecord, { min: 0, max: 100 }),
    rate: env.number("MATCH_WEIGHT_RATE", W.rate, { min: 0, max: 100 }),
    load: env.number("MATCH_WEIGHT_LOAD", W.load, { min: 0, max: 100 }),
    fairness: env.number("MATCH_WEIGHT_FAIRNESS", W.fairness, { min: 0, max: 100 }),
  };
  if (Object.values(weights).every((w) => w === 0)) {
    throw new ConfigError("MATCH_WEIGHT_SKILL", "at least one MATCH_WEIGHT_* must be above 0");
  }
  const maxDeliver = env.int("EVENT_MAX_DELIVER", -1, { min: -1, max: 1_000_000 });
  if (maxDeliver === 0 || maxDeliver === 1) {
    throw new ConfigError("EVENT_MAX_DELIVER", "must be -1 (unlimited) or at least 2");
  }
  return {
    ...loadBaseConfig("orchestrator", 50053, source),
    usersUrl: env.url("USERS_URL", "http://127.0.0.1:50051", ["http", "https"]),
    usersTimeoutMs: env.int("USERS_TIMEOUT_MS", 3000, { min: 50, max: 60_000 }),
    usersRetries: env.int("USERS_RETRIES", 2, { min: 0, max: 10 }),
    breakerThreshold: env.int("USERS_BREAKER_THRESHOLD", 3, { min: 1, max: 1000 }),
    breakerCooldownMs: env.int("USERS_BREAKER_COOLDOWN_MS", 5000, { min: 10, max: 600_000 }),
    weights,
    minSkillCoverage: env.number("MIN_SKILL_COVERAGE", 0.5, { min: 0, max: 1 }),
    rateReferenceHours: env.number("RATE_REFERENCE_HOURS", 10, { min: 0.1, max: 10_000 }),
    proposalsPerTask: env.int("PROPOSALS_PER_TASK", 3, { min: 1, max: 100 }),
    rankLimit: env.int("MATCH_RANK_LIMIT", 20, { min: 1, max: 200 }),
    matchConcurrency: env.int("MATCH_CONCURRENCY", 16, { min: 1, max: 256 }),
    proposalTtlSeconds: env.int("PROPOSAL_TTL_SECONDS", 86_400, { min: 1, max: 30 * 86_400 }),
    retryIntervalSeconds: env.int("RETRY_INTERVAL_SECONDS", 30, { min: 1, max: 86_400 }),
    unmatchedRecheckSeconds: env.int("UNMATCHED_RECHECK_SECONDS", 21_600, {
      min: 0,
      max: 30 * 86_400,
    }),
    presenceRematchLimit: env.int("PRESENCE_REMATCH_LIMIT", 20, { min: 0, max: 10_000 }),
    watchKeepAliveSeconds: env.int("WATCH_KEEPALIVE_SECONDS", 15, { min: 1, max: 3600 }),
    watchMaxSeconds: env.int("WATCH_MAX_SECONDS", 3600, { min: 5, max: 86_400 }),
    watchMaxStreamsPerUser: env.int("WATCH_MAX_STREAMS_PER_USER", 8, { min: 1, max: 1000 }),
    watchMaxStreams: env.int("WATCH_MAX_STREAMS", 10_000, { min: 1, max: 1_000_000 }),
    fairnessWindowSeconds: env.int("FAIRNESS_WINDOW_SECONDS", 3600, { min: 1, max: 30 * 86_400 }),
    fairnessMaxProposals: env.int("FAIRNESS_MAX_PROPOSALS", 20, { min: 1, max: 100_000 }),
    sweepIntervalMs: env.int("SWEEP_INTERVAL_MS", 5000, { min: 50, max: 3_600_000 }),
    consumerPrefix: env.string("CONSUMER_PREFIX", "orchestrator"),
    consumerConcurrency: env.int("CONSUMER_CONCURRENCY", 8, { min: 1, max: 256 }),
    ackWaitSeconds: env.int("EVENT_ACK_WAIT_SECONDS", 30, { min: 1, max: 3600 }),
    maxDeliver,
  };
}
