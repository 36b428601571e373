/**
 * Paging, the one way every list RPC does it: a page size of 1..100 (0 means 20) and opaque page
 * tokens, base64url JSON of where the next page starts. Each list says what its position is and
 * checks it ({@link decodePageToken}'s `read`); a token that does not decode or check is
 * `invalid_argument` on `page_token`.
 *
 * @module
 */
import { ValidationError } from "../errors.ts";

/** The page size when a request gives none (0). */
export const DEFAULT_PAGE_SIZE = 20;
/** The largest page size a request may ask for. */
export const MAX_PAGE_SIZE = 100;

/**
 * A request's page size: 0 means {@link DEFAULT_PAGE_SIZE}; otherwise 1..{@link MAX_PAGE_SIZE},
 * or a ValidationError on `field`.
 *
 * @example
 * ```ts
 * import { validatePageSize } from "@platform/lib/domain";
 * console.log(validatePageSize(0), validatePageSize(5)); // 20 5
 * ```
 */
export function validatePageSize(size: number, field = "page_size"): number {
  if (size === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new ValidationError(field, `must be from 1 to ${MAX_PAGE_SIZE} (0 means 20)`);
  }
  return size;
}

/**
 * An opaque page token for a position (its parts, such as a time and an id): base64url JSON.
 *
 * @example
 * ```ts
 * import { encodePageToken } from "@platform/lib/domain";
 * console.log(encodePageToken(["2026-01-01T00:00:00.000Z", "x"])); // "WyIyMDI2LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCJ4Il0"
 * ```
 */
export function encodePageToken(position: readonly unknown[]): string {
  return btoa(JSON.stringify(position))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The position of a token made by {@link encodePageToken}, as `read` makes it from the decoded
 * parts; an empty token is the first page (undefined). A token that does not decode, or whose
 * parts `read` refuses (returns undefined or throws), is a ValidationError on `field`.
 *
 * @example
 * ```ts
 * import { decodePageToken, encodePageToken } from "@platform/lib/domain";
 * const read = (parts: unknown[]) => typeof parts[0] === "string" ? parts[0] : undefined;
 * console.log(decodePageToken(encodePageToken(["a"]), read)); // "a"
 * console.log(decodePageToken("", read)); // undefined
 * ```
 */
export function decodePageToken<T>(
  token: string,
  read: (parts: unknown[]) => T | undefined,
  field = "page_token",
): T | undefined {
  if (token === "") return undefined;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error("not base64url");
    const parts: unknown = JSON.parse(atob(token.replaceAll("-", "+").replaceAll("_", "/")));
    const position = Array.isArray(parts) ? read(parts) : undefined;
    if (position !== undefined) return position;
  } catch { /* fall through */ }
  throw new ValidationError(
    field,
    "is not a token returned by this service; start again without one",
  );
}
