/**
 * What the scale benchmark measures: every list, search, get and match RPC (through the running
 * services, over Connect) and every background sweep (through the stores' own methods, in a
 * transaction rolled back), each with the store call whose statements are explained.
 *
 * @module
 */
import { TaskStatus } from "@platform/proto/tasks/v1";
import { UserService } from "@platform/proto/users/v1";
import { TaskService } from "@platform/proto/tasks/v1";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import type { TokenService } from "@platform/lib/auth";
import { rpcClient } from "../../tests/harness/rpc_clients.ts";
import { UserStore } from "../../services/users/user_store.ts";
import { validateRankRequest } from "../../services/users/domain/rank_request.ts";
import { TaskStore } from "../../services/tasks/task_store.ts";
import { ProposalStore } from "../../services/orchestrator/proposal_store.ts";
import { encodePageToken as encodeProposalPage } from "../../services/orchestrator/proposal_handlers.ts";
import type { StatementRecorder } from "./statement_recorder.ts";
import { tag, TAG_COUNT } from "./seed.ts";

/** One measured thing. */
export interface Probe {
  name: string;
  kind: "rpc" | "sweep";
  /** One timed call; returns its latency in ms. */
  once(i: number): Promise<number>;
  /** The store call whose statements are explained (the same SQL the RPC or sweep runs). */
  storeCall(): Promise<unknown>;
}

/** Where the services listen. */
export interface ServiceUrls {
  users: string;
  tasks: string;
  orchestrator: string;
}

/** A skill held by many (the most popular tag) and one held by few. */
export const POPULAR = [tag(0), tag(1)];
/** A tag far down the Zipf tail. */
export const RARE = tag(Math.floor(TAG_COUNT * 0.75));

const timed = async (work: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

/**
 * The probes over a seeded platform.
 *
 * @example
 * ```ts
 * const probes = await buildProbes(recorder, tokens, urls);
 * ```
 */
export async function buildProbes(
  recorder: StatementRecorder,
  tokenService: TokenService,
  urls: ServiceUrls,
): Promise<Probe[]> {
  const sql = recorder.sql;
  const pick = async <T>(query: Promise<T[]>): Promise<T> => (await query)[0];
  const developers = (await sql<{ id: string }[]>`
    SELECT id FROM users WHERE role = 'developer' ORDER BY id LIMIT 50`).map((r) => r.id);
  const client = await pick(sql<{ id: string }[]>`
    SELECT client_id AS id FROM tasks GROUP BY client_id ORDER BY count(*) DESC, client_id LIMIT 1`);
  const taskIds = (await sql<{ id: string }[]>`
    SELECT id FROM tasks WHERE status = 'COMPLETED' ORDER BY id LIMIT 50`).map((r) => r.id);
  const proposalCount = Number(
    (await pick(sql<{ n: bigint }[]>`
    SELECT reltuples::int8 AS n FROM pg_class WHERE relname = 'proposals'`)).n,
  );
  const middle = await pick(sql<{ micros: bigint; id: string }[]>`
    SELECT (extract(epoch FROM created_at) * 1000000)::int8 AS micros, id FROM proposals
    ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(proposalCount / 2)} LIMIT 1`);
  const middleToken = encodeProposalPage(middle.micros, middle.id);
  // The safety nets' walk, somewhere in the middle of the PROPOSED tasks.
  const middleProposed = (await sql<{ task_id: string }[]>`
    SELECT task_id FROM match_tasks WHERE state = 'PROPOSED'
    ORDER BY task_id OFFSET (SELECT count(*) / 2 FROM match_tasks WHERE state = 'PROPOSED')
    LIMIT 1`)[0]?.task_id ?? null;

  const token = async (subject: string, role: "admin" | "service" | "client" | "developer") =>
    (await tokenService.issue({ subject, role })).token;
  const admin = await token("00000000-0000-4000-8000-000000000001", "admin");
  const service = await token("service:orchestrator", "service");
  const clientToken = await token(client.id, "client");
  const developerTokens = await Promise.all(developers.map((d) => token(d, "developer")));
  const usersAs = (t: string) => rpcClient(UserService, urls.users, undefined, t);
  const tasksAs = (t: string) => rpcClient(TaskService, urls.tasks, undefined, t);
  const proposalsAs = (t: string) =>
    rpcClient(OrchestratorService, urls.orchestrator, undefined, t);

  const userStore = new UserStore(recorder.db);
  const taskStore = new TaskStore(recorder.db);
  const proposalStore = new ProposalStore(recorder.db);
  const rank = validateRankRequest({
    skillTags: POPULAR,
    budget: { currency: "USD", amountMinor: 300_000n },
    minSkillCoverage: 0,
    rateReferenceHours: 10,
    excludeIds: [],
    limit: 20,
  });
  const users = usersAs(admin);
  const adminTasks = tasksAs(admin);
  const adminProposals = proposalsAs(admin);
  const developerTasks = developerTokens.map(tasksAs);
  const developerProposals = developerTokens.map(proposalsAs);
  const listOnline = async (skillTags: string[]) => {
    for await (const _ of users.listOnlineDevelopers({ skillTags, limit: 50 })) { /* drain */ }
  };

  const rpc = (
    name: string,
    call: (i: number) => Promise<unknown>,
    storeCall: () => Promise<unknown>,
  ): Probe => ({ name, kind: "rpc", once: (i) => timed(() => call(i)), storeCall });
  const sweep = (
    name: string,
    work: (tx: never) => Promise<unknown>,
  ): Probe => ({
    name,
    kind: "sweep",
    once: () => recorder.timeRolledBack(work as never),
    storeCall: () => recorder.timeRolledBack(work as never),
  });

  return [
    rpc(
      "GetUser",
      (i) => users.getUser({ userId: developers[i % developers.length] }),
      () => userStore.findById(developers[0]),
    ),
    rpc(
      "SearchDevelopers popular",
      () => users.searchDevelopers({ skillTags: [POPULAR[0]], pageSize: 20 }),
      () => userStore.search({ tags: [POPULAR[0]], match: "all", onlineOnly: false, limit: 21 }),
    ),
    rpc(
      "SearchDevelopers online-only",
      () => users.searchDevelopers({ skillTags: [POPULAR[0]], onlineOnly: true, pageSize: 20 }),
      () => userStore.search({ tags: [POPULAR[0]], match: "all", onlineOnly: true, limit: 21 }),
    ),
    rpc(
      "SearchDevelopers online, rare",
      () => users.searchDevelopers({ skillTags: [RARE], onlineOnly: true, pageSize: 20 }),
      () => userStore.search({ tags: [RARE], match: "all", onlineOnly: true, limit: 21 }),
    ),
    rpc(
      "ListOnlineDevelopers skill",
      () => listOnline([POPULAR[0]]),
      () => userStore.listOnline([POPULAR[0]], "all", 50),
    ),
    rpc(
      "ListOnlineDevelopers all",
      () => listOnline([]),
      () => userStore.listOnline([], "all", 50),
    ),
    rpc(
      "RankCandidates popular",
      () =>
        rpcClient(UserService, urls.users, undefined, service).rankCandidates({
          skillTags: POPULAR,
          budget: { currency: "USD", amountMinor: 300_000n },
          limit: 20,
        }),
      () => userStore.rankCandidates(rank),
    ),
    rpc(
      "ListTasks mine",
      () => tasksAs(clientToken).listTasks({ mine: true, pageSize: 20 }),
      () => taskStore.list({ clientId: client.id, pageSize: 20 }),
    ),
    rpc(
      "ListTasks status",
      () => adminTasks.listTasks({ status: TaskStatus.CANCELLED, pageSize: 20 }),
      () => taskStore.list({ status: "CANCELLED", pageSize: 20 }),
    ),
    rpc(
      "ListTasks skill (rare)",
      () => adminTasks.listTasks({ skill: RARE, pageSize: 20 }),
      () => taskStore.list({ skill: RARE, pageSize: 20 }),
    ),
    rpc(
      "ListTasks browse OPEN",
      (i) => developerTasks[i % developerTasks.length].listTasks({ pageSize: 20 }),
      () => taskStore.list({ status: "OPEN", pageSize: 20 }),
    ),
    rpc(
      "ListTasks browse OPEN rare",
      (i) => developerTasks[i % developerTasks.length].listTasks({ skill: RARE, pageSize: 20 }),
      () => taskStore.list({ status: "OPEN", skill: RARE, pageSize: 20 }),
    ),
    rpc(
      "ListProposals first page",
      () => adminProposals.listProposals({ pageSize: 20 }),
      () => proposalStore.listProposals({ limit: 21 }),
    ),
    rpc(
      "ListProposals middle page",
      () => adminProposals.listProposals({ pageSize: 20, pageToken: middleToken }),
      () => proposalStore.listProposals({ limit: 21, after: middle }),
    ),
    rpc(
      "ListProposals developer",
      (i) => developerProposals[i % developerProposals.length].listProposals({ pageSize: 20 }),
      () => proposalStore.listProposals({ developerId: developers[0], limit: 21 }),
    ),
    rpc(
      "GetTask",
      (i) => adminTasks.getTask({ taskId: taskIds[i % taskIds.length] }),
      () => taskStore.get(taskIds[0]),
    ),
    rpc(
      "GetTaskHistory",
      (i) => adminTasks.getTaskHistory({ taskId: taskIds[i % taskIds.length] }),
      () => taskStore.history(taskIds[0], 21),
    ),
    sweep("proposal expiry", (tx) => proposalStore.expireDueProposals(tx, 500)),
    sweep("PROPOSED without pending", async (tx) => {
      const slice = await proposalStore.tasks.proposedTasksAfter(middleProposed, 2000);
      await proposalStore.reopenOrphaned(tx, 500, slice);
    }),
    sweep("offline withdrawal", async (tx) => {
      const slice = await proposalStore.tasks.proposedTasksAfter(middleProposed, 2000);
      await proposalStore.withdrawOfflineProposals(tx, 500, { amongTasks: slice });
    }),
    {
      name: "matching retry claim",
      kind: "sweep",
      once: () => timed(() => proposalStore.tasks.claimDueTasks(100, 30)),
      storeCall: () => proposalStore.tasks.claimDueTasks(100, 30),
    },
    sweep("presence expiry", (tx) => userStore.expirePresence(tx, 60, 10_000)),
    sweep("task expiry", (tx) => taskStore.expireDue(tx, 500)),
    ...["task_outbox", "proposal_outbox", "user_outbox"].map((table) => ({
      name: `outbox relay read (${table})`,
      kind: "sweep" as const,
      once: () => timed(() => relayRead(sql, table)),
      storeCall: () => recorder.db.run((s) => relayRead(s, table)),
    })),
  ];
}

/** The outbox relay's read (lib/events/outbox/outbox_relay.ts relayOnce), which finds nothing. */
// deno-lint-ignore no-explicit-any
function relayRead(sql: any, table: string): Promise<unknown> {
  return sql`
    SELECT id::text AS id, subject, payload, traceparent FROM ${sql(table)}
    WHERE published_at IS NULL ORDER BY seq LIMIT 100`;
}
