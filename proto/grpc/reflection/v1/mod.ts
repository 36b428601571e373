/**
 * The standard gRPC server reflection protocol (`grpc.reflection.v1`), which lets tools such as
 * grpcurl list the services.
 *
 * Re-exports everything generated from `proto/grpc/reflection/v1/reflection.proto` (by `deno task
 * gen`; never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript
 * `enum` and a `...Schema` for each enum, and the service descriptor `ServerReflection`, plus the
 * @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { ServerReflection, ServerReflectionRequestSchema } from "@platform/proto/grpc/reflection/v1";
 *
 * const request = create(ServerReflectionRequestSchema, {
 *   messageRequest: { case: "listServices", value: "" },
 * });
 * console.log(ServerReflection.method.serverReflectionInfo.name, request.messageRequest.case);
 * ```
 *
 * @module
 */
export * from "../../../gen/grpc/reflection/v1/reflection_pb.ts";
export type * from "../../../protobuf_types.ts";
