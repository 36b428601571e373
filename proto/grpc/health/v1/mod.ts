/**
 * The standard gRPC health checking protocol (`grpc.health.v1`) that every service serves.
 *
 * Re-exports everything generated from `proto/grpc/health/v1/health.proto` (by `deno task gen`;
 * never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript `enum`
 * and a `...Schema` for each enum, and the service descriptor `Health`, plus the @bufbuild/protobuf
 * types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { Health, HealthCheckRequestSchema } from "@platform/proto/grpc/health/v1";
 *
 * const request = create(HealthCheckRequestSchema, { service: "" }); // "" = the whole server
 * console.log(Health.method.check.name, request.service);
 * ```
 *
 * @module
 */
export * from "../../../gen/grpc/health/v1/health_pb.ts";
export type * from "../../../protobuf_types.ts";
