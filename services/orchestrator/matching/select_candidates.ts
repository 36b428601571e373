/**
 * Candidate selection: filter the eligible, rank by score, take the top N. Pure.
 *
 * @module
 */
import {
  type CandidateProfile,
  type DeveloperStats,
  EMPTY_STATS,
  isEligible,
  type ScoreBreakdown,
  scoreCandidate,
  type ScoringParams,
  type TaskProfile,
} from "./scoring.ts";

/** A chosen candidate. */
export interface RankedCandidate {
  candidate: CandidateProfile;
  breakdown: ScoreBreakdown;
}

/** What selection needs besides the candidates. */
export interface SelectionInput {
  task: TaskProfile;
  candidates: readonly CandidateProfile[];
  /** Per developer id; missing means no history. */
  stats: ReadonlyMap<string, DeveloperStats>;
  /** Developers who already had a proposal for this task (any status), or the client themself. */
  exclude: ReadonlySet<string>;
  /** How many to take. */
  limit: number;
  params: ScoringParams;
}

/**
 * The best `limit` eligible candidates, best first; ties broken by fewer open proposals, then by
 * id, so the order is deterministic.
 *
 * @example
 * ```ts
 * const top = selectCandidates({ task, candidates, stats: new Map(), exclude: new Set(), limit: 3, params: DEFAULT_PARAMS });
 * ```
 */
export function selectCandidates(input: SelectionInput): RankedCandidate[] {
  if (input.limit <= 0) return [];
  const seen = new Set<string>();
  const ranked: RankedCandidate[] = [];
  for (const candidate of input.candidates) {
    if (seen.has(candidate.developerId) || input.exclude.has(candidate.developerId)) continue;
    seen.add(candidate.developerId);
    const stats = input.stats.get(candidate.developerId) ?? EMPTY_STATS;
    if (!isEligible(input.task, candidate, stats, input.params)) continue;
    ranked.push({
      candidate,
      breakdown: scoreCandidate(input.task, candidate, stats, input.params),
    });
  }
  ranked.sort((a, b) =>
    b.breakdown.score - a.breakdown.score ||
    b.breakdown.load - a.breakdown.load ||
    (a.candidate.developerId < b.candidate.developerId ? -1 : 1)
  );
  return ranked.slice(0, input.limit);
}
