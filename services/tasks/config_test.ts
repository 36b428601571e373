import assert from "node:assert/strict";
import { ConfigError } from "@platform/lib/config";
import { loadTasksConfig, parseDurationSeconds } from "./config.ts";

const base = { DATABASE_URL: "postgres://localhost/tasks" };

Deno.test("AUTO_APPROVE_AFTER: 7 days by default; s, m, h, d or seconds", () => {
  assert.equal(loadTasksConfig(base).autoApproveAfterSeconds, 7 * 86_400);
  assert.equal(loadTasksConfig(base).autoApproveSweepMs, 10_000);
  const cases: Array<[string, number]> = [
    ["7d", 604_800],
    ["36h", 129_600],
    ["90m", 5400],
    ["45s", 45],
    ["120", 120],
    [" 2d ", 172_800],
  ];
  for (const [value, seconds] of cases) {
    assert.equal(
      loadTasksConfig({ ...base, AUTO_APPROVE_AFTER: value }).autoApproveAfterSeconds,
      seconds,
    );
  }
});

Deno.test("a bad AUTO_APPROVE_AFTER stops the start, naming the variable", () => {
  for (const bad of ["0", "0d", "-1d", "1w", "1.5h", "soon", "366d", "9999999999"]) {
    assert.throws(
      () => parseDurationSeconds("AUTO_APPROVE_AFTER", bad),
      (e: Error) => e instanceof ConfigError && /^AUTO_APPROVE_AFTER=/.test(e.message),
      bad,
    );
  }
});
