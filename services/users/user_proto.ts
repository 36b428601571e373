/**
 * The wire form of a user record.
 *
 * @module
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { MoneySchema } from "@platform/proto/common/v1";
import {
  type PublicProfile,
  PublicProfileSchema,
  Role,
  type User,
  UserSchema,
} from "@platform/proto/users/v1";
import { userHandle } from "./domain/user_handle.ts";
import type { UserRecord, UserRole } from "./user_record.ts";

const roleToProto: Record<UserRole, Role> = {
  client: Role.CLIENT,
  developer: Role.DEVELOPER,
  admin: Role.ADMIN,
};

/**
 * The wire form of a user; the email only when `withPrivate`.
 *
 * @example
 * ```ts
 * toProto(user, false).email; // ""
 * ```
 */
export function toProto(user: UserRecord, withPrivate: boolean): User {
  return create(UserSchema, {
    id: user.id,
    email: withPrivate ? user.email : "",
    role: roleToProto[user.role],
    displayName: user.displayName,
    bio: user.bio,
    skillTags: user.skillTags,
    hourlyRate: user.hourlyRate ? create(MoneySchema, user.hourlyRate) : undefined,
    isOnline: user.isOnline,
    lastSeenAt: user.lastSeenAt ? timestampFromDate(user.lastSeenAt) : undefined,
    createdAt: timestampFromDate(user.createdAt),
    updatedAt: timestampFromDate(user.updatedAt),
  });
}

/**
 * The public profile of a user: what anyone signed in may read (no email, no presence).
 *
 * @example
 * ```ts
 * toPublicProfile(user).handle; // "@3f9a1c2e"
 * ```
 */
export function toPublicProfile(user: UserRecord): PublicProfile {
  return create(PublicProfileSchema, {
    userId: user.id,
    handle: userHandle(user.id),
    role: roleToProto[user.role],
    displayName: user.displayName,
    bio: user.bio,
    skillTags: user.skillTags,
    hourlyRate: user.hourlyRate ? create(MoneySchema, user.hourlyRate) : undefined,
    memberSince: timestampFromDate(user.createdAt),
  });
}
