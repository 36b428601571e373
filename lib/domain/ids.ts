/**
 * Ids: every id the platform makes (users, tasks, proposals, events) is a UUID. The one check of
 * that shape; callers lower-case what they keep.
 *
 * @module
 */

/** The UUID shape as a regular expression source, without anchors or flags (for larger patterns). */
export const UUID_SOURCE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

const ANY_CASE = new RegExp(`^${UUID_SOURCE}$`, "i");
const LOWER_CASE = new RegExp(`^${UUID_SOURCE}$`);

/**
 * True when `value` is a UUID, in any case (`7F1C...` as well as `7f1c...`).
 *
 * @example
 * ```ts
 * import { isUuid } from "@platform/lib/domain";
 * console.log(isUuid(crypto.randomUUID())); // true
 * console.log(isUuid("task-1")); // false
 * ```
 */
export function isUuid(value: string): boolean {
  return ANY_CASE.test(value);
}

/**
 * True when `value` is a UUID in lower case, as the platform stores and addresses them.
 *
 * @example
 * ```ts
 * import { isLowerCaseUuid } from "@platform/lib/domain";
 * console.log(isLowerCaseUuid("0b7f0f4e-7d36-4d7e-9b8f-2a3c4d5e6f70")); // true
 * console.log(isLowerCaseUuid("0B7F0F4E-7D36-4D7E-9B8F-2A3C4D5E6F70")); // false
 * ```
 */
export function isLowerCaseUuid(value: string): boolean {
  return LOWER_CASE.test(value);
}
