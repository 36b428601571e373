/**
 * Messages and the `NotificationService` of `platform.notifications.v1`: a user's notifications,
 * streamed by `Watch`.
 *
 * Re-exports everything generated from `proto/platform/notifications/v1/notifications.proto` (by
 * `deno task gen`; never edit proto/gen by hand): a `type` and a `...Schema` for each message, a
 * TypeScript `enum` and a `...Schema` for each enum, and the service descriptor
 * `NotificationService` (for Connect clients and routers), plus the @bufbuild/protobuf types they
 * are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { NotificationKind, NotificationSchema } from "@platform/proto/notifications/v1";
 *
 * const n = create(NotificationSchema, { userId: "u-1" });
 * console.log(n.userId, NotificationKind[n.kind]);
 * ```
 *
 * @module
 */
export * from "../../gen/platform/notifications/v1/notifications_pb.ts";
export type * from "../../protobuf_types.ts";
