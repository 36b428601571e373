/**
 * The standard gRPC server reflection protocol under its older package name
 * (`grpc.reflection.v1alpha`), which older grpcurl versions ask before v1: the same messages.
 *
 * Re-exports everything generated from `proto/grpc/reflection/v1alpha/reflection.proto` (by `deno task
 * gen`; never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript
 * `enum` and a `...Schema` for each enum, and the service descriptor `ServerReflection`, plus the
 * @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { ServerReflection, ServerReflectionRequestSchema } from "@platform/proto/grpc/reflection/v1alpha";
 *
 * const request = create(ServerReflectionRequestSchema, {
 *   messageRequest: { case: "listServices", value: "" },
 * });
 * console.log(ServerReflection.method.serverReflectionInfo.name, request.messageRequest.case);
 * ```
 *
 * @module
 */
export * from "../../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
export type * from "../../../protobuf_types.ts";
