/**
 * Doctor against real PostgreSQL (platform schema and data), NATS JetStream and Redis, with
 * stand-in services: it reports what is there, and finds and explains problems.
 */
import assert from "node:assert/strict";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { ensurePlatformStreams } from "@platform/lib/events";
import { NatsServer } from "../tests/harness/nats_server.ts";
import { RedisServer } from "../tests/harness/redis_server.ts";
import postgres from "postgres";
import { doctorCli } from "./doctor.ts";
import { checkIdleInTransaction } from "./doctor/checks/database.ts";
import type { DoctorReport } from "./doctor/run_doctor.ts";
import { captureOutput } from "./shared/output.ts";
import { deadUrl, startFakeService } from "./testing/fake_service.ts";
import { client, seedPlatform, startPlatformDb } from "./testing/platform_db.ts";

function find(report: DoctorReport, group: string, check: string) {
  const finding = report.findings.find((f) => f.group === group && f.check === check);
  assert.ok(
    finding,
    `no finding ${group}/${check} in ${JSON.stringify(report.findings.map((f) => f.check))}`,
  );
  return finding;
}

Deno.test({
  name: "doctor",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const [db, nats, redisServer] = await Promise.all([
      startPlatformDb(),
      NatsServer.start(),
      RedisServer.start(),
    ]);
    const services = [
      startFakeService("healthy"),
      startFakeService("healthy"),
      startFakeService("healthy"),
    ];
    const nc = await connect({ servers: nats.url });
    const redis = new Redis(redisServer.url);
    try {
      await seedPlatform(db.sql, { users: 40, tasks: 300 });
      await db.sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
      await ensurePlatformStreams(nc);
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.add("TASKS", {
        durable_name: "orchestrator",
        ack_policy: AckPolicy.Explicit,
      });
      const js = jetstream(nc);
      for (let i = 0; i < 7; i++) {
        await js.publish("task.created", JSON.stringify({ task_id: `t${i}` }));
      }
      await redis.set("fp:users:profile:1", "x");
      const env = {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        REDIS_URL: redisServer.url,
        USERS_URL: services[0].url,
        TASKS_URL: services[1].url,
        ORCHESTRATOR_URL: services[2].url,
      };
      const [expected] = await db.sql<{ online: string; open: string; recent: string }[]>`
        SELECT (SELECT count(*) FROM users WHERE is_online = true) AS online,
               (SELECT count(*) FROM tasks WHERE status = 'OPEN') AS open,
               (SELECT count(*) FROM proposals WHERE created_at > NOW() - INTERVAL '1 hour') AS recent`;

      await t.step("reports what is there; healthy exits 0", async () => {
        const cap = captureOutput();
        const code = await doctorCli(["--json"], cap.output, env);
        const report: DoctorReport = JSON.parse(cap.stdout.join(""));
        assert.equal(
          report.verdict,
          "HEALTHY",
          JSON.stringify(
            report.findings.filter((f) => f.status !== "ok" && f.status !== "info"),
            null,
            1,
          ),
        );
        assert.equal(code, 0);
        assert.equal(find(report, "services", "users").status, "ok");
        assert.equal(
          (find(report, "platform", "online users").data as { count: number }).count,
          Number(expected.online),
        );
        assert.equal(
          (find(report, "platform", "open tasks").data as { count: number }).count,
          Number(expected.open),
        );
        assert.equal(
          (find(report, "platform", "proposals last hour").data as { count: number }).count,
          Number(expected.recent),
        );
        assert.ok(Number(expected.online) > 0 && Number(expected.recent) > 0);
        assert.match(
          find(report, "database", "connections").summary,
          /^\d+ of max_connections 300 in use/,
        );
        assert.equal(find(report, "database", "slow queries").status, "ok");
        assert.match(find(report, "nats", "stream TASKS").summary, /^7 messages/);
        assert.deepEqual(
          find(report, "nats", "consumer TASKS/orchestrator").data,
          {
            stream: "TASKS",
            consumer: "orchestrator",
            pending: 7,
            ackPending: 0,
            redelivered: 0,
            waiting: 0,
          },
        );
        assert.match(find(report, "redis", "memory").summary, /used of no maxmemory limit, 1 keys/);
        assert.match(find(report, "database", "sizes").details!.join("\n"), /tasks: /);

        const text = captureOutput();
        assert.equal(await doctorCli([], text.output, env), 0);
        assert.match(
          text.text(),
          /\[ OK \] users\s+healthy v1\.0\.0, up 1h2m3s \(database healthy, redis healthy\)/,
        );
        assert.match(text.text(), /\[INFO\] open tasks\s+\d+/);
        assert.match(text.text(), /Verdict: HEALTHY \(no problems found\)/);
      });

      await t.step("finds problems, says what to do, exits 2 when critical", async () => {
        services[1].set("degraded");
        const locker = client(db.url, 1);
        const waiter = client(db.url, 1);
        const reserved = await locker.reserve();
        await reserved`BEGIN`;
        await reserved`LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE`;
        const blocked = waiter`SELECT count(*) FROM tasks`.catch(() => {});
        await new Promise((r) => setTimeout(r, 200));
        try {
          const cap = captureOutput();
          const code = await doctorCli([], cap.output, {
            ...env,
            ORCHESTRATOR_URL: deadUrl(),
            REDIS_URL: deadUrl("redis"),
          });
          const text = cap.text();
          assert.equal(code, 2, text);
          assert.match(text, /\[WARN\] tasks\s+degraded .*redis unhealthy/);
          assert.match(
            text,
            /\[FAIL\] orchestrator\s+http:\/\/127\.0\.0\.1:\d+\/health unreachable: tcp connect error: Connection refused/,
          );
          assert.match(text, /\[WARN\] blocked locks\s+1 session\(s\) wait for a lock held by \d+/);
          assert.match(text, /\[WARN\] open tasks\s+cannot count: .*lock timeout/);
          assert.match(text, /\[WARN\] memory\s+cannot reach Redis/);
          assert.match(text, /Verdict: UNHEALTHY \(1 critical, \d+ warnings\)/);
          assert.match(text, /What to do:/);
          assert.match(text, /docker compose logs orchestrator --tail 100/);
          assert.match(text, /SELECT pg_terminate_backend\(<blocking pid>\);/);
        } finally {
          await reserved`ROLLBACK`;
          reserved.release();
          await blocked;
          await locker.end();
          await waiter.end();
          services[1].set("healthy");
        }
        // Warnings only: exit 1.
        const cap = captureOutput();
        assert.equal(
          await doctorCli(["--skip", "services"], cap.output, {
            ...env,
            REDIS_URL: deadUrl("redis"),
          }),
          1,
        );
        assert.match(cap.text(), /Verdict: DEGRADED/);
        // Trouble found: the report ends with who to call (the shipped contacts file).
        assert.match(cap.text(), /Emergency contacts:\n\s+On-call Engineer\s+\+1-555-0123/);
      });

      await t.step(
        "idle in transaction: the ops programs' sessions are not a problem",
        async () => {
          const app = client(db.url, 1);
          const ops = postgres(db.url, {
            max: 1,
            onnotice: () => {},
            connection: { application_name: "fp-ops-backup" },
          });
          const a = await app.reserve();
          const o = await ops.reserve();
          try {
            await a`BEGIN`;
            await a`SELECT 1`;
            await o`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
            await o`SELECT pg_export_snapshot()`;
            const [{ pid: appPid }] = await a<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
            await new Promise((r) => setTimeout(r, 1200));
            let finding = await checkIdleInTransaction(db.sql, 1000);
            assert.equal(finding.status, "warn");
            assert.match(
              finding.summary,
              /^1 session\(s\) idle in a transaction for over 1\.0s \(besides 1 of the ops programs, left alone\)$/,
            );
            assert.match(finding.details![0], new RegExp(`^pid ${appPid} `));
            assert.match(finding.details![1], /\(fp-ops-backup\) idle .*an ops program's session/);
            await a`ROLLBACK`;
            finding = await checkIdleInTransaction(db.sql, 1000);
            assert.equal(finding.status, "ok");
            assert.match(finding.summary, /besides 1 of the ops programs/);
          } finally {
            await a`ROLLBACK`.catch(() => {});
            await o`ROLLBACK`.catch(() => {});
            a.release();
            o.release();
            await app.end();
            await ops.end();
          }
        },
      );

      await t.step(
        "idle in transaction: an ops session past its bound is a problem",
        async () => {
          const ops = postgres(db.url, {
            max: 1,
            onnotice: () => {},
            connection: { application_name: "fp-ops-backup" },
          });
          const o = await ops.reserve();
          try {
            await o`BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY`;
            const [{ pid }] = await o<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
            await new Promise((r) => setTimeout(r, 2200));
            // Within the bound: listed, no problem.
            let finding = await checkIdleInTransaction(db.sql, 1000, 60_000);
            assert.equal(finding.status, "ok");
            assert.match(finding.summary, /besides 1 of the ops programs, left alone/);
            // Past the bound: presumed stuck, a warning with the action.
            finding = await checkIdleInTransaction(db.sql, 1000, 2000);
            assert.equal(finding.status, "warn");
            assert.match(
              finding.summary,
              /^no session idle in a transaction for over 1\.0s; 1 of the ops programs in a transaction for over 2\.0s, presumed stuck$/,
            );
            assert.match(
              finding.details![0],
              new RegExp(`^pid ${pid} .*\\(fp-ops-backup\\).*presumed stuck`),
            );
            assert.equal(finding.action!.length, 1);
            assert.match(
              finding.action![0],
              new RegExp(
                `^stuck ops session\\(s\\) \\(pid ${pid}\\): stop that program.*terminate-idle`,
              ),
            );
          } finally {
            await o`ROLLBACK`.catch(() => {});
            o.release();
            await ops.end();
          }
        },
      );

      await t.step("without pg_stat_statements it says how to enable it", async () => {
        await db.sql`DROP EXTENSION pg_stat_statements`;
        const cap = captureOutput();
        await doctorCli(["--skip", "services,nats,redis"], cap.output, env);
        assert.match(cap.text(), /pg_stat_statements is not enabled/);
        assert.match(cap.text(), /CREATE EXTENSION pg_stat_statements;/);
      });

      await t.step("an unknown --skip group is a usage error", async () => {
        await assert.rejects(
          doctorCli(["--skip", "kafka"], captureOutput().output, env),
          /unknown group "kafka"/,
        );
      });
    } finally {
      redis.disconnect();
      await nc.close();
      await Promise.all(services.map((s) => s.close()));
      await Promise.all([db.close(), nats.destroy(), redisServer.stop()]);
    }
  },
});
