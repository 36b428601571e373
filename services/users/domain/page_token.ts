/**
 * The position of SearchDevelopers' keyset pagination over (created_at, id), in the platform's
 * page tokens (lib/domain/paging.ts).
 *
 * @module
 */
import {
  decodePageToken as decodeToken,
  encodePageToken as encodeToken,
  isLowerCaseUuid,
} from "@platform/lib/domain";

/** Where the next page starts. */
export interface PagePosition {
  createdAt: string;
  id: string;
}

const TIMESTAMP = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:?\d\d)?|Z)$/;

/**
 * Encodes a position as a page token (lib/domain's paging).
 *
 * @example
 * ```ts
 * const token = encodePageToken({ createdAt: "2026-01-01T00:00:00.000Z", id: crypto.randomUUID() });
 * ```
 */
export function encodePageToken(position: PagePosition): string {
  return encodeToken([position.createdAt, position.id]);
}

/**
 * Decodes a token made by {@link encodePageToken}; an empty token is the first page.
 *
 * @example
 * ```ts
 * decodePageToken(""); // undefined
 * ```
 */
export function decodePageToken(token: string): PagePosition | undefined {
  return decodeToken(
    token,
    ([createdAt, id]) =>
      typeof createdAt === "string" && TIMESTAMP.test(createdAt) && typeof id === "string" &&
        isLowerCaseUuid(id) && isRealTime(createdAt)
        ? { createdAt, id }
        : undefined,
  );
}

/** A timestamp that names a real moment from 1970 to 9999 (not 2024-02-30 or 99:99). */
function isRealTime(value: string): boolean {
  const [date, time] = value.split(/[ T]/);
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute, second] = time.slice(0, 8).split(":").map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return year >= 1970 && year <= 9999 && probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}
