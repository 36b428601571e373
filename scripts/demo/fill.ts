/**
 * Fills a running platform with the demo's developers, clients, tasks, proposals, answers and
 * task history, through the public RPCs only (the `@platform/client` typed clients), as people
 * would. Repeatable: accounts that exist are logged into, tasks a client already posted (same
 * title) are not posted again, and a second run moves the story on (tasks left in progress are
 * completed, proposals made since are answered).
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type OrchestratorClient,
  orchestratorClient,
  type TasksClient,
  tasksClient,
  usersClient,
} from "@platform/client";
import { Decision, type Proposal, ProposalStatus } from "@platform/proto/orchestrator/v1";
import { type Task, TaskStatus } from "@platform/proto/tasks/v1";
import { Role } from "@platform/proto/users/v1";
import { demoClient, demoDeveloper, demoTasks } from "./catalog.ts";

/** Where the platform is and how much to make. */
export interface DemoOptions {
  /** The three services' base URLs. */
  urls: { users: string; tasks: string; orchestrator: string };
  /** Developers to have (the n first of the catalog); clients and tasks follow from it. */
  developers: number;
  /** The password of every demo account. */
  password: string;
  /** How long to wait for the orchestrator's proposals, in milliseconds (default 20 s). */
  proposalWaitMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a run did. */
export interface DemoSummary {
  /** Developer accounts created now, and found from an earlier run. */
  developers: { created: number; existing: number };
  /** Client accounts created now, and found. */
  clients: { created: number; existing: number };
  /** Tasks posted now, and found. */
  tasks: { created: number; existing: number };
  /** Proposals answered now. */
  proposals: { accepted: number; declined: number; lostRace: number };
  /** Task transitions made now. */
  transitions: { started: number; completed: number; cancelled: number };
}

interface Account {
  id: string;
  token: string;
  created: boolean;
}

async function account(
  baseUrl: string,
  person: { email: string; displayName: string },
  role: Role,
  password: string,
): Promise<Account> {
  const users = usersClient(baseUrl, { timeoutMs: 15_000 });
  let created = true;
  try {
    await users.register({ email: person.email, password, role, displayName: person.displayName });
  } catch (error) {
    if (ConnectError.from(error).code !== Code.AlreadyExists) throw error;
    created = false;
  }
  try {
    const { accessToken, user } = await users.login({ email: person.email, password });
    return { id: user!.id, token: accessToken, created };
  } catch (error) {
    if (ConnectError.from(error).code === Code.Unauthenticated) {
      throw new Error(
        `${person.email} exists with another password: run with that --password, or use a fresh platform`,
      );
    }
    throw error;
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function eachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}

async function allMyTasks(tasks: TasksClient, filter: { mine?: boolean; assignedToMe?: boolean }) {
  const out: Task[] = [];
  let pageToken = "";
  do {
    const page = await tasks.listTasks({ ...filter, pageSize: 100, pageToken });
    out.push(...page.tasks);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

async function pending(orchestrator: OrchestratorClient): Promise<Proposal[]> {
  const { proposals } = await orchestrator.listProposals({
    status: ProposalStatus.PENDING,
    pageSize: 100,
  });
  return proposals;
}

/**
 * Fills the platform; throws on an unreachable service or a refused call, with its message.
 *
 * @example
 * ```ts
 * const summary = await fillDemo({
 *   urls: { users: "http://localhost:50051", tasks: "http://localhost:50052", orchestrator: "http://localhost:50053" },
 *   developers: 10,
 *   password: "demo password 1",
 * });
 * ```
 */
export async function fillDemo(options: DemoOptions): Promise<DemoSummary> {
  const log = options.log ?? (() => {});
  const summary: DemoSummary = {
    developers: { created: 0, existing: 0 },
    clients: { created: 0, existing: 0 },
    tasks: { created: 0, existing: 0 },
    proposals: { accepted: 0, declined: 0, lostRace: 0 },
    transitions: { started: 0, completed: 0, cancelled: 0 },
  };
  const { urls, password } = options;
  const clientCount = Math.max(2, Math.ceil(options.developers / 4));

  // Developers: account, profile, online (matching offers them waiting tasks at once).
  const developers: Account[] = [];
  await eachLimited(
    Array.from({ length: options.developers }, (_, n) => demoDeveloper(n)),
    4,
    async (person, n) => {
      const me = await account(urls.users, person, Role.DEVELOPER, password);
      developers[n] = me;
      summary.developers[me.created ? "created" : "existing"]++;
      const users = usersClient(urls.users, { token: me.token, timeoutMs: 15_000 });
      await users.updateProfile({
        displayName: person.displayName,
        bio: person.bio,
        skillTags: { tags: person.skills },
        hourlyRate: { currency: "USD", amountMinor: BigInt(person.hourlyRateMinor) },
      });
      await users.goOnline({});
    },
  );
  log(
    `developers: ${summary.developers.created} created, ${summary.developers.existing} already there; all online`,
  );

  const clients: Account[] = [];
  await eachLimited(
    Array.from({ length: clientCount }, (_, n) => demoClient(n)),
    4,
    async (c, n) => {
      const me = await account(urls.users, c, Role.CLIENT, password);
      clients[n] = me;
      summary.clients[me.created ? "created" : "existing"]++;
    },
  );
  log(`clients: ${summary.clients.created} created, ${summary.clients.existing} already there`);

  // Tasks: each client posts its share, skipping titles it already has.
  const wanted = demoTasks(options.developers, clientCount);
  const posted: Task[] = [];
  await eachLimited(clients, 2, async (client, c) => {
    const tasks = tasksClient(urls.tasks, { token: client.token, timeoutMs: 15_000 });
    const mine = await allMyTasks(tasks, { mine: true });
    posted.push(...mine);
    const titles = new Set(mine.map((t) => t.title));
    for (const task of wanted.filter((t) => t.client === c)) {
      if (titles.has(task.title)) {
        summary.tasks.existing++;
        continue;
      }
      const { task: created } = await tasks.createTask({
        title: task.title,
        description: task.description,
        requiredSkills: task.skills,
        budget: { currency: "USD", amountMinor: BigInt(task.budgetMinor) },
        deadline: timestampFromDate(new Date(Date.now() + task.deadlineDays * 86_400_000)),
      });
      posted.push(created!);
      summary.tasks.created++;
    }
  });
  log(`tasks: ${summary.tasks.created} posted, ${summary.tasks.existing} already there`);

  // Proposals: every fifth developer declines what they are offered; the others accept up to two
  // each. Proposals arrive as the orchestrator matches, so poll until each developer has answered
  // or the wait is over.
  const deadline = Date.now() + (options.proposalWaitMs ?? 20_000);
  const accepted = new Map<number, number>();
  const answeredTasks = new Set<string>();
  const openTasks = () => posted.filter((t) => t.status === TaskStatus.OPEN).length;
  while (Date.now() < deadline) {
    let answered = 0;
    await eachLimited(developers, 4, async (dev, n) => {
      const orchestrator = orchestratorClient(urls.orchestrator, { token: dev.token });
      for (const proposal of await pending(orchestrator)) {
        const decline = n % 5 === 4;
        if (!decline && ((accepted.get(n) ?? 0) >= 2 || answeredTasks.has(proposal.taskId))) {
          continue;
        }
        try {
          await orchestrator.respondToProposal({
            proposalId: proposal.id,
            decision: decline ? Decision.DECLINE : Decision.ACCEPT,
          });
          answered++;
          if (decline) summary.proposals.declined++;
          else {
            summary.proposals.accepted++;
            accepted.set(n, (accepted.get(n) ?? 0) + 1);
            answeredTasks.add(proposal.taskId);
          }
        } catch (error) {
          // Another developer accepted first, or the proposal was withdrawn meanwhile.
          if (ConnectError.from(error).code === Code.Unavailable) throw error;
          summary.proposals.lostRace++;
        }
      }
    });
    const acceptedAll = summary.proposals.accepted >= Math.min(openTasks(), developers.length);
    if (answered === 0 && (acceptedAll || summary.proposals.accepted > 0)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  log(
    `proposals: ${summary.proposals.accepted} accepted, ${summary.proposals.declined} declined` +
      (summary.proposals.lostRace ? `, ${summary.proposals.lostRace} taken by someone faster` : ""),
  );

  // History: each developer starts two of every three tasks assigned to them and completes every
  // other task in progress; a second run completes what is left in progress.
  const settle = Date.now() + 10_000;
  await eachLimited(developers, 4, async (dev, n) => {
    const tasks = tasksClient(urls.tasks, { token: dev.token, timeoutMs: 15_000 });
    let mine = await allMyTasks(tasks, { assignedToMe: true });
    // The Task Service assigns from the proposal.accepted event: give it a moment.
    while (accepted.get(n) && mine.length === 0 && Date.now() < settle) {
      await new Promise((r) => setTimeout(r, 500));
      mine = await allMyTasks(tasks, { assignedToMe: true });
    }
    for (const [i, task] of mine.entries()) {
      if (task.status === TaskStatus.IN_PROGRESS && i % 2 === 0) {
        await tasks.completeTask({ taskId: task.id });
        summary.transitions.completed++;
      } else if (task.status === TaskStatus.ASSIGNED && (n + i) % 3 !== 2) {
        const { task: started } = await tasks.startTask({ taskId: task.id });
        summary.transitions.started++;
        if ((n + i) % 2 === 0) {
          await tasks.completeTask({ taskId: started!.id });
          summary.transitions.completed++;
        }
      }
    }
  });

  // One client changes their mind: their newest task still OPEN is cancelled.
  const first = clients[0];
  if (first) {
    const tasks = tasksClient(urls.tasks, { token: first.token, timeoutMs: 15_000 });
    const open = (await allMyTasks(tasks, { mine: true })).filter((t) =>
      t.status === TaskStatus.OPEN
    );
    if (open.length > 1) {
      await tasks.cancelTask({ taskId: open[0].id, reason: "changed our plans" });
      summary.transitions.cancelled++;
    }
  }
  log(
    `history: ${summary.transitions.started} started, ${summary.transitions.completed} completed, ` +
      `${summary.transitions.cancelled} cancelled`,
  );
  return summary;
}
