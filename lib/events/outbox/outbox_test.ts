/**
 * The outbox module end to end against a throwaway PostgreSQL and NATS: a table made by
 * outboxTableSql, events written by OutboxWriter in the caller's transaction (a rollback writes
 * nothing), published by OutboxRelay in order with Nats-Msg-Id = event id and the row's
 * traceparent as a header, woken by the table's trigger, and received by a DurableConsumer that
 * exposes the traceparent.
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../../tests/harness/nats_server.ts";
import { PostgresServer } from "../../../tests/harness/postgres_server.ts";
import { Database } from "../../db/database.ts";
import { Logger } from "../../log/logger.ts";
import { Metrics } from "../../metrics/registry.ts";
import { EVENTS } from "../catalog.ts";
import { type ConsumedEvent, DurableConsumer } from "../durable_consumer.ts";
import { ensurePlatformStreams } from "../streams.ts";
import { OutboxRelay } from "./outbox_relay.ts";
import { outboxTableSql } from "./outbox_table.ts";
import { outboxEvent, OutboxWriter } from "./outbox_writer.ts";

const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("outbox: written in the caller's transaction, relayed in order with id and traceparent", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const [pg, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
  const db = new Database(await pg.createDatabase("outbox_module"), {
    maxConnections: 4,
    maxLifetimeSeconds: 60,
    idleTimeoutSeconds: 60,
    connectTimeoutSeconds: 5,
    queryTimeoutMs: 5000,
  }, "outbox-test");
  const nc = await connect({ servers: nats.url.replace("nats://", ""), timeout: 2000 });
  const logger = new Logger("outbox-test", "error");
  let relay: OutboxRelay | undefined;
  let consumer: DurableConsumer | undefined;
  try {
    await db.sql.unsafe(outboxTableSql("test_outbox"));
    await db.sql.unsafe(outboxTableSql("test_outbox")); // idempotent
    await ensurePlatformStreams(nc);
    const outbox = new OutboxWriter("test_outbox");
    assert.throws(() => new OutboxWriter("bad name"), /not an outbox table name/);

    // A rolled-back transaction leaves nothing behind.
    await assert.rejects(
      db.transaction(async (tx) => {
        await outbox.write(tx, [outboxEvent(EVENTS.taskExpired, { taskId: "rolled-back" })]);
        throw new Error("rollback");
      }),
      /rollback/,
    );
    assert.equal((await db.sql`SELECT count(*)::int AS n FROM test_outbox`)[0].n, 0);

    // Five events in one statement, one with trace context, then one more in another transaction.
    const taskId = crypto.randomUUID();
    const events = [
      outboxEvent(EVENTS.taskCreated, { taskId, title: "t" }, { traceparent: TRACEPARENT }),
      outboxEvent(EVENTS.taskUpdated, { taskId, changedFields: ["title"] }),
      outboxEvent(EVENTS.taskAssigned, { taskId, developerId: "d" }),
      outboxEvent(EVENTS.taskStatusChanged, { taskId, reason: "r" }),
      outboxEvent(EVENTS.taskExpired, { taskId }),
    ];
    await db.transaction((tx) => outbox.write(tx, events));
    const later = outboxEvent(EVENTS.presenceOnline, { userId: "u", skillTags: ["go"] });
    await db.transaction((tx) => outbox.write(tx, [later]));
    const rows = await db.sql<{ id: string; traceparent: string | null }[]>`
      SELECT id, traceparent FROM test_outbox ORDER BY seq`;
    assert.deepEqual(rows.map((r) => r.id), [...events, later].map((e) => e.id));
    assert.deepEqual(rows.map((r) => r.traceparent), [TRACEPARENT, null, null, null, null, null]);

    const received: ConsumedEvent[] = [];
    consumer = new DurableConsumer({
      nc,
      stream: EVENTS.taskCreated.stream.name,
      durable: "outbox-test",
      filterSubjects: ["task.>"],
      logger,
      handler: (event) => {
        received.push(event);
        return Promise.resolve();
      },
    });
    consumer.start();
    // A long poll interval: only the trigger's notification wakes the relay for the next rows.
    relay = new OutboxRelay({
      db,
      table: "test_outbox",
      js: jetstream(nc),
      logger,
      metrics: new Metrics(),
      pollIntervalMs: 60_000,
    });
    await relay.start();
    await waitFor(() => received.length === 5);
    const woken = outboxEvent(EVENTS.taskCreated, { taskId: crypto.randomUUID() });
    await db.transaction((tx) => outbox.write(tx, [woken]));
    await waitFor(() => received.length === 6, 5000);

    assert.deepEqual(
      received.map((e) => e.subject),
      [...events.map((e) => e.subject), "task.created"],
    );
    assert.deepEqual(
      received.map((e) => e.headers?.get("Nats-Msg-Id")),
      [...events, woken].map((e) => e.id),
    );
    assert.deepEqual(
      received.map((e) => e.traceparent),
      [TRACEPARENT, undefined, undefined, undefined, undefined, undefined],
    );
    const presence = await (await jetstreamManager(nc)).streams.getMessage("PRESENCE", { seq: 1 });
    assert.equal(presence?.subject, "presence.online");
    assert.equal(presence?.header?.get("Nats-Msg-Id"), later.id);
    assert.equal(presence?.json<{ user_id: string }>().user_id, "u");
    const unpublished = await db.sql`SELECT id FROM test_outbox WHERE published_at IS NULL`;
    assert.equal(unpublished.length, 0);
  } finally {
    await consumer?.stop();
    await relay?.stop();
    await nc.close().catch(() => {});
    await db.close(1).catch(() => {});
    await Promise.all([pg.destroy(), nats.destroy()]);
  }
});

async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}
