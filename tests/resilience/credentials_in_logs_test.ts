/**
 * Credentials in the services' URLs never reach their logs (issue 15: `USERS_URL` with
 * credentials was printed whole in the orchestrator's start line). Each service runs as a real
 * process with credentials in every URL it takes; no log line may hold one.
 */
import assert from "node:assert/strict";
import { PostgresServer } from "../harness/postgres_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const SECRETS = ["dbpass-7f3a", "natstoken-91c2", "redispass-55d0", "userspass-0b8e"];

Deno.test(
  "no credential of DATABASE_URL, NATS_URL, REDIS_URL or USERS_URL is logged",
  opts,
  async () => {
    const pg = await PostgresServer.start();
    try {
      await pg.createDatabase("freelance_platform");
      const sql = (await import("postgres")).default(pg.url("postgres"), { max: 1 });
      await sql.unsafe(`ALTER USER postgres PASSWORD '${SECRETS[0]}'`);
      await sql.end();
      const databaseUrl = `postgres://postgres:${
        SECRETS[0]
      }@127.0.0.1:${pg.port}/freelance_platform`;
      const env = {
        DATABASE_URL: databaseUrl,
        // Nothing listens there: the services log their retries, which must stay clean too.
        NATS_URL: `nats://${SECRETS[1]}@127.0.0.1:1`,
        REDIS_URL: `redis://default:${SECRETS[2]}@127.0.0.1:1`,
        USERS_URL: `http://svc:${SECRETS[3]}@127.0.0.1:1`,
        JWT_SECRETS: "credentials-test-secret-long-enough-0123456789",
        LOG_LEVEL: "debug",
      };
      await Promise.all(["users", "tasks", "orchestrator"].map(async (name) => {
        const service = await ServiceProcess.start(name, env);
        await new Promise((r) => setTimeout(r, 1500)); // a few retries of NATS and Redis
        await fetch(`${service.url}/health`).then((r) => r.body?.cancel());
        await service.stop();
        const lines = service.process.lines;
        assert.ok(
          lines.some((l) => l.includes('"msg":"starting"')),
          `${name} logged no start line`,
        );
        for (const line of lines) {
          for (const secret of SECRETS) {
            assert.ok(!line.includes(secret), `${name} logged a credential:\n${line}`);
          }
        }
      }));
    } finally {
      await pg.destroy();
    }
  },
);
