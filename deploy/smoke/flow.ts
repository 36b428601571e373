/**
 * The business flow through the compose edge proxy, over gRPC-web (binary), as a browser client
 * would speak it: a developer registers, sets skills, goes online; a client creates a task; the
 * orchestrator proposes the developer; the developer accepts; the Task Service assigns the task.
 *
 * @module
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";
import { Decision, OrchestratorService, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { TaskService, TaskStatus } from "@platform/proto/tasks/v1";
import { Role, UserService } from "@platform/proto/users/v1";
import { eventually, SmokeError } from "./command.ts";

/** Where the edge publishes the three services. */
export interface EdgeUrls {
  users: string;
  tasks: string;
  orchestrator: string;
}

/**
 * The edge's three ports on `host`.
 *
 * @example
 * ```ts
 * edgeUrls("10.213.77.2"); // { users: "http://10.213.77.2:50051", ... }
 * ```
 */
export function edgeUrls(host: string): EdgeUrls {
  return {
    users: `http://${host}:50051`,
    tasks: `http://${host}:50052`,
    orchestrator: `http://${host}:50053`,
  };
}

/**
 * A gRPC-web (binary) client of `service` at `baseUrl`, with a bearer token if given.
 *
 * @example
 * ```ts
 * const users = grpcWebClient(UserService, "http://10.213.77.2:50051");
 * ```
 */
export function grpcWebClient<T extends DescService>(service: T, baseUrl: string, token?: string) {
  const interceptors: Interceptor[] = token
    ? [(next) => (req) => {
      req.header.set("authorization", `Bearer ${token}`);
      return next(req);
    }]
    : [];
  return createClient(
    service,
    createGrpcWebTransport({ baseUrl, useBinaryFormat: true, interceptors }),
  );
}

/** What the flow produced (for the report and the replica check). */
export interface FlowResult {
  developerId: string;
  developerToken: string;
  taskId: string;
  proposalId: string;
}

/**
 * Runs the flow; throws {@link SmokeError} naming the step that did not happen.
 *
 * @example
 * ```ts
 * const result = await businessFlow(edgeUrls("10.213.77.2"), console.log);
 * ```
 */
export async function businessFlow(
  urls: EdgeUrls,
  say: (line: string) => void,
): Promise<FlowResult> {
  const anonymous = grpcWebClient(UserService, urls.users);
  const tag = crypto.randomUUID().slice(0, 8);
  const password = "correct horse battery staple";
  const skill = `smoke${tag}`;

  const signUp = async (role: Role, name: string) => {
    const email = `${name}-${tag}@example.com`;
    const { user } = await anonymous.register({ email, password, role, displayName: name });
    const { accessToken } = await anonymous.login({ email, password });
    return { id: user!.id, token: accessToken };
  };

  const developer = await signUp(Role.DEVELOPER, "developer");
  const me = grpcWebClient(UserService, urls.users, developer.token);
  await me.updateProfile({
    skillTags: { tags: [skill, "postgresql"] },
    hourlyRate: { currency: "USD", amountMinor: 9000n },
  });
  await me.goOnline({});
  say(`    developer ${developer.id} registered, skills [${skill}, postgresql], online`);

  const client = await signUp(Role.CLIENT, "client");
  const tasks = grpcWebClient(TaskService, urls.tasks, client.token);
  const { task } = await tasks.createTask({
    title: "Smoke-test the deployment",
    description: "Created through the compose edge proxy over gRPC-web",
    requiredSkills: [skill],
    budget: { currency: "USD", amountMinor: 250_000n },
  });
  if (!task) throw new SmokeError("CreateTask returned no task");
  say(`    client ${client.id} created task ${task.id}`);

  const asDeveloper = grpcWebClient(OrchestratorService, urls.orchestrator, developer.token);
  const proposal = await eventually(
    async () => {
      const { proposals } = await asDeveloper.listProposals({ taskId: task.id });
      return proposals.find((p) => p.status === ProposalStatus.PENDING);
    },
    60_000,
    () => `the orchestrator to propose task ${task.id} to the developer`,
  );
  say(`    orchestrator proposed it: proposal ${proposal.id}`);

  const answer = await asDeveloper.respondToProposal({
    proposalId: proposal.id,
    decision: Decision.ACCEPT,
  });
  if (answer.proposal?.status !== ProposalStatus.ACCEPTED) {
    throw new SmokeError(`RespondToProposal(ACCEPT) left the proposal ${answer.proposal?.status}`);
  }
  const assigned = await eventually(
    async () => {
      const { task: now } = await tasks.getTask({ taskId: task.id });
      return now?.status === TaskStatus.ASSIGNED ? now : undefined;
    },
    60_000,
    () => `task ${task.id} to become ASSIGNED`,
  );
  if (assigned.assignedDeveloperId !== developer.id) {
    throw new SmokeError(`task assigned to ${assigned.assignedDeveloperId}, not ${developer.id}`);
  }
  say(`    accepted; the Task Service assigned the task: ASSIGNED to ${developer.id}`);
  return {
    developerId: developer.id,
    developerToken: developer.token,
    taskId: task.id,
    proposalId: proposal.id,
  };
}
