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
