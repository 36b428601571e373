import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { CoherentCache } from "@platform/lib/cache";
import { Logger } from "@platform/lib/log";
import { RedisServer } from "../../tests/harness/redis_server.ts";
import { flushMemoryCaches } from "./flush_cache.ts";

Deno.test(
  "flush-cache also empties the services' in-memory caches",
  { sanitizeOps: false, sanitizeResources: false },
  async () => {
    const redis = await RedisServer.start();
    const cache = new CoherentCache<string>({
      redisUrl: redis.url,
      channel: "fp:users:profile-invalidations",
      maxEntries: 10,
      ttlMs: 60_000,
    }, new Logger("test", "error"));
    const client = new Redis(redis.url);
    try {
      const deadline = Date.now() + 5000;
      while (!cache.synchronised() && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await cache.get("a", () => Promise.resolve("1"));
      assert.equal(cache.size, 1);
      const { channels, replicas } = await flushMemoryCaches(client, "fp:");
      assert.deepEqual(channels, ["fp:users:profile-invalidations"]);
      assert.equal(replicas, 1);
      while (cache.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(cache.size, 0);
    } finally {
      client.disconnect();
      cache.close();
      await redis.stop();
    }
  },
);
