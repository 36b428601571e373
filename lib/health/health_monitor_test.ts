import assert from "node:assert/strict";
import { HealthMonitor } from "./health_monitor.ts";

const ok = async () => {};
const fail = () => Promise.reject(new Error("down"));
const hang = () => new Promise<void>(() => {});

Deno.test("all healthy is healthy", async () => {
  const report = await new HealthMonitor("v1", [{ name: "database", critical: true, check: ok }])
    .report();
  assert.equal(report.status, "healthy");
  assert.deepEqual(report.checks, { database: "healthy" });
  assert.equal(report.version, "v1");
});

Deno.test("a non-critical failure degrades, a critical one is unhealthy", async () => {
  const degraded = await new HealthMonitor("v1", [
    { name: "database", critical: true, check: ok },
    { name: "redis", critical: false, check: fail },
  ]).report();
  assert.equal(degraded.status, "degraded");
  assert.equal(degraded.checks.redis, "unhealthy");
  const unhealthy = await new HealthMonitor("v1", [
    { name: "database", critical: true, check: fail },
    { name: "redis", critical: false, check: ok },
  ]).report();
  assert.equal(unhealthy.status, "unhealthy");
});

Deno.test("a hanging check times out instead of hanging the report", async () => {
  const monitor = new HealthMonitor("v1", [{ name: "nats", critical: true, check: hang }], 50);
  const start = Date.now();
  const report = await monitor.report();
  assert.ok(Date.now() - start < 1000);
  assert.equal(report.checks.nats, "unhealthy");
  assert.match(monitor.failures().get("nats") ?? "", /no answer within 50ms/);
});

Deno.test("probes read a report at most maxAgeMs old; stale ones share one round of checks", async () => {
  let runs = 0;
  let healthy = true;
  const monitor = new HealthMonitor(
    "v1",
    [{
      name: "database",
      critical: true,
      check: async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 20));
        if (!healthy) throw new Error("down");
      },
    }],
    1000,
    200,
  );
  const first = await Promise.all(Array.from({ length: 50 }, () => monitor.report()));
  assert.equal(runs, 1, "fifty concurrent probes, one round of checks");
  assert.ok(first.every((r) => r.status === "healthy"));
  for (let i = 0; i < 20; i++) await monitor.status();
  assert.equal(runs, 1, "a fresh report costs no check");
  healthy = false;
  const lostAt = Date.now();
  while ((await monitor.status()) === "healthy") {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(
    Date.now() - lostAt < 200 + 20 + 100,
    "the lost dependency shows within maxAge + a check",
  );
  assert.equal((await monitor.report()).checks.database, "unhealthy");
  assert.ok(runs <= 3);
});
