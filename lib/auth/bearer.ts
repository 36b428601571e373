/**
 * The one reading of an `Authorization: Bearer <token>` header.
 *
 * @module
 */

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The token of an `Authorization` header of the form `Bearer <token>` (scheme in any case,
 * surrounding white space ignored); undefined for a missing header or any other form.
 *
 * @example
 * ```ts
 * import { bearerToken } from "@platform/lib/auth";
 * console.log(bearerToken("Bearer abc.def")); // "abc.def"
 * console.log(bearerToken("Basic dXNlcg==")); // undefined
 * ```
 */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  return BEARER.exec(header.trim())?.[1];
}
