import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { Logger } from "../log/logger.ts";
import { RedisServer } from "../../tests/harness/redis_server.ts";
import { CoherentCache } from "./coherent_cache.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const logger = new Logger("test", "error");
const channel = "fp:test:invalidations";

function cacheOn(url: string) {
  return new CoherentCache<string>(
    { redisUrl: url, channel, maxEntries: 100, ttlMs: 60_000 },
    logger,
  );
}

async function until(what: string, test: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test(
  "a hit costs no load; misses are single-flighted; invalidations reach every replica",
  opts,
  async () => {
    const redis = await RedisServer.start();
    const a = cacheOn(redis.url);
    const b = cacheOn(redis.url);
    try {
      await until("both synchronised", () => a.synchronised() && b.synchronised());
      let loads = 0;
      let value = "v1";
      const load = async () => {
        loads++;
        await new Promise((r) => setTimeout(r, 20));
        return value;
      };
      const first = await Promise.all(Array.from({ length: 20 }, () => b.get("k", load)));
      assert.deepEqual(new Set(first), new Set(["v1"]));
      assert.equal(loads, 1, "twenty concurrent misses, one load");
      assert.equal(await b.get("k", load), "v1");
      assert.equal(loads, 1, "a hit does not load");
      value = "v2";
      await a.invalidate("k");
      await until("b dropped k", () => b.size === 0, 1000);
      assert.equal(await b.get("k", load), "v2");
      assert.ok(b.stats.hits >= 1);
    } finally {
      a.close();
      b.close();
      await redis.stop();
    }
  },
);

Deno.test("a load overtaken by an invalidation is handed out but not kept", opts, async () => {
  const redis = await RedisServer.start();
  const a = cacheOn(redis.url);
  const b = cacheOn(redis.url);
  try {
    await until("both synchronised", () => a.synchronised() && b.synchronised());
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const slow = b.get("k", async () => {
      await gate;
      return "old";
    });
    await a.invalidate("k");
    await new Promise((r) => setTimeout(r, 50));
    release();
    assert.equal(await slow, "old");
    assert.equal(b.size, 0, "the overtaken load was not cached");
    assert.equal(await b.get("k", () => Promise.resolve("new")), "new");
  } finally {
    a.close();
    b.close();
    await redis.stop();
  }
});

for (const fault of ["stopped", "restarted"] as const) {
  Deno.test(
    `Redis ${fault}: memory is not served until the cache has resynchronised`,
    opts,
    async () => {
      const redis = await RedisServer.start();
      const b = cacheOn(redis.url);
      try {
        await until("synchronised", () => b.synchronised());
        let source = "before";
        const load = () => Promise.resolve(source);
        assert.equal(await b.get("k", load), "before");
        assert.equal(b.size, 1);
        await redis.stop();
        await new Promise((r) => setTimeout(r, 150));
        assert.equal(b.synchronised(), false);
        // Changes made while the channel is down are announced to nobody: reads go to the source.
        source = "during";
        assert.equal(await b.get("k", load), "during");
        if (fault === "stopped") {
          source = "still down";
          assert.equal(await b.get("k", load), "still down");
          return;
        }
        await redis.resume();
        source = "after";
        await until("synchronised again", () => b.synchronised(), 10_000);
        assert.equal(await b.get("k", load), "after", "nothing from before the restart is served");
        assert.ok(b.stats.resyncs >= 1);
      } finally {
        b.close();
        await redis.stop();
      }
    },
  );
}

Deno.test(
  "Redis frozen: memory is not served, and an invalidation sent meanwhile lands before it is again",
  opts,
  async () => {
    const redis = await RedisServer.start();
    const a = cacheOn(redis.url);
    const b = cacheOn(redis.url);
    try {
      await until("synchronised", () => a.synchronised() && b.synchronised());
      let source = "before";
      const load = () => Promise.resolve(source);
      assert.equal(await b.get("k", load), "before");
      redis.pause();
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(b.synchronised(), false, "the lease lapsed");
      source = "changed";
      const started = performance.now();
      await a.invalidate("k"); // Redis does not answer: the writer stops waiting
      assert.ok(performance.now() - started < 1000);
      assert.equal(a.stats.publishFailures, 1);
      redis.unpause();
      await until("synchronised again", () => b.synchronised(), 10_000);
      assert.equal(await b.get("k", load), "changed", "the late invalidation came first");
    } finally {
      redis.unpause();
      a.close();
      b.close();
      await redis.stop();
    }
  },
);

Deno.test("an operator's flush (`*` on the channel) drops every entry", opts, async () => {
  const redis = await RedisServer.start();
  const b = cacheOn(redis.url);
  const raw = new Redis(redis.url);
  try {
    await until("synchronised", () => b.synchronised());
    await b.get("x", () => Promise.resolve("1"));
    await b.get("y", () => Promise.resolve("2"));
    assert.equal(b.size, 2);
    await raw.publish(channel, "*");
    await until("flushed", () => b.size === 0, 1000);
  } finally {
    raw.disconnect();
    b.close();
    await redis.stop();
  }
});
