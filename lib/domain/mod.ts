/**
 * Pure domain rules the services share: ids, paging, score weights, skill tags, currencies, text fields.
 *
 * @example
 * ```ts
 * import { normalizeCurrency, normalizeSkillTags, rejectControlCharacters } from "@platform/lib/domain";
 *
 * console.log(normalizeSkillTags([" Go ", "golang", "GO", "Node JS"])); // ["go", "golang", "node-js"]
 * console.log(normalizeCurrency(" usd ", "budget.currency")); // "USD"
 * rejectControlCharacters("Ada Lovelace", "display_name", { lineBreaks: false }); // no throw
 * ```
 *
 * @module
 */
export * from "./currencies.ts";
export * from "./ids.ts";
export * from "./paging.ts";
export * from "./scoring_weights.ts";
export * from "./skill_tags.ts";
export * from "./text.ts";
export * from "./idempotency_key.ts";
