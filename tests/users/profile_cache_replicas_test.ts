/**
 * The profile cache across two User Service replicas sharing PostgreSQL and Redis: an
 * UpdateProfile acknowledged by one replica is never served stale by the other more than 100 ms
 * later, GetUser hits cost no database read, and with Redis frozen the other replica stops
 * serving from memory (a change it was never told about shows at once).
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { UserService } from "@platform/proto/users/v1";
import { PostgresServer } from "../harness/postgres_server.ts";
import { RedisServer } from "../harness/redis_server.ts";
import { rpcClient } from "../harness/rpc_clients.ts";
import { ServiceProcess } from "../harness/service_process.ts";
import { signUp, TEST_SECRET } from "./users_env.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const [pg, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
const databaseUrl = await pg.createDatabase("freelance_platform");
const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, JWT_SECRETS: TEST_SECRET };
const a = await ServiceProcess.start("users", env);
const b = await ServiceProcess.start("users", env);
const sql = postgres(databaseUrl, { max: 1 });

globalThis.addEventListener("unload", () => {
  void sql.end();
});

async function metric(url: string, name: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

async function until(what: string, test: () => Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test(
  "an update acknowledged by replica A is never served stale by replica B 100 ms later",
  opts,
  async () => {
    const dev = await signUp(a.url, "developer");
    const onA = rpcClient(UserService, a.url, undefined, dev.token);
    const onB = rpcClient(UserService, b.url, undefined, dev.token);
    await until(
      "B serves from memory",
      async () => (await metric(b.url, "profile_cache_synchronised")) === 1,
    );
    const hitsBefore = await metric(b.url, "profile_cache_hits_total");

    const reads: Array<{ start: number; bio: string }> = [];
    let reading = true;
    const readers = Array.from({ length: 4 }, async () => {
      while (reading) {
        const start = performance.now();
        const { user } = await onB.getUser({ userId: dev.id });
        reads.push({ start, bio: user?.bio ?? "" });
      }
    });
    const updates: Array<{ sent: number; acked: number; bio: string }> = [];
    await onB.getUser({ userId: dev.id });
    for (let i = 0; i < 30; i++) {
      const bio = `version ${i}`;
      const sent = performance.now();
      await onA.updateProfile({ bio });
      updates.push({ sent, acked: performance.now(), bio });
      await new Promise((r) => setTimeout(r, 120 + (i % 5) * 10));
    }
    reading = false;
    await Promise.all(readers);

    let checked = 0;
    for (let i = 0; i < updates.length; i++) {
      const from = updates[i].acked + 100;
      const to = i + 1 < updates.length ? updates[i + 1].sent : Infinity;
      for (const read of reads) {
        if (read.start < from || read.start >= to) continue;
        checked++;
        // The read may overlap the next update and see it; it must never see an older version.
        const seen = Number(/version (\d+)/.exec(read.bio)?.[1] ?? -1);
        assert.ok(
          seen >= i,
          `a GetUser on B started ${(read.start - updates[i].acked).toFixed(1)} ms after ` +
            `A acknowledged "${updates[i].bio}" answered "${read.bio}"`,
        );
      }
    }
    assert.ok(checked > 100, `only ${checked} reads fell after the 100 ms bound`);
    const hits = (await metric(b.url, "profile_cache_hits_total")) - hitsBefore;
    assert.ok(hits > reads.length / 2, `${hits} of ${reads.length} reads on B hit memory`);
  },
);

Deno.test(
  "Redis frozen: replica B stops serving from memory, then serves it again",
  opts,
  async () => {
    const dev = await signUp(a.url, "developer");
    const onB = rpcClient(UserService, b.url, undefined, dev.token);
    await until(
      "B serves from memory",
      async () => (await metric(b.url, "profile_cache_synchronised")) === 1,
    );
    await onB.getUser({ userId: dev.id });
    assert.equal((await onB.getUser({ userId: dev.id })).user?.bio, "");
    redis.pause();
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await metric(b.url, "profile_cache_synchronised"), 0);
      // A change no replica announced (written behind their backs) shows at once.
      await sql`UPDATE users SET bio = 'written while redis was frozen' WHERE id = ${dev.id}`;
      assert.equal(
        (await onB.getUser({ userId: dev.id })).user?.bio,
        "written while redis was frozen",
      );
    } finally {
      redis.unpause();
    }
    await until(
      "B serves from memory again",
      async () => (await metric(b.url, "profile_cache_synchronised")) === 1,
    );
    const hits = await metric(b.url, "profile_cache_hits_total");
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await onB.getUser({ userId: dev.id })).user?.bio,
        "written while redis was frozen",
      );
    }
    assert.ok((await metric(b.url, "profile_cache_hits_total")) > hits, "memory serves again");
  },
);

Deno.test("stop the replicas", opts, async () => {
  await Promise.all([a.stop(), b.stop()]);
  await redis.stop();
  await pg.destroy();
});
