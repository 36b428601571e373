/**
 * One function per platform service, each returning a typed client.
 *
 * @module
 */
import type { Client } from "@connectrpc/connect";
import { NotificationService } from "@platform/proto/notifications/v1";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import { TaskService } from "@platform/proto/tasks/v1";
import { UserService } from "@platform/proto/users/v1";
import { platformClient, type PlatformClientOptions } from "./transport.ts";

/** The User Service's client: accounts, profiles, presence, developer search. */
export type UsersClient = Client<typeof UserService>;
/** The Task Service's client: the task lifecycle. */
export type TasksClient = Client<typeof TaskService>;
/** The Orchestrator's client: proposals, answers, match status. */
export type OrchestratorClient = Client<typeof OrchestratorService>;
/** The notifications client: the signed-in user's `Watch` stream (served by the Orchestrator). */
export type NotificationsClient = Client<typeof NotificationService>;

/**
 * A client of the User Service (port 50051).
 *
 * @example
 * ```ts
 * const users = usersClient("http://localhost:50051");
 * // A retry of a sign-up sends the same idempotency key: it answers the account first created.
 * await users.register({ email: "ada@example.com", password: "...", role: Role.DEVELOPER,
 *   displayName: "Ada", idempotencyKey: crypto.randomUUID() });
 * const { accessToken } = await users.login({ email: "ada@example.com", password: "..." });
 * const me = usersClient("http://localhost:50051", { token: accessToken });
 * await me.goOnline({});
 * ```
 */
export function usersClient(baseUrl: string, options: PlatformClientOptions = {}): UsersClient {
  return platformClient(UserService, baseUrl, options);
}

/**
 * A client of the Task Service (port 50052).
 *
 * @example
 * ```ts
 * const tasks = tasksClient("http://localhost:50052", { token: () => sessionToken });
 * const { task } = await tasks.createTask({ title: "Build an API", requiredSkills: ["go"] });
 * ```
 */
export function tasksClient(baseUrl: string, options: PlatformClientOptions = {}): TasksClient {
  return platformClient(TaskService, baseUrl, options);
}

/**
 * A client of the Orchestrator (port 50053).
 *
 * @example
 * ```ts
 * const orchestrator = orchestratorClient("http://localhost:50053", { token });
 * const { proposals } = await orchestrator.listProposals({});
 * ```
 */
export function orchestratorClient(
  baseUrl: string,
  options: PlatformClientOptions = {},
): OrchestratorClient {
  return platformClient(OrchestratorService, baseUrl, options);
}

/**
 * A client of the signed-in user's notifications (`Watch`, served on the Orchestrator's port
 * 50053). Keep the cursor of the last frame and pass it back when reconnecting.
 *
 * @example
 * ```ts
 * const notifications = notificationsClient("http://localhost:50053", { token });
 * let cursor = "";
 * for await (const frame of notifications.watch({ cursor })) {
 *   cursor = frame.cursor;
 *   if (frame.frame.case === "notification") show(frame.frame.value);
 * }
 * ```
 */
export function notificationsClient(
  baseUrl: string,
  options: PlatformClientOptions = {},
): NotificationsClient {
  return platformClient(NotificationService, baseUrl, options);
}
