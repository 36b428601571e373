/**
 * The required skills of a task event, normalised as the services normalise them (one rule,
 * `@platform/lib/domain`'s `normalizeSkillTags`); an event whose skills break that rule is
 * unprocessable (set aside), never retried forever.
 *
 * @module
 */
import { normalizeSkillTags } from "@platform/lib/domain";
import { UnprocessableEventError } from "@platform/lib/events";

/**
 * Normalised, distinct skills, or an UnprocessableEventError saying what is wrong.
 *
 * @example
 * ```ts
 * eventSkills([" Go ", "go", "Node JS"]); // ["go", "node-js"]
 * ```
 */
export function eventSkills(tags: readonly string[]): string[] {
  try {
    return normalizeSkillTags(tags, "required_skills");
  } catch (error) {
    throw new UnprocessableEventError(`required_skills: ${(error as Error).message}`);
  }
}
