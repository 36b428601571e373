/**
 * Emergency commands against real PostgreSQL, Redis and NATS JetStream: each refuses without
 * confirmation, does exactly its job with it, and reports what it did.
 */
import assert from "node:assert/strict";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { ensurePlatformStreams } from "@platform/lib/events";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import postgres from "postgres";
import { emergencyCli } from "./emergency.ts";
import { describeStream, purgeStream } from "./emergency/purge_stream.ts";
import { type OpsError, UsageError } from "./shared/errors.ts";
import { captureOutput } from "./shared/output.ts";
import { client, startPlatformDb } from "./testing/platform_db.ts";

Deno.test({
  name: "emergency commands",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const [db, nats, redisServer] = await Promise.all([
      startPlatformDb(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    const env = { DATABASE_URL: db.url, NATS_URL: nats.url, REDIS_URL: redisServer.url };
    const redis = new Redis(redisServer.url);
    const nc = await connect({ servers: nats.url });
    try {
      await t.step(
        "terminate-idle terminates only sessions idle in a transaction too long",
        async () => {
          const idle = client(db.url, 1);
          const busy = client(db.url, 1);
          const tx = await idle.reserve();
          await tx`BEGIN`;
          await tx`SELECT 1`;
          const [{ pid }] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
          await busy`SELECT 1`; // idle, not in a transaction: left alone
          // A backup's snapshot session: idle in a transaction for the whole dump, by design.
          const backup = postgres(db.url, {
            max: 1,
            onnotice: () => {},
            connection: { application_name: "fp-ops-backup" },
          });
          const snapshot = await backup.reserve();
          await snapshot`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
          const [{ pid: backupPid }] = await snapshot<{ pid: number }[]>`
            SELECT pg_backend_pid() AS pid`;
          await new Promise((r) => setTimeout(r, 1200));

          const refused = captureOutput();
          await assert.rejects(
            emergencyCli(["terminate-idle", "--older-than", "1s"], refused.output, env),
            (e: OpsError) =>
              /refusing to terminate these 1 session\(s\).*Nothing was changed/.test(e.message),
          );
          assert.match(refused.text(), new RegExp(`${pid}\\s+freelance_platform\\s+postgres`));

          const nothing = captureOutput();
          assert.equal(await emergencyCli(["terminate-idle", "--yes"], nothing.output, env), 0);
          assert.match(nothing.text(), /idle in a transaction for over 1h\. Nothing to do/);

          const cap = captureOutput();
          assert.equal(
            await emergencyCli(
              ["terminate-idle", "--older-than", "1s", "--yes", "--json"],
              cap.output,
              env,
            ),
            0,
          );
          const result = JSON.parse(cap.stdout.join(""));
          assert.deepEqual(result.terminated, [pid]);
          assert.deepEqual(result.spared.map((s: { pid: number }) => s.pid), [backupPid]);
          assert.match(
            cap.stderr.join(""),
            new RegExp(`Left alone: pid ${backupPid} \\(fp-ops-backup\\) idle in a transaction`),
          );
          // Still alive, still in its transaction.
          assert.equal((await snapshot<{ one: number }[]>`SELECT 1 AS one`)[0].one, 1);
          await snapshot`COMMIT`;
          snapshot.release();
          await backup.end();
          assert.match(cap.stderr.join(""), new RegExp(`Terminated 1 session\\(s\\): ${pid}`));
          const alive = await db.sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`;
          assert.equal(alive.length, 0);
          await busy`SELECT 1`; // still works
          tx.release();
          await idle.end({ timeout: 1 });
          await busy.end();
        },
      );

      await t.step(
        "terminate-idle spares an ops session only while young; --include-ops terminates it",
        async () => {
          const opsSession = async () => {
            const pool = postgres(db.url, {
              max: 1,
              onnotice: () => {},
              connection: { application_name: "fp-ops-backup" },
            });
            const session = await pool.reserve();
            await session`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
            const [{ pid }] = await session<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
            return { pool, session, pid };
          };
          const isAlive = async (pid: number) =>
            (await db.sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length === 1;
          // A hung backup: its transaction is older than the bound (3s here, 6h by default).
          const hung = await opsSession();
          await new Promise((r) => setTimeout(r, 2500));
          // A running backup: idle for longer than --older-than, but younger than the bound.
          const young = await opsSession();
          await new Promise((r) => setTimeout(r, 1200));
          try {
            const refused = captureOutput();
            await assert.rejects(
              emergencyCli(
                ["terminate-idle", "--older-than", "1s", "--spare-ops-for", "3s"],
                refused.output,
                env,
              ),
              /refusing to terminate these 1 session\(s\).*Nothing was changed/,
            );
            assert.ok(await isAlive(hung.pid));

            const cap = captureOutput();
            assert.equal(
              await emergencyCli(
                [
                  "terminate-idle",
                  "--older-than",
                  "1s",
                  "--spare-ops-for",
                  "3s",
                  "--yes",
                  "--json",
                ],
                cap.output,
                env,
              ),
              0,
            );
            const result = JSON.parse(cap.stdout.join(""));
            assert.deepEqual(result.terminated, [hung.pid]);
            assert.deepEqual(result.spared.map((s: { pid: number }) => s.pid), [young.pid]);
            assert.match(
              cap.stderr.join(""),
              new RegExp(
                `Note: pid ${hung.pid} \\(fp-ops-backup\\) is a session of the ops programs.*over 3\\.0s: presumed stuck`,
              ),
            );
            assert.match(
              cap.stderr.join(""),
              new RegExp(`Left alone: pid ${young.pid} \\(fp-ops-backup\\).*--include-ops`),
            );
            assert.equal(await isAlive(hung.pid), false);
            assert.ok(await isAlive(young.pid));

            // The default bound (6h) spares the young one too.
            const spared = captureOutput();
            assert.equal(
              await emergencyCli(
                ["terminate-idle", "--older-than", "1s", "--yes"],
                spared.output,
                env,
              ),
              0,
            );
            assert.match(spared.text(), new RegExp(`Left alone: pid ${young.pid} `));
            assert.ok(await isAlive(young.pid));

            // --include-ops still asks first.
            await assert.rejects(
              emergencyCli(
                ["terminate-idle", "--older-than", "1s", "--include-ops"],
                captureOutput().output,
                env,
              ),
              /refusing to terminate these 1 session\(s\)/,
            );
            assert.ok(await isAlive(young.pid));
            const included = captureOutput();
            assert.equal(
              await emergencyCli(
                ["terminate-idle", "--older-than", "1s", "--include-ops", "--yes", "--json"],
                included.output,
                env,
              ),
              0,
            );
            const all = JSON.parse(included.stdout.join(""));
            assert.deepEqual(all.terminated, [young.pid]);
            assert.deepEqual(all.spared, []);
            assert.match(included.stderr.join(""), new RegExp(`pid ${young.pid} .*--include-ops`));
            assert.equal(await isAlive(young.pid), false);
          } finally {
            for (const { pool, session } of [hung, young]) {
              session.release();
              await pool.end({ timeout: 1 });
            }
          }
        },
      );

      await t.step("flush-cache deletes only the platform's fp: keys", async () => {
        for (let i = 0; i < 1200; i++) await redis.set(`fp:users:profile:${i}`, "x");
        await redis.set("fp:tasks:list", "y");
        await redis.set("other-app:session:1", "keep");
        await redis.set("fpx:not-ours", "keep");

        await assert.rejects(
          emergencyCli(["flush-cache"], captureOutput().output, env),
          /refusing to delete 1,201 fp:\* key/,
        );
        assert.equal(await redis.dbsize(), 1203);

        const asked = captureOutput({ interactive: true, answers: ["no"] });
        await assert.rejects(
          emergencyCli(["flush-cache"], asked.output, env),
          /aborted by the operator/,
        );
        assert.equal(await redis.dbsize(), 1203);

        const cap = captureOutput({ interactive: true, answers: ["yes"] });
        assert.equal(await emergencyCli(["flush-cache"], cap.output, env), 0);
        assert.match(
          cap.text(),
          /1,201 platform key\(s\) \(fp:\*\) in redis:\/\/127\.0\.0\.1:\d+: fp:users:\* 1,200, fp:tasks:\* 1/,
        );
        assert.match(
          cap.text(),
          /2 other key\(s\) in this database are not touched \(no FLUSHDB\)/,
        );
        assert.match(cap.text(), /Deleted 1,201 key\(s\) under fp:; 2 key\(s\) remain/);
        assert.deepEqual((await redis.keys("*")).sort(), ["fpx:not-ours", "other-app:session:1"]);
      });

      await t.step("purge-stream empties TASKS and nothing else", async () => {
        await ensurePlatformStreams(nc);
        const js = jetstream(nc);
        for (let i = 0; i < 10; i++) {
          await js.publish("task.created", JSON.stringify({ task_id: `t${i}` }));
        }
        await js.publish("proposal.created", JSON.stringify({ proposal_id: "p1" }));
        const jsm = await jetstreamManager(nc);
        await jsm.consumers.add("TASKS", { durable_name: "orchestrator" });

        await assert.rejects(
          emergencyCli(["purge-stream"], captureOutput().output, env),
          /refusing to purge the 10 message\(s\) of stream TASKS \(sequences up to 10\)/,
        );
        assert.equal((await jsm.streams.info("TASKS")).state.messages, 10);

        const cap = captureOutput();
        assert.equal(await emergencyCli(["purge-stream", "--yes"], cap.output, env), 0);
        assert.match(cap.text(), /Stream TASKS: 10 message\(s\)/);
        assert.match(cap.text(), /consumer orchestrator: 10 not yet delivered/);
        assert.match(cap.text(), /nothing re-sends them/);
        assert.match(cap.text(), /Unmatched tasks whose task.created is purged are never matched/);
        assert.match(
          cap.text(),
          /Purged 10 message\(s\) from stream TASKS \(sequences up to 10\); 0 message\(s\) remain\./,
        );
        assert.equal((await jsm.streams.info("TASKS")).state.messages, 0);
        assert.equal((await jsm.streams.info("PROPOSALS")).state.messages, 1);

        const again = captureOutput();
        assert.equal(await emergencyCli(["purge-stream", "--yes"], again.output, env), 0);
        assert.match(again.text(), /Stream TASKS is empty\. Nothing to do\./);
      });

      await t.step("purge-stream keeps what was published after the listing", async () => {
        const js = jetstream(nc);
        const jsm = await jetstreamManager(nc);
        for (let i = 0; i < 4; i++) {
          await js.publish("task.created", JSON.stringify({ task_id: `old${i}` }));
        }
        const before = await describeStream(jsm, "TASKS");
        assert.equal(before.messages, 4);
        // While the operator reads and answers, the services keep publishing.
        for (let i = 0; i < 3; i++) {
          await js.publish("task.created", JSON.stringify({ task_id: `new${i}` }));
        }
        const outcome = await purgeStream(jsm, "TASKS", before.lastSeq);
        assert.equal(outcome.purged, 4);
        assert.equal(outcome.remaining, 3);
        assert.equal(outcome.firstSeq, before.lastSeq + 1);
        const kept = await jsm.streams.getMessage("TASKS", { seq: outcome.firstSeq });
        assert.equal(kept?.json<{ task_id: string }>().task_id, "new0");

        const cap = captureOutput();
        assert.equal(await emergencyCli(["purge-stream", "--yes"], cap.output, env), 0);
        assert.match(cap.text(), /Purged 3 message\(s\) .*; 0 message\(s\) remain\./);
      });

      await t.step("bad usage is refused with exit code 64", async () => {
        for (
          const args of [
            // (no command shows the contacts and the commands: ops/contacts_test.ts)
            ["flush"],
            ["purge-stream", "--stream", "USERS"],
            ["terminate-idle", "--older-than", "soon"],
            ["terminate-idle", "--spare-ops-for", "long"],
            ["terminate-idle", "--include-ops", "--spare-ops-for", "1h"],
            ["flush-cache", "--include-ops"],
            ["purge-stream", "--spare-ops-for", "1h"],
          ]
        ) {
          await assert.rejects(
            emergencyCli(args, captureOutput().output, env),
            (e: Error) => e instanceof UsageError && e.exitCode === 64,
          );
        }
      });

      await t.step("unreachable servers are clear errors", async () => {
        await assert.rejects(
          emergencyCli(["flush-cache", "--yes"], captureOutput().output, {
            ...env,
            REDIS_URL: "redis://:pw@127.0.0.1:1",
          }),
          (e: Error) =>
            /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1/.test(e.message) &&
            !e.message.includes("pw@"),
        );
        await assert.rejects(
          emergencyCli(["purge-stream", "--yes"], captureOutput().output, {
            ...env,
            NATS_URL: "nats://127.0.0.1:1",
          }),
          /cannot reach NATS at nats:\/\/127\.0\.0\.1:1/,
        );
      });
    } finally {
      redis.disconnect();
      await nc.close();
      await Promise.all([db.close(), nats.destroy(), redisServer.stop()]);
    }
  },
});
