/**
 * Skill tag normalisation, shared by developer profiles and task requirements so that the two
 * always compare equal: lower case, trimmed, inner whitespace as one hyphen, duplicates dropped,
 * sorted; a bounded count and length and a safe alphabet.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** Most tags one profile or filter may carry. */
export const MAX_SKILL_TAGS = 30;
/** Longest tag, in characters. */
export const MAX_SKILL_TAG_LENGTH = 40;
const TAG = /^[a-z0-9][a-z0-9+#.\-]*$/;

/**
 * Normalises a list of tags or throws a ValidationError naming `field`.
 *
 * @example
 * ```ts
 * normalizeSkillTags([" Go ", "golang", "GO", "Node JS"]); // ["go", "golang", "node-js"]
 * ```
 */
export function normalizeSkillTags(
  tags: readonly string[],
  field = "skill_tags",
  maxTags = MAX_SKILL_TAGS,
): string[] {
  if (tags.length > maxTags * 2) {
    throw new ValidationError(field, `at most ${maxTags} tags are allowed`);
  }
  const out = new Set<string>();
  for (const raw of tags) {
    const tag = raw.normalize("NFKC").trim().toLowerCase().replace(/\s+/g, "-");
    if (tag === "") continue;
    if (tag.length > MAX_SKILL_TAG_LENGTH) {
      throw new ValidationError(
        field,
        `tag "${tag.slice(0, 20)}..." is longer than ${MAX_SKILL_TAG_LENGTH} characters`,
      );
    }
    if (!TAG.test(tag)) {
      throw new ValidationError(
        field,
        `tag ${JSON.stringify(tag)} may only hold letters, digits and + # . -`,
      );
    }
    out.add(tag);
  }
  if (out.size > maxTags) {
    throw new ValidationError(field, `at most ${maxTags} tags are allowed`);
  }
  return [...out].sort();
}
