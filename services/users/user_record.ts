/**
 * The User Service's record of a user, as the store returns it and the cache keeps it.
 *
 * @module
 */

/** Account roles stored in the database. */
export type UserRole = "client" | "developer" | "admin";

/** A user without the password hash. */
export interface UserRecord {
  id: string;
  email: string;
  role: UserRole;
  displayName: string;
  bio: string;
  skillTags: string[];
  hourlyRate?: { currency: string; amountMinor: bigint };
  /** The presence flag; the sweeper clears it within a sweep interval of the TTL running out. */
  isOnline: boolean;
  /** When presence last changed (went online, or offline). */
  lastSeenAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The JSON form kept in the cache (bigint and dates as strings). */
export type CachedUser =
  & Omit<UserRecord, "hourlyRate" | "lastSeenAt" | "createdAt" | "updatedAt">
  & {
    hourlyRate?: { currency: string; amountMinor: string };
    lastSeenAt?: string;
    createdAt: string;
    updatedAt: string;
  };

/**
 * Converts a record to its cached JSON form.
 *
 * @example
 * ```ts
 * const cached = toCached(user);
 * fromCached(cached).id === user.id; // true
 * ```
 */
export function toCached(user: UserRecord): CachedUser {
  return {
    ...user,
    hourlyRate: user.hourlyRate
      ? { currency: user.hourlyRate.currency, amountMinor: user.hourlyRate.amountMinor.toString() }
      : undefined,
    lastSeenAt: user.lastSeenAt?.toISOString(),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/**
 * Converts a cached JSON form back to a record.
 *
 * @example
 * ```ts
 * fromCached(toCached(user));
 * ```
 */
export function fromCached(cached: CachedUser): UserRecord {
  return {
    ...cached,
    hourlyRate: cached.hourlyRate
      ? { currency: cached.hourlyRate.currency, amountMinor: BigInt(cached.hourlyRate.amountMinor) }
      : undefined,
    lastSeenAt: cached.lastSeenAt ? new Date(cached.lastSeenAt) : undefined,
    createdAt: new Date(cached.createdAt),
    updatedAt: new Date(cached.updatedAt),
  };
}
