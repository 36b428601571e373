/**
 * Messages and the `TaskService` of `platform.tasks.v1`: tasks, their life cycle and their history.
 *
 * Re-exports everything generated from `proto/platform/tasks/v1/tasks.proto` (by `deno task gen`;
 * never edit proto/gen by hand): a `type` and a `...Schema` for each message, a TypeScript `enum`
 * and a `...Schema` for each enum, and the service descriptor `TaskService` (for Connect clients
 * and routers), plus the @bufbuild/protobuf types they are declared with.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { GetTaskRequestSchema, TaskService, TaskStatus } from "@platform/proto/tasks/v1";
 *
 * const request = create(GetTaskRequestSchema, { taskId: "7d1e0c55-2b7a-4c3e-8f0a-1c2d3e4f5a6b" });
 * console.log(TaskService.method.getTask.name, request.taskId, TaskStatus[TaskStatus.OPEN]);
 * ```
 *
 * @module
 */
export * from "../../gen/platform/tasks/v1/tasks_pb.ts";
export type * from "../../protobuf_types.ts";
