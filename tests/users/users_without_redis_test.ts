/**
 * Started without Redis (as `deno task start` does on a machine that has none): the User Service
 * serves from PostgreSQL, /health says degraded with 200, and the log says so once, not once per
 * request or per reconnect attempt; when Redis appears, it says that once too.
 */
import assert from "node:assert/strict";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { ServiceProcess } from "../harness/service_process.ts";
import { signUp, TEST_SECRET } from "./users_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("without Redis the User Service runs degraded and says so once", opts, async () => {
  const pg = await PostgresServer.start();
  // A port where Redis will appear later: started, then stopped before the service starts.
  const redis = await RedisServer.start();
  await redis.stop();
  const users = await ServiceProcess.start("users", {
    DATABASE_URL: await pg.createDatabase("freelance_platform"),
    REDIS_URL: redis.url,
    JWT_SECRETS: TEST_SECRET,
  });
  try {
    const dev = await signUp(users.url, "developer");
    for (let i = 0; i < 20; i++) await dev.client.getUser({ userId: dev.id });
    const health = await fetch(`${users.url}/health`);
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, "degraded");
    assert.equal(body.checks.redis, "unhealthy");
    // ioredis retries every 2 s at most; wait out a few attempts.
    await waitFor(() => said(users, /^redis unavailable: running degraded/) > 0, 10_000);
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(said(users, /^redis unavailable/), 1, "said once");
    assert.equal(said(users, /redis cache unavailable/), 0, "no warning per request");

    await redis.resume();
    await waitFor(() => said(users, /^redis answers again/) === 1, 20_000);
    await waitFor(
      async () => (await (await fetch(`${users.url}/health`)).json()).status === "healthy",
      10_000,
    );
  } finally {
    await users.stop();
    await redis.stop();
    await pg.destroy();
  }
});

function said(service: ServiceProcess, pattern: RegExp): number {
  return service.logs().filter((line) => pattern.test(String(line.msg))).length;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
