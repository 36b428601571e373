/**
 * The outbox relay keeps `seq` order in the stream: a publish that fails stops its batch (later
 * rows wait for it), and two relays on one table never publish adjacent batches at once.
 * Real PostgreSQL and NATS from the harness; the only fault is injected in front of the real
 * JetStream client.
 */
import assert from "node:assert/strict";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Database } from "@platform/lib/db";
import { ensureStream, OutboxRelay, outboxTableSql } from "@platform/lib/events";
import { Logger } from "@platform/lib/log";
import { NatsServer } from "../harness/nats_server.ts";
import { PostgresServer } from "../harness/postgres_server.ts";
import { readStream, testOptions } from "./support.ts";

const pool = {
  maxConnections: 6,
  maxLifetimeSeconds: 60,
  idleTimeoutSeconds: 60,
  connectTimeoutSeconds: 5,
  queryTimeoutMs: 5000,
};
const logger = new Logger("relay-test", "error");

async function withStack(
  name: string,
  work: (ctx: {
    db: Database;
    js: JetStreamClient;
    natsUrl: string;
    table: string;
    stream: string;
    insert(n: number): Promise<string[]>;
  }) => Promise<void>,
) {
  const [pg, nats] = await Promise.all([PostgresServer.start(), NatsServer.start()]);
  const db = new Database(await pg.createDatabase(name), pool, "relay-test");
  const nc = await connect({ servers: nats.url.replace("nats://", ""), timeout: 2000 });
  try {
    const table = "relay_outbox";
    const stream = "RELAYTEST";
    await db.sql.unsafe(outboxTableSql(table));
    await ensureStream(await jetstreamManager(nc), {
      name: stream,
      subjects: ["relay.>"],
      duplicateWindowMs: 120_000,
      maxAgeMs: 0,
    });
    let next = 0;
    const insert = async (n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const id = crypto.randomUUID();
        const k = next++;
        // Alternating subjects, as task.created / task.status_changed alternate.
        const subject = k % 2 ? "relay.changed" : "relay.created";
        await db.sql`
          INSERT INTO relay_outbox (id, subject, payload)
          VALUES (${id}, ${subject}, ${db.sql.json({ event_id: id, n: k })})`;
        ids.push(id);
      }
      return ids;
    };
    await work({ db, js: jetstream(nc), natsUrl: nats.url, table, stream, insert });
  } finally {
    await nc.close().catch(() => {});
    await db.sql.end({ timeout: 1 }).catch(() => {});
    await Promise.all([pg.destroy(), nats.destroy()]);
  }
}

async function waitForCount(natsUrl: string, stream: string, count: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = await readStream(natsUrl, stream);
    if (messages.length >= count || Date.now() > deadline) return messages;
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test(
  "a failed publish holds back the rows after it: the stream keeps seq order",
  testOptions,
  async () => {
    await withStack("relay_order_fault", async ({ db, js, natsUrl, table, stream, insert }) => {
      const ids = await insert(20);
      // The third event's first publish fails (as if NATS dropped it); the rest go through.
      let failOnce = true;
      const faulty = {
        publish: (subject: string, data: Uint8Array, opts: { msgID: string; timeout: number }) => {
          if (opts.msgID === ids[2] && failOnce) {
            failOnce = false;
            return Promise.reject(new Error("injected publish failure"));
          }
          return js.publish(subject, data, opts);
        },
      } as unknown as JetStreamClient;
      const relay = new OutboxRelay({ db, table, js: faulty, logger, batchSize: 50 });
      await relay.start();
      try {
        const messages = await waitForCount(natsUrl, stream, ids.length);
        assert.deepEqual(messages.map((m) => m.msgId), ids, "published in seq order, once each");
        assert.equal(failOnce, false, "the fault was injected");
        const [row] = await db.sql`
          SELECT attempts, last_error FROM relay_outbox WHERE id = ${ids[2]}`;
        assert.equal(row.attempts, 2);
        assert.match(row.last_error, /injected/);
      } finally {
        await relay.stop();
      }
    });
  },
);

Deno.test(
  "two relays on one table take turns: each event once, in seq order",
  testOptions,
  async () => {
    await withStack("relay_order_replicas", async ({ db, js, natsUrl, table, stream, insert }) => {
      const ids = await insert(120);
      // Each replica's network has its own jitter (a few ms per publish).
      const jittery = () =>
        ({
          publish: async (subject: string, data: Uint8Array, opts: object) => {
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            return await js.publish(subject, data, opts);
          },
        }) as unknown as JetStreamClient;
      const relays = [
        new OutboxRelay({ db, table, js: jittery(), logger, batchSize: 7, pollIntervalMs: 50 }),
        new OutboxRelay({ db, table, js: jittery(), logger, batchSize: 5, pollIntervalMs: 50 }),
      ];
      await Promise.all(relays.map((r) => r.start()));
      try {
        // More rows while both relay, so both are busy at once.
        ids.push(...await insert(60));
        const messages = await waitForCount(natsUrl, stream, ids.length);
        assert.equal(messages.length, ids.length);
        assert.deepEqual(messages.map((m) => m.msgId), ids, "published in seq order, once each");
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((await readStream(natsUrl, stream)).length, ids.length, "no late duplicate");
      } finally {
        await Promise.all(relays.map((r) => r.stop()));
      }
    });
  },
);

Deno.test(
  "the leader holds the lock for its session; when the session dies, a relay takes it again",
  testOptions,
  async () => {
    await withStack("relay_session_lead", async ({ db, js, natsUrl, table, stream, insert }) => {
      const relays = [
        new OutboxRelay({ db, table, js, logger, batchSize: 10, pollIntervalMs: 50 }),
        new OutboxRelay({ db, table, js, logger, batchSize: 10, pollIntervalMs: 50 }),
      ];
      await Promise.all(relays.map((r) => r.start()));
      try {
        const ids = await insert(30);
        await waitForCount(natsUrl, stream, ids.length);
        assert.equal(relays.filter((r) => r.leading).length, 1, "one leader");
        const sessions = await db.sql<{ pid: number }[]>`
          SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`;
        assert.equal(sessions.length, 1, "one relay session holds the lock");
        // Kill the leader's session (as a PostgreSQL restart or a network cut would).
        await db.sql`SELECT pg_terminate_backend(${sessions[0].pid})`;
        ids.push(...await insert(30));
        const messages = await waitForCount(natsUrl, stream, ids.length);
        assert.deepEqual(messages.map((m) => m.msgId), ids, "in seq order, once each");
        const deadline = Date.now() + 5000;
        while (relays.filter((r) => r.leading).length !== 1 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(relays.filter((r) => r.leading).length, 1, "a leader again");
        const [{ n }] = await db.sql`
          SELECT count(*)::int AS n FROM relay_outbox WHERE published_at IS NULL`;
        assert.equal(n, 0);
      } finally {
        await Promise.all(relays.map((r) => r.stop()));
      }
      const [{ n }] = await db.sql`
        SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`;
      assert.equal(n, 0, "stopping gives the lock up");
    });
  },
);
