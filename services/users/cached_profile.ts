/**
 * A profile as the cache holds it: the record, and the GetUser answers made from it (with and
 * without the private fields), each built once and frozen, so a cache hit allocates nothing and
 * the fast path encodes each answer once.
 *
 * @module
 */
import { frozenMessage } from "@platform/lib/server";
import { type GetUserResponse, GetUserResponseSchema } from "@platform/proto/users/v1";
import { toProto } from "./user_proto.ts";
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
}
