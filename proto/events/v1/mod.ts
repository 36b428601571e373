/**
 * The event payloads of `platform.events.v1`, one message per subject (task.created,
 * proposal.created, ...), published on NATS JetStream in their binary encoding.
 *
 * Re-exports everything generated from `proto/platform/events/v1/events.proto` (by `deno task gen`;
 * never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript `enum`
 * and a `...Schema` for each enum, plus the @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
 * import { TaskAssignedSchema } from "@platform/proto/events/v1";
 *
 * const bytes = toBinary(TaskAssignedSchema, create(TaskAssignedSchema, { eventId: "e-1" }));
 * console.log(fromBinary(TaskAssignedSchema, bytes).eventId); // "e-1"
 * ```
 *
 * @module
 */
export * from "../../gen/platform/events/v1/events_pb.ts";
export type * from "../../protobuf_types.ts";
