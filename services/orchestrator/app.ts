/**
 * Builds the orchestrator from its configuration: database (migrated), the User Service
 * directory, the commands (every transaction), the matcher, the task and presence event
 * consumers, the proposal outbox relay, the sweeper, the RPC handlers and the notification
 * stream (NotificationService.Watch), handed to the shared server.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { OrchestratorService } from "@platform/proto/orchestrator/v1";
import { NotificationService } from "@platform/proto/notifications/v1";
import { redactUrl } from "@platform/lib/config";
import {
  connectWithStreams,
  DurableConsumer,
  EVENTS,
  OutboxRelay,
  pingNats,
  PRESENCE_STREAM,
  registerOutboxMetrics,
  streamSubscription,
  subscriptionOf,
  TASKS_STREAM,
} from "@platform/lib/events";
import { HealthMonitor } from "@platform/lib/health";
import type { Metrics } from "@platform/lib/metrics";
import {
  notificationHandlers,
  WATCH_CONSUMER_LABEL,
  WatchCursors,
} from "@platform/lib/notifications";
import { prepareService, type RunningServer, startServiceServer } from "@platform/lib/server";
import type { OrchestratorConfig } from "./config.ts";
import { ExpirySweeper } from "./expiry_sweeper.ts";
import { Matcher } from "./matcher.ts";
import { KeyedLimiter } from "./matching/keyed_limiter.ts";
import { ProposalCommands } from "./proposal_commands.ts";
import { presenceHandler } from "./presence_consumer.ts";
import { PROPOSAL_OUTBOX } from "./proposal_events.ts";
import { proposalHandlers } from "./proposal_handlers.ts";
import { ProposalStore } from "./proposal_store.ts";
import { taskCreatedHandler } from "./task_created_consumer.ts";
import { taskEventsHandler } from "./task_events_consumer.ts";
import { UserDirectory } from "./user_directory.ts";

/** The orchestrator's business metrics (names as the manual's). */
export function orchestratorMetrics(metrics: Metrics) {
  return {
    attempted: metrics.counter(
      "matches_attempted_total",
      "Tasks the orchestrator tried to match (counted once per task, at its first attempt).",
    ),
    successful: metrics.counter(
      "matches_successful_total",
      "Tasks whose matching produced at least one proposal (counted once per task, when it first gets proposals).",
    ),
    retries: metrics.counter(
      "match_retries_total",
      "Matching attempts after a task's first one (re-matches after declines or expiry, retries of tasks with no candidate).",
    ),
    proposalsCreated: metrics.counter("proposals_created_total", "Proposals made to developers."),
    timeToProposals: metrics.histogram(
      "match_latency_seconds",
      "From task.created (the task's creation) to its first proposals stored.",
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
    responseTime: metrics.histogram(
      "proposal_response_time_seconds",
      "From a proposal's creation to the developer's answer (accept or decline).",
      [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 43_200, 86_400],
    ),
    malformed: metrics.counter(
      "events_malformed_total",
      "Events that could not be processed (bad JSON, missing fields, unknown entity); terminated.",
      ["consumer"],
    ),
    wakeups: metrics.counter(
      "match_wakeups_total",
      "Waiting tasks put back to matching by an event (a developer online, skills added, a " +
        "developer offline).",
      ["cause"],
    ),
  };
}

/**
 * Starts the orchestrator.
 *
 * @example
 * ```ts
 * const server = await startOrchestrator(loadOrchestratorConfig());
 * ```
 */
export async function startOrchestrator(config: OrchestratorConfig): Promise<RunningServer> {
  const { logger, db, metrics, tokens } = await prepareService(config, {
    applicationName: "orchestrator",
    migrations: new URL("./migrations/", import.meta.url),
    logFields: { nats: redactUrl(config.natsUrl), users: redactUrl(config.usersUrl) },
  });
  const m = orchestratorMetrics(metrics);
  for (const name of ["task-created", "task-events", "presence"]) {
    m.malformed.inc({ consumer: `${config.consumerPrefix}-${name}` }, 0);
  }
  m.malformed.inc({ consumer: WATCH_CONSUMER_LABEL }, 0);
  registerOutboxMetrics(metrics, db, PROPOSAL_OUTBOX);

  const directory = new UserDirectory({
    baseUrl: config.usersUrl,
    tokens,
    logger,
    timeoutMs: config.usersTimeoutMs,
    retries: config.usersRetries,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldownMs,
  });
  const store = new ProposalStore(db);
  const commands = new ProposalCommands(store, {
    logger,
    responseTime: m.responseTime,
    onTaskReopened: () => sweeper.poke(),
  });
  const matcher = new Matcher(
    commands,
    directory,
    {
      params: {
        weights: config.weights,
        minSkillCoverage: config.minSkillCoverage,
        rateReferenceHours: config.rateReferenceHours,
        fairnessMaxProposals: config.fairnessMaxProposals,
      },
      proposalsPerTask: config.proposalsPerTask,
      rankLimit: config.rankLimit,
      matchConcurrency: config.matchConcurrency,
      proposalTtlSeconds: config.proposalTtlSeconds,
      retryIntervalSeconds: config.retryIntervalSeconds,
      unmatchedRecheckSeconds: config.unmatchedRecheckSeconds,
      fairnessWindowSeconds: config.fairnessWindowSeconds,
    },
    m,
    logger,
  );
  // One task's events (created, updated, cancelled, assigned) are handled in delivery order in
  // this replica; unbounded here: the matcher bounds the attempts (MATCH_CONCURRENCY).
  const taskOrder = new KeyedLimiter(Number.MAX_SAFE_INTEGER);
  const sweeper = new ExpirySweeper(commands, matcher, logger, {
    intervalMs: config.sweepIntervalMs,
    leaseSeconds: config.retryIntervalSeconds,
  });

  let nc: NatsConnection | undefined;
  const stopController = new AbortController();
  const consumers: DurableConsumer[] = [];
  let relay: OutboxRelay | undefined;
  const eventsReady = (async () => {
    nc = await connectWithStreams(config.natsUrl, "orchestrator", logger, stopController.signal, {
      replicas: config.natsStreamReplicas,
    });
    if (!nc) return;
    const common = {
      nc,
      logger,
      metrics,
      ackWaitMs: config.ackWaitSeconds * 1000,
      maxDeliver: config.maxDeliver,
      concurrency: config.consumerConcurrency,
    };
    consumers.push(
      new DurableConsumer({
        ...common,
        ...subscriptionOf(EVENTS.taskCreated),
        durable: `${config.consumerPrefix}-task-created`,
        // Enough handlers in flight to keep MATCH_CONCURRENCY attempts busy.
        concurrency: Math.max(config.consumerConcurrency, config.matchConcurrency),
        handler: taskCreatedHandler(commands, matcher, config.retryIntervalSeconds, taskOrder),
      }),
      new DurableConsumer({
        ...common,
        // One subject filter (filter_subjects needs nats-server 2.10); other subjects are skipped.
        ...streamSubscription(TASKS_STREAM),
        durable: `${config.consumerPrefix}-task-events`,
        handler: taskEventsHandler(commands, logger, matcher, taskOrder),
      }),
      new DurableConsumer({
        ...common,
        ...streamSubscription(PRESENCE_STREAM),
        durable: `${config.consumerPrefix}-presence`,
        handler: presenceHandler(
          commands,
          {
            minSkillCoverage: config.minSkillCoverage,
            fairnessMaxProposals: config.fairnessMaxProposals,
            fairnessWindowSeconds: config.fairnessWindowSeconds,
            limit: config.presenceRematchLimit,
          },
          logger,
          m.wakeups,
        ),
      }),
    );
    for (const consumer of consumers) consumer.start();
    relay = new OutboxRelay({ db, table: PROPOSAL_OUTBOX, js: jetstream(nc), logger, metrics });
    await relay.start();
  })().catch((error) => {
    if (!stopController.signal.aborted) logger.error("event wiring failed", { error });
  });

  const health = new HealthMonitor(config.version, [
    { name: "database", critical: true, check: (signal) => db.ping(signal) },
    { name: "nats", critical: true, check: () => pingNats(nc) },
    { name: "user_service", critical: true, check: (signal) => directory.ping(signal) },
  ], config.healthTimeoutMs);

  // Watch streams end when draining starts: clients resume on another replica with their cursor.
  const draining = new AbortController();
  const server = startServiceServer({
    config,
    logger,
    metrics,
    health,
    tokens,
    routes: (router) => {
      router.service(
        OrchestratorService,
        proposalHandlers({ commands }),
      );
      router.service(
        NotificationService,
        notificationHandlers({
          nats: () => nc,
          cursors: new WatchCursors(config.jwtSecrets),
          logger,
          metrics,
          keepAliveMs: config.watchKeepAliveSeconds * 1000,
          maxStreamMs: config.watchMaxSeconds * 1000,
          maxStreamsPerUser: config.watchMaxStreamsPerUser,
          maxStreams: config.watchMaxStreams,
          drain: draining.signal,
        }),
      );
      return [OrchestratorService, NotificationService];
    },
    onDrain: [() => draining.abort()],
    onShutdown: [
      async () => {
        stopController.abort();
        await Promise.all(consumers.map((c) => c.stop()));
      },
      () => sweeper.stop(),
      async () => {
        await relay?.stop();
      },
      async () => {
        await Promise.race([eventsReady, new Promise((r) => setTimeout(r, 100))]);
        await nc?.drain().catch(() => {});
      },
      () => db.close(),
    ],
  });
  sweeper.start();
  return server;
}
