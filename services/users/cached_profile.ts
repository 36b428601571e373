/**
 * A profile as the cache holds it: the record, and the GetUser answers made from it (with and
 * without the private fields) and its GetPublicProfile answer, each built once and frozen, so a cache hit allocates nothing and
 * the fast path encodes each answer once.
 *
 * @module
 */
import { frozenMessage } from "@platform/lib/server";
import {
  type GetPublicProfileResponse,
  GetPublicProfileResponseSchema,
  type GetUserResponse,
  GetUserResponseSchema,
} from "@platform/proto/users/v1";
import { toProto, toPublicProfile } from "./user_proto.ts";
import type { UserRecord } from "./user_record.ts";

/**
 * One cached profile.
 *
 * @example
 * ```ts
 * const profile = new CachedProfile(record);
 * profile.getUserResponse(false).user?.email; // ""
 * ```
 */
export class CachedProfile {
  private publicAnswer?: GetUserResponse;
  private privateAnswer?: GetUserResponse;
  private profileAnswer?: GetPublicProfileResponse;

  constructor(readonly record: UserRecord) {}

  /** The GetUser answer; the email only when `withPrivate`. Frozen: do not modify it. */
  getUserResponse(withPrivate: boolean): GetUserResponse {
    if (withPrivate) {
      return this.privateAnswer ??= frozenMessage(GetUserResponseSchema, {
        user: toProto(this.record, true),
      });
    }
    return this.publicAnswer ??= frozenMessage(GetUserResponseSchema, {
      user: toProto(this.record, false),
    });
  }

  /** The GetPublicProfile answer. Frozen: do not modify it. */
  publicProfileResponse(): GetPublicProfileResponse {
    return this.profileAnswer ??= frozenMessage(GetPublicProfileResponseSchema, {
      profile: toPublicProfile(this.record),
    });
  }
}
