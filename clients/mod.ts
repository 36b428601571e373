/**
 * Typed clients of the Freelance Platform's services, for browsers and Deno: one function per
 * service over Connect (default) or gRPC-web, a bearer token from a string or a function, and
 * readers of each port's `/health` and `/metrics`.
 *
 * ```ts
 * import { tasksClient, usersClient } from "@platform/client";
 *
 * const users = usersClient("http://localhost:50051");
 * const { accessToken } = await users.login({ email: "ada@example.com", password: "..." });
 * const tasks = tasksClient("http://localhost:50052", { token: accessToken });
 * const { tasks: mine } = await tasks.listTasks({ mine: true });
 * ```
 *
 * The request and response types, enums and schemas are in `@platform/proto` (`users/v1`,
 * `tasks/v1`, `orchestrator/v1`, `notifications/v1`, `common/v1`).
 *
 * @module
 */
export * from "./idempotency.ts";
export * from "./services.ts";
export * from "./status.ts";
export * from "./token_source.ts";
export * from "./transport.ts";
// The library types the API above is declared with, so that they are nameable from here.
export type { Client, Interceptor, Transport } from "@connectrpc/connect";
export type { DescService } from "@bufbuild/protobuf";
