/**
 * The page's live views of platform state. Every view that changes while a person watches
 * (proposals arriving, a task being matched and assigned, the services' health) subscribes here
 * and nowhere else.
 *
 * Today each feed polls (`poll.ts`). When the notification stream of issue 11 (a server-streaming
 * `Watch...` RPC, resumable from the last event id) lands, these functions subscribe to it and
 * reload on each event instead; their signatures, and so the views, stay as they are.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { HealthReading } from "@platform/client";
import {
  type GetMatchStatusResponse,
  type Proposal,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import type { Task, Transition } from "@platform/proto/tasks/v1";
import type { User } from "@platform/proto/users/v1";
import type { Api } from "../api.ts";
import { SERVICE_NAMES, type ServiceName } from "../endpoints.ts";
import { startPoll } from "./poll.ts";

/** A running feed. */
export interface Feed {
  /** Loads again now, after an action whose effect should show at once. */
  refresh(): void;
  stop(): void;
}

/** Where a feed delivers. */
export interface FeedHandlers<T> {
  onValue(value: T): void;
  onError(error: unknown): void;
}

/** How often each feed looks, in milliseconds. */
export const FEED_INTERVALS = { work: 2000, myTasks: 3000, task: 2000, status: 5000 } as const;

/** A proposal with the task it is about. */
export interface ProposalView {
  proposal: Proposal;
  task?: Task;
}

/** A developer's proposals and the tasks they accepted. */
export interface DeveloperWork {
  /** Pending first, newest first within each group. */
  proposals: ProposalView[];
  /** Tasks of accepted proposals, fresh on every update. */
  tasks: Task[];
}

/**
 * The calling developer's proposals and accepted tasks.
 *
 * @example
 * ```ts
 * const feed = watchDeveloperWork(api, { onValue: setWork, onError: setProblem });
 * ```
 */
export function watchDeveloperWork(api: Api, handlers: FeedHandlers<DeveloperWork>): Feed {
  const settled = new Map<string, Task>(); // tasks of proposals that no longer change
  return startPoll(async (signal) => {
    const { proposals } = await api.orchestrator.listProposals({ pageSize: 100 }, { signal });
    const taskOf = async (p: Proposal, fresh: boolean) => {
      if (!fresh && settled.has(p.taskId)) return settled.get(p.taskId);
      const { task } = await api.tasks.getTask({ taskId: p.taskId }, { signal });
      if (task) settled.set(p.taskId, task);
      return task;
    };
    const views = await Promise.all(proposals.map(async (proposal) => ({
      proposal,
      task: await taskOf(
        proposal,
        proposal.status === ProposalStatus.PENDING || proposal.status === ProposalStatus.ACCEPTED,
      ).catch(() => undefined),
    })));
    const rank = (v: ProposalView) => v.proposal.status === ProposalStatus.PENDING ? 0 : 1;
    views.sort((a, b) =>
      rank(a) - rank(b) ||
      Number((b.proposal.createdAt?.seconds ?? 0n) - (a.proposal.createdAt?.seconds ?? 0n))
    );
    const tasks = views.filter((v) => v.proposal.status === ProposalStatus.ACCEPTED && v.task)
      .map((v) => v.task!);
    return { proposals: views, tasks };
  }, { intervalMs: FEED_INTERVALS.work, ...handlers });
}

/**
 * The calling client's tasks, newest first.
 *
 * @example
 * ```ts
 * const feed = watchMyTasks(api, { onValue: setTasks, onError: setProblem });
 * ```
 */
export function watchMyTasks(api: Api, handlers: FeedHandlers<Task[]>): Feed {
  return startPoll(async (signal) => {
    const { tasks } = await api.tasks.listTasks({ mine: true, pageSize: 50 }, { signal });
    return tasks;
  }, { intervalMs: FEED_INTERVALS.myTasks, ...handlers });
}

/** Everything a client sees about one task. */
export interface TaskView {
  task: Task;
  /** Undefined until the orchestrator has seen the task. */
  match?: GetMatchStatusResponse;
  proposals: Array<{ proposal: Proposal; developer?: User }>;
  history: Transition[];
}

/**
 * One task, its matching, proposals (with the developers' public profiles) and history.
 *
 * @example
 * ```ts
 * const feed = watchTask(api, taskId, { onValue: setView, onError: setProblem });
 * ```
 */
export function watchTask(api: Api, taskId: string, handlers: FeedHandlers<TaskView>): Feed {
  const developers = new Map<string, User>();
  return startPoll(async (signal) => {
    const [{ task }, match, { proposals }, { transitions }] = await Promise.all([
      api.tasks.getTask({ taskId }, { signal }),
      api.orchestrator.getMatchStatus({ taskId }, { signal }).catch((error) => {
        if (error instanceof ConnectError && error.code === Code.NotFound) return undefined;
        throw error;
      }),
      api.orchestrator.listProposals({ taskId, pageSize: 100 }, { signal }),
      api.tasks.getTaskHistory({ taskId }, { signal }),
    ]);
    const withDevelopers = await Promise.all(proposals.map(async (proposal) => {
      let developer = developers.get(proposal.developerId);
      if (!developer) {
        developer = (await api.users.getUser({ userId: proposal.developerId }, { signal })
          .catch(() => undefined))?.user;
        if (developer) developers.set(proposal.developerId, developer);
      }
      return { proposal, developer };
    }));
    if (!task) throw new ConnectError(`task ${taskId} was not found`, Code.NotFound);
    return { task, match, proposals: withDevelopers, history: transitions };
  }, { intervalMs: FEED_INTERVALS.task, ...handlers });
}

/** One service as the status page shows it. */
export interface ServiceStatus {
  name: ServiceName;
  /** The last `/health` reading, if the service answered. */
  reading?: HealthReading;
  /** Why there is no reading. */
  error?: unknown;
}

/** The status page's data. */
export interface PlatformStatus {
  services: ServiceStatus[];
  /** `users_online_count` from the User Service. */
  onlineDevelopers?: number;
  /** `tasks_created_total` since the Task Service started. */
  tasksCreated?: number;
  /** `matches_attempted_total` and `matches_successful_total` from the Orchestrator. */
  matchesAttempted?: number;
  matchesSuccessful?: number;
  updatedAt: Date;
}

/**
 * Every service's `/health` and the business metrics, refreshed on its own.
 *
 * @example
 * ```ts
 * const feed = watchPlatformStatus(api, { onValue: setStatus, onError: () => {} });
 * ```
 */
export function watchPlatformStatus(api: Api, handlers: FeedHandlers<PlatformStatus>): Feed {
  return startPoll(async (signal) => {
    const services = await Promise.all(SERVICE_NAMES.map(async (name) => {
      try {
        return { name, reading: await api.health(name, signal) };
      } catch (error) {
        return { name, error };
      }
    }));
    const metric = async (service: ServiceName, name: string) => {
      try {
        const samples = (await api.metrics(service, signal)).get(name);
        return samples?.reduce((sum, s) => sum + s.value, 0);
      } catch {
        return undefined;
      }
    };
    const orchestratorMetrics = await api.metrics("orchestrator", signal).catch(() => undefined);
    const sum = (name: string) =>
      orchestratorMetrics?.get(name)?.reduce((total, s) => total + s.value, 0);
    const [onlineDevelopers, tasksCreated] = await Promise.all([
      metric("users", "users_online_count"),
      metric("tasks", "tasks_created_total"),
    ]);
    return {
      services,
      onlineDevelopers,
      tasksCreated,
      matchesAttempted: sum("matches_attempted_total"),
      matchesSuccessful: sum("matches_successful_total"),
      updatedAt: new Date(),
    };
  }, { intervalMs: FEED_INTERVALS.status, ...handlers });
}
