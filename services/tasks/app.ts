/**
 * Builds the Task Service from its configuration: database (migrated), metrics, health checks,
 * handlers, the deadline sweep, and, once NATS answers, the streams, the outbox relay and the
 * proposal consumers (proposal.accepted assigns; proposal.* keeps who holds a proposal). NATS may
 * be down at start: tasks are accepted and their events wait in the outbox.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { TaskService } from "@platform/proto/tasks/v1";
import { redactUrl } from "@platform/lib/config";
import {
  connectWithStreams,
  type DurableConsumer,
  OutboxRelay,
  pingNats,
  registerOutboxMetrics,
} from "@platform/lib/events";
import { HealthMonitor } from "@platform/lib/health";
import { prepareService, type RunningServer, startServiceServer } from "@platform/lib/server";
import type { TasksConfig } from "./config.ts";
import { DeliveryCommands } from "./delivery_commands.ts";
import { proposalAcceptedConsumer } from "./proposal_accepted_consumer.ts";
import { proposalHoldersConsumer } from "./proposal_holders_consumer.ts";
import { TaskCommands } from "./task_commands.ts";
import { TASK_OUTBOX } from "./task_events.ts";
import { TaskExpirySweeper } from "./task_expiry_sweeper.ts";
import { taskHandlers } from "./task_handlers.ts";
import { TaskStore } from "./task_store.ts";
import { TaskSweeper } from "./task_sweeper.ts";

/**
 * Starts the Task Service.
 *
 * @example
 * ```ts
 * const server = await startTasksService(loadTasksConfig());
 * ```
 */
export async function startTasksService(config: TasksConfig): Promise<RunningServer> {
  const { logger, db, metrics, tokens } = await prepareService(config, {
    applicationName: "taskservice",
    migrations: new URL("./migrations/", import.meta.url),
    logFields: { nats: redactUrl(config.natsUrl) },
  });
  registerOutboxMetrics(metrics, db, TASK_OUTBOX);
  const created = metrics.counter("tasks_created_total", "Tasks created.");
  const store = new TaskStore(db);
  const commands = new TaskCommands(store, created, {
    maxBatch: config.createMaxBatch,
    maxInFlight: config.createMaxInFlight,
  }, config.idempotencyWindowSeconds);

  const delivery = new DeliveryCommands(commands, {
    submissions: metrics.counter("task_submissions_total", "Work submitted (SubmitWork)."),
    approvals: metrics.counter(
      "task_approvals_total",
      "Submitted work approved, by mode: manual (ApproveWork), auto (AUTO_APPROVE_AFTER), " +
        "dispute (an admin's approve or split).",
      ["mode"],
    ),
    changeRequests: metrics.counter(
      "task_change_requests_total",
      "Submitted work sent back for changes (RequestChanges).",
    ),
    withdrawals: metrics.counter(
      "task_withdrawals_total",
      "Assigned developers who stepped back before starting (WithdrawFromTask).",
    ),
    disputesOpened: metrics.counter("task_disputes_opened_total", "Disputes opened."),
    disputesResolved: metrics.counter(
      "task_disputes_resolved_total",
      "Disputes resolved by an admin, by resolution (approve, refund, split).",
      ["resolution"],
    ),
  });

  const expiry = new TaskExpirySweeper(commands, logger, config.expirySweepMs);
  const autoApproval = new TaskSweeper(
    "submitted work approved automatically",
    (limit) => delivery.autoApproveDue(config.autoApproveAfterSeconds, limit),
    logger,
    config.autoApproveSweepMs,
  );

  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  const consumers: DurableConsumer[] = [];
  const natsAbort = new AbortController();
  const events = startEvents();

  async function startEvents(): Promise<void> {
    nc = await connectWithStreams(config.natsUrl, "taskservice", logger, natsAbort.signal, {
      replicas: config.natsStreamReplicas,
    });
    if (!nc) return;
    relay = new OutboxRelay({
      db,
      table: TASK_OUTBOX,
      js: jetstream(nc),
      logger,
      metrics,
      batchSize: config.outboxBatchSize,
      pollIntervalMs: config.outboxPollMs,
    });
    await relay.start();
    if (config.consumeProposals) {
      consumers.push(
        proposalAcceptedConsumer(nc, commands, logger, metrics),
        proposalHoldersConsumer(nc, store, logger, metrics),
      );
      for (const consumer of consumers) consumer.start();
    }
  }

  const health = new HealthMonitor(config.version, [
    { name: "database", critical: true, check: (signal) => db.ping(signal) },
    { name: "nats", critical: true, check: () => pingNats(nc) },
  ], config.healthTimeoutMs);

  expiry.start();
  autoApproval.start();
  return startServiceServer({
    config,
    logger,
    metrics,
    health,
    tokens,
    routes: (router) => {
      router.service(TaskService, taskHandlers(commands, delivery));
      return [TaskService];
    },
    onShutdown: [
      async () => {
        natsAbort.abort();
        await Promise.race([events, new Promise((r) => setTimeout(r, 1000))]);
      },
      () => expiry.stop(),
      () => autoApproval.stop(),
      () => Promise.all(consumers.map((c) => c.stop())).then(() => {}),
      () => relay?.stop(),
      async () => {
        if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
      },
      () => db.close(),
    ],
  });
}
