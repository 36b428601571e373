import assert from "node:assert/strict";
import { KeyedLimiter } from "./keyed_limiter.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

Deno.test("at most `concurrency` jobs run at once", async () => {
  const limiter = new KeyedLimiter(3);
  let running = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, (_, i) =>
    limiter.run(`task-${i}`, async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    })));
  assert.equal(peak, 3);
  assert.equal(limiter.running, 0);
  assert.equal(limiter.keys, 0);
});

Deno.test("jobs of one key run one at a time in submission order, others pass them", async () => {
  const limiter = new KeyedLimiter(4);
  const order: string[] = [];
  const job = (name: string, ms: number) => async () => {
    order.push(`${name}:start`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`${name}:end`);
  };
  await Promise.all([
    limiter.run("a", job("created", 20)),
    limiter.run("a", job("updated", 1)),
    limiter.run("b", job("other", 1)),
    limiter.run("a", job("cancel", 1)),
  ]);
  const a = order.filter((e) => !e.startsWith("other"));
  assert.deepEqual(a, [
    "created:start",
    "created:end",
    "updated:start",
    "updated:end",
    "cancel:start",
    "cancel:end",
  ]);
  // The other task did not wait for task a's slow job.
  assert.ok(order.indexOf("other:end") < order.indexOf("created:end"));
});

Deno.test("a failed job frees its slot and does not block its key", async () => {
  const limiter = new KeyedLimiter(1);
  await assert.rejects(limiter.run("a", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await limiter.run("a", () => Promise.resolve(42)), 42);
  assert.equal(limiter.running, 0);
  assert.throws(() => new KeyedLimiter(0), RangeError);
});
