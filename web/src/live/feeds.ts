/**
 * The page's live views of platform state. Every view that changes while a person watches
 * (proposals arriving, a task being matched and assigned, the services' health) subscribes here
 * and nowhere else.
 *
 * The views of a signed-in user's proposals and tasks load once through the normal RPCs and load
 * again when the notification stream (`Watch`, `notification_stream.ts`) says something about
 * them happened: the notification is a reason to reload, not the data shown, so a view is always
 * what the services answer now. The stream also tells them to reload when it may have missed
 * something (a fresh start, a `gap`). A slow safety-net reload (`refreshMs`, from the web
 * server's `WEB_REFRESH_SECONDS`, 30 s by default) covers the few changes no notification
 * announces (a proposal on a client's task that leaves its match state as it was); a failed load
 * retries with backoff until it succeeds. Only the operators' status page polls, every 5 s: health
 * and metrics have no stream.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { HealthReading } from "@platform/client";
import { type Notification, NotificationKind } from "@platform/proto/notifications/v1";
import {
  type GetMatchStatusResponse,
  type Proposal,
  ProposalStatus,
} from "@platform/proto/orchestrator/v1";
import type { Task, Transition } from "@platform/proto/tasks/v1";
import type { PublicProfile } from "@platform/proto/users/v1";
import type { Api } from "../api.ts";
import { SERVICE_NAMES, type ServiceName } from "../endpoints.ts";
import type { NotificationStream } from "./notification_stream.ts";
import { collectPages, ListWindow, type Page, type Paged } from "./pages.ts";
import { startPoll } from "./poll.ts";
import { startReloader } from "./reloader.ts";

/** What the live views stand on. */
export interface Live {
  api: Api;
  /** The signed-in user's notifications. */
  notifications: NotificationStream;
  /** The safety-net reload of each view, in milliseconds after its last load; 0: never. */
  refreshMs: number;
}

/** The safety-net reload when the web server says nothing else (`WEB_REFRESH_SECONDS`). */
export const DEFAULT_REFRESH_MS = 30_000;

/** A running feed. */
export interface Feed {
  /** Loads again now, after an action whose effect should show at once. */
  refresh(): void;
  stop(): void;
}

/** A feed of a list that shows one page at first and more on demand. */
export interface PagedFeed extends Feed {
  /** Wants one page more and loads again. */
  showMore(): void;
}

/** Where a feed delivers. */
export interface FeedHandlers<T> {
  onValue(value: T): void;
  onError(error: unknown): void;
}

/** How often the status page looks, in milliseconds. */
export const FEED_INTERVALS = { status: 5000 } as const;

/** Loads with `load`, and again whenever a notification `concerns` it (and the stream says so). */
function liveFeed<T>(
  live: Live,
  load: (signal: AbortSignal) => Promise<T>,
  concerns: (notification: Notification) => boolean,
  handlers: FeedHandlers<T>,
): Feed {
  const reloader = startReloader(load, { refreshMs: live.refreshMs, ...handlers });
  const unsubscribe = live.notifications.subscribe({
    onNotification: (notification) => {
      if (concerns(notification)) reloader.reload();
    },
    onReload: () => reloader.reload(),
  });
  return {
    refresh: () => reloader.reload(),
    stop() {
      unsubscribe();
      reloader.stop();
    },
  };
}

/** {@link liveFeed} over a list read as far as its window wants (see pages.ts). */
function pagedFeed<T>(
  live: Live,
  pageSize: number,
  load: (signal: AbortSignal, want: number) => Promise<T>,
  concerns: (notification: Notification) => boolean,
  handlers: FeedHandlers<T>,
): PagedFeed {
  const window = new ListWindow(pageSize);
  const feed = liveFeed(live, (signal) => load(signal, window.want), concerns, handlers);
  return {
    ...feed,
    showMore() {
      window.grow();
      feed.refresh();
    },
  };
}

/** Page sizes of the lists (the RPCs allow 1..100). */
export const PAGE_SIZES = { tasks: 50, earlierProposals: 20, perTask: 100 } as const;

const PROPOSAL_KINDS: ReadonlySet<NotificationKind> = new Set([
  NotificationKind.PROPOSAL_OFFERED,
  NotificationKind.PROPOSAL_WITHDRAWN,
  NotificationKind.PROPOSAL_EXPIRED,
  NotificationKind.PROPOSAL_CANCELLED,
  NotificationKind.TASK_ASSIGNED,
  NotificationKind.TASK_CANCELLED,
]);

const ASSIGNED_TASK_KINDS: ReadonlySet<NotificationKind> = new Set([
  NotificationKind.TASK_ASSIGNED,
  NotificationKind.TASK_CANCELLED,
  NotificationKind.PROPOSAL_CANCELLED,
  NotificationKind.TASK_STATUS_CHANGED,
  NotificationKind.TASK_CHANGES_REQUESTED,
  NotificationKind.TASK_WORK_APPROVED,
  NotificationKind.TASK_DISPUTE_OPENED,
  NotificationKind.TASK_DISPUTE_RESOLVED,
]);

/** A proposal, with its task's description when the developer may read it. */
export interface ProposalView {
  /** Carries what it is for: `proposal.task` (title, budget, deadline, required skills). */
  proposal: Proposal;
  /** The task's description (not part of the proposal's terms), when it could be read. */
  description?: string;
}

/** The calling developer's proposals: every pending one, and the earlier ones page by page. */
export interface ProposalsView {
  /** Every PENDING proposal, newest first. */
  pending: ProposalView[];
  /** The others (answered, withdrawn, expired, cancelled), newest first, as far as shown. */
  earlier: Paged<Proposal>;
}

/**
 * The calling developer's proposals: all pending ones (read to the last page), and the earlier
 * ones a page at a time ({@link PagedFeed.showMore}).
 *
 * @example
 * ```ts
 * const feed = watchProposals(live, { onValue: setProposals, onError: setProblem });
 * ```
 */
export function watchProposals(live: Live, handlers: FeedHandlers<ProposalsView>): PagedFeed {
  const { api } = live;
  const descriptions = new Map<string, string>(); // by task id; the terms come with the proposal
  const pageSize = PAGE_SIZES.earlierProposals;
  return pagedFeed(
    live,
    pageSize,
    async (signal, want) => {
      const [pending, all] = await Promise.all([
        collectPages(async (pageToken) => {
          const r = await api.orchestrator.listProposals(
            { status: ProposalStatus.PENDING, pageSize: 100, pageToken },
            { signal },
          );
          return { items: r.proposals, nextPageToken: r.nextPageToken };
        }, Infinity),
        // Pending ones are in this list too: read past them to `want` earlier ones.
        collectEarlier(async (pageToken) => {
          const r = await api.orchestrator.listProposals({ pageSize, pageToken }, { signal });
          return { items: r.proposals, nextPageToken: r.nextPageToken };
        }, want),
      ]);
      await Promise.all(
        pending.items.filter((p) => !descriptions.has(p.taskId)).map(async (p) => {
          const task = await api.tasks.getTask({ taskId: p.taskId }, { signal })
            .then((r) => r.task, () => undefined);
          if (task) descriptions.set(p.taskId, task.description);
        }),
      );
      return {
        pending: pending.items.map((proposal) => ({
          proposal,
          description: descriptions.get(proposal.taskId),
        })),
        earlier: all,
      };
    },
    (n) => PROPOSAL_KINDS.has(n.kind),
    handlers,
  );
}

/** The non-pending proposals of a list, read until `want` of them or its end. */
function collectEarlier(
  fetchPage: (pageToken: string) => Promise<Page<Proposal>>,
  want: number,
): Promise<Paged<Proposal>> {
  const earlier = (items: Proposal[]) => items.filter((p) => p.status !== ProposalStatus.PENDING);
  return collectPages(async (pageToken) => {
    const page = await fetchPage(pageToken);
    return { items: earlier(page.items), nextPageToken: page.nextPageToken };
  }, want);
}

/**
 * The tasks assigned to the calling developer (`ListTasks` with `assigned_to_me`), newest first,
 * a page at a time ({@link PagedFeed.showMore}).
 *
 * @example
 * ```ts
 * const feed = watchAssignedTasks(live, { onValue: setTasks, onError: setProblem });
 * ```
 */
export function watchAssignedTasks(live: Live, handlers: FeedHandlers<Paged<Task>>): PagedFeed {
  const pageSize = PAGE_SIZES.tasks;
  return pagedFeed(
    live,
    pageSize,
    (signal, want) =>
      collectPages(async (pageToken) => {
        const r = await live.api.tasks.listTasks(
          { assignedToMe: true, pageSize, pageToken },
          { signal },
        );
        return { items: r.tasks, nextPageToken: r.nextPageToken };
      }, want),
    (n) => ASSIGNED_TASK_KINDS.has(n.kind),
    handlers,
  );
}

/**
 * The calling client's tasks, newest first, a page at a time ({@link PagedFeed.showMore}).
 *
 * @example
 * ```ts
 * const feed = watchMyTasks(live, { onValue: setTasks, onError: setProblem });
 * ```
 */
export function watchMyTasks(live: Live, handlers: FeedHandlers<Paged<Task>>): PagedFeed {
  const pageSize = PAGE_SIZES.tasks;
  return pagedFeed(
    live,
    pageSize,
    (signal, want) =>
      collectPages(async (pageToken) => {
        const r = await live.api.tasks.listTasks({ mine: true, pageSize, pageToken }, { signal });
        return { items: r.tasks, nextPageToken: r.nextPageToken };
      }, want),
    (n) => n.kind === NotificationKind.TASK_STATUS_CHANGED,
    handlers,
  );
}

/** Everything a client sees about one task. */
export interface TaskView {
  task: Task;
  /** Undefined until the orchestrator has seen the task. */
  match?: GetMatchStatusResponse;
  proposals: Array<{ proposal: Proposal; developer?: PublicProfile }>;
  history: Transition[];
  /** The assigned developer's public profile, once the task is assigned. */
  assignee?: PublicProfile;
}

/**
 * One task, its matching, proposals (with the developers' public profiles) and history; loaded
 * again on every notification about this task.
 *
 * @example
 * ```ts
 * const feed = watchTask(live, taskId, { onValue: setView, onError: setProblem });
 * ```
 */
export function watchTask(live: Live, taskId: string, handlers: FeedHandlers<TaskView>): Feed {
  const { api } = live;
  const developers = new Map<string, PublicProfile>();
  return liveFeed(
    live,
    async (signal) => {
      const pageSize = PAGE_SIZES.perTask;
      // One task's proposals and history are read to their last page.
      const [{ task }, match, { items: proposals }, { items: transitions }] = await Promise.all([
        api.tasks.getTask({ taskId }, { signal }),
        api.orchestrator.getMatchStatus({ taskId }, { signal }).catch((error) => {
          if (error instanceof ConnectError && error.code === Code.NotFound) return undefined;
          throw error;
        }),
        collectPages(async (pageToken) => {
          const r = await api.orchestrator.listProposals({ taskId, pageSize, pageToken }, {
            signal,
          });
          return { items: r.proposals, nextPageToken: r.nextPageToken };
        }, Infinity),
        collectPages(async (pageToken) => {
          const r = await api.tasks.getTaskHistory({ taskId, pageSize, pageToken }, { signal });
          return { items: r.transitions, nextPageToken: r.nextPageToken };
        }, Infinity),
      ]);
      const profile = async (userId: string) => {
        let developer = developers.get(userId);
        if (!developer) {
          developer = (await api.users.getPublicProfile({ userId }, { signal })
            .catch(() => undefined))?.profile;
          if (developer) developers.set(userId, developer);
        }
        return developer;
      };
      const withDevelopers = await Promise.all(
        proposals.map(async (proposal) => ({
          proposal,
          developer: await profile(proposal.developerId),
        })),
      );
      if (!task) throw new ConnectError(`task ${taskId} was not found`, Code.NotFound);
      const assignee = task.assignedDeveloperId
        ? await profile(task.assignedDeveloperId)
        : undefined;
      return { task, match, proposals: withDevelopers, history: transitions, assignee };
    },
    (n) => n.taskId === taskId,
    handlers,
  );
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
