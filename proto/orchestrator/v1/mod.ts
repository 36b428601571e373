/**
 * Messages and the `OrchestratorService` of `platform.orchestrator.v1`: proposals made by matching
 * online developers to open tasks, and the developers' answers.
 *
 * Re-exports everything generated from `proto/platform/orchestrator/v1/orchestrator.proto` (by
 * `deno task gen`; never edit proto/gen by hand): a `type` and a `...Schema` for each message, a
 * TypeScript `enum` and a `...Schema` for each enum, and the service descriptor
 * `OrchestratorService` (for Connect clients and routers), plus the @bufbuild/protobuf types they
 * are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import {
 *   Decision,
 *   OrchestratorService,
 *   RespondToProposalRequestSchema,
 * } from "@platform/proto/orchestrator/v1";
 *
 * const request = create(RespondToProposalRequestSchema, { decision: Decision.ACCEPT });
 * console.log(OrchestratorService.method.respondToProposal.name, request.decision);
 * ```
 *
 * @module
 */
export * from "../../gen/platform/orchestrator/v1/orchestrator_pb.ts";
export type * from "../../protobuf_types.ts";
