/** Backoff delays and retry. No servers. */
import assert from "node:assert/strict";
import { backoffDelay, RetriesExhaustedError, retry } from "./backoff.ts";

Deno.test("backoffDelay grows by the factor up to the cap; jitter stays within 0.5..1.5", () => {
  const policy = { initialMs: 200, maxMs: 5000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy)), [
    200,
    400,
    800,
    1600,
    3200,
    5000,
    5000,
  ]);
  assert.equal(backoffDelay(2, { initialMs: 100, factor: 3 }), 900);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(1, { initialMs: 100, factor: 3, jitter: true });
    assert.ok(d >= 150 && d <= 450, String(d));
  }
});

Deno.test("retry: transient errors are retried, others thrown at once, exhaustion wrapped", async () => {
  let calls = 0;
  const transient = (error: unknown) => (error as Error).message === "busy";
  const backoff = { initialMs: 1 };
  assert.equal(
    await retry(() => ++calls < 3 ? Promise.reject(new Error("busy")) : Promise.resolve(7), {
      retries: 2,
      backoff,
      transient,
    }),
    7,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    retry(() => (calls++, Promise.reject(new Error("bad"))), { retries: 5, backoff, transient }),
    /^Error: bad$/,
  );
  assert.equal(calls, 1);
  const exhausted = await retry(() => Promise.reject(new Error("busy")), {
    retries: 1,
    backoff,
    transient,
  }).catch((e) => e);
  assert.ok(exhausted instanceof RetriesExhaustedError);
  assert.equal(exhausted.tries, 2);
  assert.equal((exhausted.cause as Error).message, "busy");
});
