/**
 * Faults while the User Service runs: Redis stopped or frozen, then PostgreSQL stopped. The
 * service keeps answering what it can, says so on /health, and recovers without a restart.
 */
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { signUp, startUsersEnv } from "./users_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function health(url: string) {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: await res.json() };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
}

Deno.test(
  "Redis down or frozen: degraded, still answering from PostgreSQL; then PostgreSQL down: unavailable; both recover",
  opts,
  async () => {
    const env = await startUsersEnv({
      HEALTH_CHECK_TIMEOUT_MS: "500",
      DB_QUERY_TIMEOUT_MS: "1000",
    });
    const url = env.users.url;
    try {
      const dev = await signUp(url, "developer");
      await dev.client.getUser({ userId: dev.id }); // now cached

      // Redis stopped.
      await env.redis.stop();
      const down = await health(url);
      assert.equal(down.status, 200);
      assert.equal(down.body.status, "degraded");
      assert.equal(down.body.checks.redis, "unhealthy");
      await dev.client.updateProfile({ displayName: "changed while redis was down" });
      const read = await timed(() => dev.client.getUser({ userId: dev.id }));
      assert.equal(read.value.user?.displayName, "changed while redis was down");
      assert.ok(read.ms < 500, `GetUser took ${read.ms} ms with Redis down`);

      // Redis back (empty): healthy again, and nothing stale is served.
      await env.redis.resume();
      await waitFor(async () => (await health(url)).body.status === "healthy", 10_000);
      assert.equal(
        (await dev.client.getUser({ userId: dev.id })).user?.displayName,
        "changed while redis was down",
      );

      // Redis frozen (accepts, never answers): requests stay fast, /health does not hang.
      await dev.client.getUser({ userId: dev.id }); // cache the current value
      env.redis.pause();
      await dev.client.updateProfile({ displayName: "changed while redis was frozen" });
      const frozenRead = await timed(() => dev.client.getUser({ userId: dev.id }));
      assert.equal(frozenRead.value.user?.displayName, "changed while redis was frozen");
      assert.ok(frozenRead.ms < 500, `GetUser took ${frozenRead.ms} ms with Redis frozen`);
      // /health answers from a report at most ~1 s old: the freeze shows within 2 s, and no
      // probe waits longer than one round of checks.
      const frozenAt = performance.now();
      for (;;) {
        const frozenHealth = await timed(() => health(url));
        assert.ok(frozenHealth.ms < 1500, `/health took ${frozenHealth.ms} ms`);
        if (frozenHealth.value.body.status === "degraded") break;
        assert.ok(performance.now() - frozenAt < 2500, "the frozen Redis did not show within 2 s");
        await new Promise((r) => setTimeout(r, 50));
      }
      env.redis.unpause();
      // The invalidation that could not be sent is sent once Redis answers: no stale read.
      await waitFor(async () => (await health(url)).body.status === "healthy", 10_000);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(
        (await dev.client.getUser({ userId: dev.id })).user?.displayName,
        "changed while redis was frozen",
      );

      // PostgreSQL stopped: unhealthy (503) and calls that need it are unavailable, not internal.
      await env.pg.stop();
      const dbDown = await timed(() => health(url));
      assert.equal(dbDown.value.status, 503);
      assert.equal(dbDown.value.body.status, "unhealthy");
      assert.equal(dbDown.value.body.checks.database, "unhealthy");
      assert.ok(dbDown.ms < 2000, `/health took ${dbDown.ms} ms`);
      await assert.rejects(
        dev.client.updateProfile({ bio: "no database" }),
        (e: ConnectError) => e.code === Code.Unavailable,
      );
      assert.equal((await fetch(`${url}/livez`)).status, 200);

      // PostgreSQL back: recovery without restarting the service.
      await env.pg.resume();
      await waitFor(async () => (await health(url)).status === 200, 20_000);
      const after = await dev.client.updateProfile({ bio: "database is back" });
      assert.equal(after.user?.bio, "database is back");
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      assert.ok(
        !/grpc_code="Internal"/.test(metrics),
        "a dependency failure was answered internal",
      );
    } finally {
      env.redis.unpause();
      await env.stop();
    }
  },
);

Deno.test("SIGTERM drains and exits 0", opts, async () => {
  const env = await startUsersEnv();
  try {
    const dev = await signUp(env.users.url, "developer");
    await dev.client.goOnline({});
    const status = await env.users.stop();
    assert.equal(status.code, 0);
    const messages = env.users.logs().map((l) => l.msg);
    assert.ok(messages.includes("shutting down"));
    assert.ok(messages.includes("stopped"));
  } finally {
    await env.redis.stop();
    await env.pg.destroy();
  }
});

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch { /* keep trying */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
