import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { RedisServer } from "../../tests/harness/redis_server.ts";
import { WindowCounter } from "./window_counter.ts";

// A connection that never connects: every count falls back to memory.
const unreachable = () => new Redis("redis://127.0.0.1:1", { lazyConnect: true });

Deno.test("without Redis the counters count in memory, bounded by maxLocalKeys", async () => {
  let fallbacks = 0;
  const counter = new WindowCounter(unreachable(), {
    keyPrefix: "t:",
    maxLocalKeys: 3,
    onFallback: () => fallbacks++,
  });
  assert.deepEqual((await counter.hit("a", 60_000)).count, 1);
  assert.deepEqual((await counter.hit("a", 60_000)).count, 2);
  const peek = await counter.peek("a");
  assert.equal(peek.count, 2);
  assert.ok(peek.resetInMs > 59_000 && peek.resetInMs <= 60_000);
  for (const key of ["b", "c", "d", "e"]) await counter.hit(key, 60_000);
  assert.equal(counter.localKeys, 3);
  assert.equal((await counter.peek("a")).count, 0, "the least recently hit was dropped");
  assert.equal(fallbacks, 1, "the fallback is reported once per failure spell");
});

Deno.test("a window ends after windowMs", async () => {
  const counter = new WindowCounter(unreachable(), { keyPrefix: "t:" });
  await counter.hit("k", 30);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal((await counter.peek("k")).count, 0);
  assert.equal((await counter.hit("k", 30)).count, 1);
});

Deno.test("hits counted in memory while Redis was down add to Redis's once it is back", async () => {
  const redis = await RedisServer.start();
  const client = new Redis(redis.url, { lazyConnect: true, enableOfflineQueue: false });
  try {
    const counter = new WindowCounter(client, { keyPrefix: `t${crypto.randomUUID()}:` });
    await counter.hit("k", 60_000); // not connected yet: memory
    await counter.hit("k", 60_000);
    await client.connect();
    assert.equal((await counter.hit("k", 60_000)).count, 3, "1 in Redis + 2 in memory");
    assert.equal((await counter.peek("k")).count, 3);
  } finally {
    client.disconnect();
    await redis.stop();
  }
});
