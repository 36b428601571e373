/**
 * The weights of a candidate's score, shared by the Orchestrator's matcher (which scores) and the
 * User Service's RankCandidates (which ranks in SQL with the same score for a developer with no
 * history): one definition and one set of defaults, which MATCH_WEIGHT_* override.
 *
 * @module
 */

/** The weights of the score's components (any non-negative numbers; they are normalised). */
export interface ScoringWeights {
  /** Share of the required skills the developer has. */
  skill: number;
  /** Completed work on the platform. */
  trackRecord: number;
  /** How well the budget pays for the developer's rate. */
  rate: number;
  /** How little the developer has on their plate. */
  load: number;
  /** How few proposals the developer got lately. */
  fairness: number;
}

/**
 * The default weights (MATCH_WEIGHT_SKILL, _TRACK_RECORD, _RATE, _LOAD, _FAIRNESS).
 *
 * @example
 * ```ts
 * import { DEFAULT_SCORING_WEIGHTS } from "@platform/lib/domain";
 * console.log(DEFAULT_SCORING_WEIGHTS.skill); // 0.4
 * ```
 */
export const DEFAULT_SCORING_WEIGHTS: Readonly<ScoringWeights> = Object.freeze({
  skill: 0.4,
  trackRecord: 0.2,
  rate: 0.15,
  load: 0.15,
  fairness: 0.1,
});
