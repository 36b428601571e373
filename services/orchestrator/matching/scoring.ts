/**
 * Match scoring: how well one online developer fits one task. Pure (no I/O), so it is tested
 * without servers and the weights are plain configuration.
 *
 * ## The formula
 *
 * Each component is a number in [0, 1]; the score is their weighted mean, also in [0, 1]:
 *
 * ```
 * score = (wS·skill + wT·track + wR·rate + wL·load + wF·fairness) / (wS + wT + wR + wL + wF)
 * ```
 *
 * - **skill**: coverage of the required skills, `|required ∩ offered| / |required|` (1 when the
 *   task requires none). Tags compare case-insensitively.
 * - **track**: the developer's record on this platform, from the orchestrator's own proposals:
 *   `(accepted + 1) / (accepted + declined + expired + 2)`: Laplace smoothing, so a newcomer
 *   scores 0.5 and one answer does not swing it to 0 or 1.
 * - **rate**: the hourly rate against the budget: `min(1, budget / (rate · H))` where H is
 *   `RATE_REFERENCE_HOURS` (the hours the budget should buy). 0.5 (neutral) when the task has no
 *   budget, the developer no rate, or the currencies differ.
 * - **load**: `1 / (1 + open)` where open is the developer's PENDING proposals plus tasks they hold.
 * - **fairness**: `1 − recent / cap`, recent being the proposals the developer got within
 *   `FAIRNESS_WINDOW_SECONDS` and cap `FAIRNESS_MAX_PROPOSALS`. At the cap the developer is
 *   not eligible at all (a hard cap, see {@link isEligible}), so the same few cannot get everything.
 *
 * A candidate is eligible when its skill coverage is at least `MIN_SKILL_COVERAGE` (and above 0
 * when the task requires skills) and it is under the fairness cap.
 *
 * @module
 */
import { DEFAULT_SCORING_WEIGHTS, type ScoringWeights } from "@platform/lib/domain";

/** The weights of the components: lib/domain's, so that RankCandidates scores alike. */
export type { ScoringWeights };

/** Money in minor units. */
export interface Amount {
  currency: string;
  amountMinor: number;
}

/** What the matcher knows of a task. */
export interface TaskProfile {
  requiredSkills: readonly string[];
  /** The task's total budget, if it has one. */
  budget?: Amount;
}

/** An online developer, as the User Service describes them. */
export interface CandidateProfile {
  developerId: string;
  skillTags: readonly string[];
  hourlyRate?: Amount;
}

/** The developer's history with the orchestrator (from its own proposals table). */
export interface DeveloperStats {
  accepted: number;
  declined: number;
  expired: number;
  /** PENDING proposals now plus tasks assigned and not closed. */
  open: number;
  /** Proposals made to the developer within the fairness window. */
  recent: number;
}

/** No history. */
export const EMPTY_STATS: DeveloperStats = {
  accepted: 0,
  declined: 0,
  expired: 0,
  open: 0,
  recent: 0,
};

/** Parameters of the score besides the weights. */
export interface ScoringParams {
  weights: ScoringWeights;
  minSkillCoverage: number;
  rateReferenceHours: number;
  fairnessMaxProposals: number;
}

/** The default parameters. */
export const DEFAULT_PARAMS: ScoringParams = {
  weights: DEFAULT_SCORING_WEIGHTS,
  minSkillCoverage: 0.5,
  rateReferenceHours: 10,
  fairnessMaxProposals: 20,
};

/** A score with its components (for logs and tests). */
export interface ScoreBreakdown {
  score: number;
  skill: number;
  track: number;
  rate: number;
  load: number;
  fairness: number;
}

/**
 * Share of the required skills the developer offers, in [0, 1].
 *
 * @example
 * ```ts
 * skillCoverage(["go", "sql"], ["SQL", "rust"]); // 0.5
 * ```
 */
export function skillCoverage(required: readonly string[], offered: readonly string[]): number {
  const need = new Set(required.map(normalizeTag).filter((t) => t !== ""));
  if (need.size === 0) return 1;
  const have = new Set(offered.map(normalizeTag));
  let hits = 0;
  for (const tag of need) if (have.has(tag)) hits++;
  return hits / need.size;
}

/**
 * The track record component: smoothed acceptance ratio.
 *
 * @example
 * ```ts
 * trackRecord({ ...EMPTY_STATS }); // 0.5
 * ```
 */
export function trackRecord(stats: DeveloperStats): number {
  return (stats.accepted + 1) / (stats.accepted + stats.declined + stats.expired + 2);
}

/**
 * The rate component: how much of H hours at the developer's rate the budget covers.
 *
 * @example
 * ```ts
 * rateFit({ currency: "USD", amountMinor: 50_000 }, { currency: "USD", amountMinor: 10_000 }, 10); // 0.5
 * ```
 */
export function rateFit(
  budget: Amount | undefined,
  hourlyRate: Amount | undefined,
  referenceHours: number,
): number {
  if (!budget || !hourlyRate || budget.amountMinor <= 0) return 0.5;
  if (budget.currency.toUpperCase() !== hourlyRate.currency.toUpperCase()) return 0.5;
  if (hourlyRate.amountMinor <= 0) return 1;
  return clamp01(budget.amountMinor / (hourlyRate.amountMinor * referenceHours));
}

/**
 * The load component.
 *
 * @example
 * ```ts
 * loadFactor(0); // 1
 * loadFactor(3); // 0.25
 * ```
 */
export function loadFactor(open: number): number {
  return 1 / (1 + Math.max(0, open));
}

/**
 * The fairness component: the share of the window's cap still unused.
 *
 * @example
 * ```ts
 * fairnessFactor(5, 20); // 0.75
 * ```
 */
export function fairnessFactor(recent: number, cap: number): number {
  return clamp01(1 - Math.max(0, recent) / Math.max(1, cap));
}

/**
 * True when the developer may get a proposal for the task at all.
 *
 * @example
 * ```ts
 * isEligible({ requiredSkills: ["go"] }, { developerId: "d", skillTags: ["go"] }, EMPTY_STATS, DEFAULT_PARAMS); // true
 * ```
 */
export function isEligible(
  task: TaskProfile,
  candidate: CandidateProfile,
  stats: DeveloperStats,
  params: ScoringParams,
): boolean {
  if (stats.recent >= params.fairnessMaxProposals) return false;
  const coverage = skillCoverage(task.requiredSkills, candidate.skillTags);
  const requiresSkills = task.requiredSkills.some((t) => normalizeTag(t) !== "");
  if (requiresSkills && coverage <= 0) return false;
  return coverage >= params.minSkillCoverage;
}

/**
 * Scores a candidate for a task (see the module documentation for the formula).
 *
 * @example
 * ```ts
 * scoreCandidate({ requiredSkills: ["go"] }, { developerId: "d", skillTags: ["go"] }, EMPTY_STATS, DEFAULT_PARAMS).score;
 * ```
 */
export function scoreCandidate(
  task: TaskProfile,
  candidate: CandidateProfile,
  stats: DeveloperStats,
  params: ScoringParams,
): ScoreBreakdown {
  const w = params.weights;
  const parts = {
    skill: skillCoverage(task.requiredSkills, candidate.skillTags),
    track: trackRecord(stats),
    rate: rateFit(task.budget, candidate.hourlyRate, params.rateReferenceHours),
    load: loadFactor(stats.open),
    fairness: fairnessFactor(stats.recent, params.fairnessMaxProposals),
  };
  const total = w.skill + w.trackRecord + w.rate + w.load + w.fairness;
  const weighted = w.skill * parts.skill + w.trackRecord * parts.track + w.rate * parts.rate +
    w.load * parts.load + w.fairness * parts.fairness;
  // Rounded to 6 places so the wire shows 0.9, not 0.8999999999999998; ties stay ties.
  return { score: total > 0 ? Math.round(clamp01(weighted / total) * 1e6) / 1e6 : 0, ...parts };
}

/** Lower case, trimmed. */
export function normalizeTag(tag: string): string {
  return tag.trim().toLowerCase();
}

function clamp01(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.min(1, Math.max(0, value));
}
