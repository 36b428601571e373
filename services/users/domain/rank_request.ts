/**
 * RankCandidates' request, checked and normalised before any SQL runs: skills like profiles',
 * a valid budget, weights that are numbers, at most {@link MAX_RANK_EXCLUDE} excluded UUIDs and a
 * small limit. Pure; bad input throws a {@link ValidationError} naming the field.
 *
 * @module
 */
import {
  DEFAULT_SCORING_WEIGHTS,
  isUuid,
  normalizeCurrency,
  normalizeSkillTags,
  type ScoringWeights,
} from "@platform/lib/domain";
import { ValidationError } from "@platform/lib/errors";

/** Most ids a request may exclude. */
export const MAX_RANK_EXCLUDE = 1000;
/** Most candidates one request returns. */
export const MAX_RANK_LIMIT = 200;
/** Most required skills. */
export const MAX_RANK_SKILLS = 50;

/** A request as it arrives (the generated message's shape). */
export interface RankRequestInput {
  skillTags: readonly string[];
  budget?: { currency: string; amountMinor: bigint };
  minSkillCoverage: number;
  rateReferenceHours: number;
  weights?: ScoringWeights;
  excludeIds: readonly string[];
  limit: number;
}

/** A checked request. */
export interface RankQuery {
  /** Normalised, unique. */
  skills: string[];
  /** Absent, or a positive amount in an upper-case currency. */
  budget?: { currency: string; amountMinor: bigint };
  minSkillCoverage: number;
  rateReferenceHours: number;
  weights: ScoringWeights;
  /** Lower-case UUIDs. */
  exclude: string[];
  limit: number;
}

/**
 * Checks and normalises a RankCandidates request.
 *
 * @example
 * ```ts
 * const query = validateRankRequest({ skillTags: ["Go"], minSkillCoverage: 0.5, rateReferenceHours: 0, excludeIds: [], limit: 0 });
 * query.limit; // 20
 * ```
 */
export function validateRankRequest(req: RankRequestInput): RankQuery {
  if (req.skillTags.length > MAX_RANK_SKILLS) {
    throw new ValidationError("skill_tags", `at most ${MAX_RANK_SKILLS} tags are allowed`);
  }
  const skills = normalizeSkillTags(req.skillTags, "skill_tags", MAX_RANK_SKILLS);
  let budget: RankQuery["budget"];
  if (req.budget && (req.budget.currency !== "" || req.budget.amountMinor !== 0n)) {
    const currency = normalizeCurrency(req.budget.currency, "budget.currency");
    if (req.budget.amountMinor < 0n) {
      throw new ValidationError("budget.amount_minor", "must not be negative");
    }
    if (req.budget.amountMinor > 0n) budget = { currency, amountMinor: req.budget.amountMinor };
  }
  const min = req.minSkillCoverage;
  if (!Number.isFinite(min) || min < 0 || min > 1) {
    throw new ValidationError("min_skill_coverage", "must be from 0 to 1");
  }
  const hours = req.rateReferenceHours;
  if (!Number.isFinite(hours) || hours < 0 || hours > 10_000) {
    throw new ValidationError("rate_reference_hours", "must be from 0 to 10000 (0 means 10)");
  }
  const weights = req.weights ?? DEFAULT_SCORING_WEIGHTS;
  for (const [name, value] of Object.entries(weights)) {
    if (!Number.isFinite(value) || value < 0 || value > 100) {
      throw new ValidationError(`weights.${snake(name)}`, "must be from 0 to 100");
    }
  }
  if (Object.values(weights).every((w) => w === 0)) {
    throw new ValidationError("weights", "at least one weight must be above 0");
  }
  if (req.excludeIds.length > MAX_RANK_EXCLUDE) {
    throw new ValidationError("exclude_ids", `at most ${MAX_RANK_EXCLUDE} ids are allowed`);
  }
  const exclude = req.excludeIds.map((id, i) => {
    if (!isUuid(id)) throw new ValidationError(`exclude_ids[${i}]`, "must be a user id (UUID)");
    return id.toLowerCase();
  });
  if (!Number.isInteger(req.limit) || req.limit < 0 || req.limit > MAX_RANK_LIMIT) {
    throw new ValidationError("limit", `must be from 1 to ${MAX_RANK_LIMIT} (0 means 20)`);
  }
  return {
    skills,
    budget,
    minSkillCoverage: min,
    rateReferenceHours: hours || 10,
    weights: { ...weights },
    exclude,
    limit: req.limit || 20,
  };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
