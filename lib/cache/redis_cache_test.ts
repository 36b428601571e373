import assert from "node:assert/strict";
import { RedisServer } from "../../tests/harness/redis_server.ts";
import { Logger } from "../log/logger.ts";
import { RedisCache } from "./redis_cache.ts";

Deno.test(
  "an invalidation keeps a slow reader from caching the old value; keys stay in their prefix",
  {
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const redis = await RedisServer.start();
    const cache = new RedisCache(
      redis.url,
      { keyPrefix: "fp:test:", tombstoneSeconds: 2 },
      new Logger("t", "error"),
    );
    try {
      await waitReady(cache);
      await cache.set("user:1", { name: "old" }, 60);
      assert.deepEqual(await cache.get("user:1"), { name: "old" });
      // A reader fetched the old row; meanwhile the row is updated and the key invalidated.
      await cache.delete("user:1");
      await cache.set("user:1", { name: "old" }, 60); // the slow reader's write arrives late
      assert.equal(await cache.get("user:1"), undefined, "the stale value was cached again");
      await new Promise((r) => setTimeout(r, 2100)); // tombstone expires
      await cache.set("user:1", { name: "new" }, 60);
      assert.deepEqual(await cache.get("user:1"), { name: "new" });
      await cache.client.set("other:key", "not ours");
      assert.equal(await cache.clear(), 1);
      assert.equal(await cache.client.get("other:key"), "not ours");
    } finally {
      cache.close();
      await redis.stop();
    }
  },
);

async function waitReady(cache: RedisCache) {
  for (let i = 0; i < 50 && cache.client.status !== "ready"; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
