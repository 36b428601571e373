/**
 * Builds the Task Service from its configuration: database (migrated), metrics, health checks,
 * handlers, and, once NATS answers, the streams, the outbox relay and the proposal.accepted
 * consumer. NATS may be down at start: tasks are accepted and their events wait in the outbox.
 *
 * @module
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { TaskService } from "@platform/gen/platform/tasks/v1/tasks_pb.ts";
import { TokenService } from "../../lib/auth/tokens.ts";
import { redactUrl } from "../../lib/config/env.ts";
import { Database } from "../../lib/db/database.ts";
import { ensureDatabase, migrate, readMigrations } from "../../lib/db/migrate.ts";
import type { DurableConsumer } from "../../lib/events/durable_consumer.ts";
import { connectNats, pingNats } from "../../lib/events/nats_connection.ts";
import { OutboxRelay, registerOutboxMetrics } from "../../lib/events/outbox_relay.ts";
import { ensurePlatformStreams } from "../../lib/events/streams.ts";
import { HealthMonitor } from "../../lib/health/health_monitor.ts";
import { Logger } from "../../lib/log/logger.ts";
import { Metrics } from "../../lib/metrics/registry.ts";
import { type RunningServer, startServiceServer } from "../../lib/server/service_server.ts";
import type { TasksConfig } from "./config.ts";
import { proposalAcceptedConsumer } from "./proposal_accepted_consumer.ts";
import { TaskCommands } from "./task_commands.ts";
import { taskHandlers } from "./task_handlers.ts";
import { TaskStore } from "./task_store.ts";

/**
 * Starts the Task Service.
 *
 * @example
 * ```ts
 * const server = await startTasksService(loadTasksConfig());
 * ```
 */
export async function startTasksService(config: TasksConfig): Promise<RunningServer> {
  const logger = new Logger("tasks", config.logLevel);
  if (config.usingDevelopmentSecret) {
    logger.warn("JWT_SECRETS is not set: using an insecure development secret");
  }
  logger.info("starting", {
    version: config.version,
    database: redactUrl(config.databaseUrl),
    nats: redactUrl(config.natsUrl),
  });
  if (await ensureDatabase(config.databaseUrl)) logger.info("database created");
  const db = new Database(config.databaseUrl, config.pool, "taskservice");
  const applied = await migrate(
    db.sql,
    "tasks",
    await readMigrations(new URL("./migrations/", import.meta.url)),
  );
  if (applied.length > 0) logger.info("migrations applied", { versions: applied });

  const metrics = new Metrics();
  db.registerMetrics(metrics);
  registerOutboxMetrics(metrics, db, "task_outbox");
  const created = metrics.counter("tasks_created_total", "Tasks created.");
  const store = new TaskStore(db);
  const commands = new TaskCommands(store, created);

  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  let consumer: DurableConsumer | undefined;
  const natsAbort = new AbortController();
  const events = startEvents();

  async function startEvents(): Promise<void> {
    try {
      nc = await connectNats(config.natsUrl, "taskservice", logger, natsAbort.signal);
    } catch (error) {
      if (!natsAbort.signal.aborted) logger.error("NATS connection abandoned", { error });
      return;
    }
    if (natsAbort.signal.aborted) return;
    logger.info("NATS connected");
    for (let delay = 250; !natsAbort.signal.aborted; delay = Math.min(delay * 2, 5000)) {
      try {
        await ensurePlatformStreams(nc);
        break;
      } catch (error) {
        logger.warn("JetStream streams not ready; retrying", { error, retry_in_ms: delay });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    if (natsAbort.signal.aborted) return;
    relay = new OutboxRelay({
      db,
      table: "task_outbox",
      js: jetstream(nc),
      logger,
      metrics,
      batchSize: config.outboxBatchSize,
      pollIntervalMs: config.outboxPollMs,
    });
    await relay.start();
    if (config.consumeProposals) {
      consumer = proposalAcceptedConsumer(nc, commands, logger, metrics);
      consumer.start();
    }
  }

  const health = new HealthMonitor(config.version, [
    { name: "database", critical: true, check: (signal) => db.ping(signal) },
    { name: "nats", critical: true, check: () => pingNats(nc) },
  ], config.healthTimeoutMs);
  const tokens = new TokenService(config.jwtSecrets, config.tokenTtlSeconds);

  return startServiceServer({
    config,
    logger,
    metrics,
    health,
    tokens,
    routes: (router) => {
      router.service(TaskService, taskHandlers(commands));
      return [TaskService];
    },
    onShutdown: [
      async () => {
        natsAbort.abort();
        await Promise.race([events, new Promise((r) => setTimeout(r, 1000))]);
      },
      () => consumer?.stop(),
      () => relay?.stop(),
      async () => {
        if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
      },
      () => db.close(),
    ],
  });
}
