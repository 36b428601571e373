/**
 * A user's handle: short, stable, made from the id, so two users with one display name are told
 * apart at a glance (PublicProfile.handle). The id's first eight hex digits: not unique over
 * millions of users (the id is), but two people a client compares practically never share one.
 *
 * @module
 */

/**
 * The handle of a user id.
 *
 * @example
 * ```ts
 * userHandle("3F9A1C2E-0000-4000-8000-000000000000"); // "@3f9a1c2e"
 * ```
 */
export function userHandle(userId: string): string {
  return `@${userId.replaceAll("-", "").slice(0, 8).toLowerCase()}`;
}
