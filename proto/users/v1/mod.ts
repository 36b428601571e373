/**
 * Messages and the `UserService` of `platform.users.v1`: accounts, developer profiles with skill
 * tags, online presence and developer search.
 *
 * Re-exports everything generated from `proto/platform/users/v1/users.proto` (by `deno task gen`;
 * never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript `enum`
 * and a `...Schema` for each enum, and the service descriptor `UserService` (for Connect clients
 * and routers), plus the @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { GetUserRequestSchema, Role, UserService } from "@platform/proto/users/v1";
 *
 * const request = create(GetUserRequestSchema, { userId: "0b6c2f3e-4f1a-4a53-9d1e-5f0e7c2b8a11" });
 * console.log(UserService.method.getUser.name, request.userId, Role[Role.DEVELOPER]);
 * ```
 *
 * @module
 */
export * from "../../gen/platform/users/v1/users_pb.ts";
export type * from "../../protobuf_types.ts";
