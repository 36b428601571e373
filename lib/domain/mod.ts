/**
 * Pure domain rules the services share: skill tags, currencies, text fields.
 *
 * @module
 */
export * from "./currencies.ts";
export * from "./skill_tags.ts";
export * from "./text.ts";
