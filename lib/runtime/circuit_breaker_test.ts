/** The circuit breaker's states, on an injected clock. No servers. */
import assert from "node:assert/strict";
import { CircuitBreaker } from "./circuit_breaker.ts";

Deno.test("circuit breaker opens after the threshold, probes once after the cooldown", () => {
  let now = 0;
  const breaker = new CircuitBreaker(2, 1000, () => now);
  assert.ok(breaker.allow());
  breaker.failure();
  assert.equal(breaker.state, "closed");
  breaker.failure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.allow(), false);
  now = 1000;
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.allow(), true);
  assert.equal(breaker.allow(), false); // one probe at a time
  breaker.failure(); // probe failed: open again with a longer cooldown
  now = 2500;
  assert.equal(breaker.allow(), false);
  now = 3000;
  assert.equal(breaker.allow(), true);
  breaker.success();
  assert.equal(breaker.state, "closed");
  assert.ok(breaker.allow());
});
